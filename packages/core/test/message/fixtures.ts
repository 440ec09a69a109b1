// Shared by the message tests (not a test file itself): a source log holding a real message entry,
// its checkpoint signed by the log key and cosigned by federation witnesses, and the tlog-proof a
// source node would attach, all made with core's own signer and tree code.
import {
  CosignatureSigner,
  MemoryTree,
  NoteSigner,
  addSignatures,
  buildMessage,
  buildReceipt,
  canonicalBytes,
  formatCheckpoint,
  messageEntry,
  signCheckpoint,
  withProof,
  type BuildMessageInput,
  type CosignatureVerifier,
  type NamespaceMessage,
  type NoteSignature,
  type NoteVerifier,
  type VerifyMessageProofOptions,
} from '../../src/index.js';

export const sourceNode = 'alpha.vaultmesh.local';
export const source = { node: sourceNode, namespace: 'dao:sender' };
export const target = { node: 'beta.vaultmesh.local', namespace: 'app:inbox' };
export const sourceOrigin = `${source.node}/${source.namespace}`;

export const logSigner = new NoteSigner(sourceOrigin, new Uint8Array(32).fill(1));
export const [beta, gamma, delta] = ['beta', 'gamma', 'delta'].map(
  (n, i) => new CosignatureSigner(`${n}.vaultmesh.local/witness`, new Uint8Array(32).fill(40 + i)),
) as [CosignatureSigner, CosignatureSigner, CosignatureSigner];

/** 2025-03-01T12:00:00Z, when every fixture message was sent. */
export const SENT_MS = Date.UTC(2025, 2, 1, 12, 0, 0);

export function messageInput(overrides: Partial<BuildMessageInput> = {}): BuildMessageInput {
  return {
    source,
    target,
    action: 'invoke',
    operation: 'record',
    parameters: { invoice: 'INV-7', amount: { value: 1250, currency: 'EUR' }, lines: [1, 'two', null, true] },
    seq: 3,
    sentAt: new Date(SENT_MS),
    expiresAt: '2025-03-01T13:00:00Z',
    ...overrides,
  };
}

export interface SourceLog {
  readonly message: NamespaceMessage;
  /** The message with its proof, as it travels. */
  readonly travelling: NamespaceMessage;
  readonly index: number;
  readonly size: number;
  readonly tree: MemoryTree;
  /** The checkpoint note with its cosignatures. */
  readonly checkpoint: string;
  readonly proofText: string;
}

export interface SourceLogOptions {
  readonly message?: NamespaceMessage;
  /** Witnesses that cosign the checkpoint (default beta and gamma). */
  readonly cosigners?: readonly CosignatureSigner[];
  /** Extra signature lines added to the checkpoint note. */
  readonly extraSignatures?: readonly NoteSignature[];
  readonly signer?: NoteSigner;
  readonly origin?: string;
}

/**
 * A log of 11 entries whose entry 6 is the message (JCS of its entry), checkpointed at size 11 by
 * `signer` and cosigned; the proof is the tlog_proof of the entry's receipt, as a node builds it.
 */
export function sourceLog(options: SourceLogOptions = {}): SourceLog {
  const message = options.message ?? buildMessage(messageInput());
  const origin = options.origin ?? sourceOrigin;
  const signer = options.signer ?? logSigner;
  const index = 6;
  const tree = new MemoryTree();
  const entries = Array.from({ length: 11 }, (_, i) => (i === index ? messageEntry(message) : { memo: `entry ${i}` }));
  for (const e of entries) tree.append(canonicalBytes(e));
  const cp = { origin, size: tree.size, root: tree.root() };
  const body = formatCheckpoint(cp);
  const cosignatures = (options.cosigners ?? [beta, gamma]).map((w, i) => w.cosign(body, 1740830400 + i));
  const checkpoint = addSignatures(signCheckpoint(cp, signer), [...cosignatures, ...(options.extraSignatures ?? [])]);
  const receipt = buildReceipt({
    namespace: origin.slice(origin.indexOf('/') + 1),
    origin,
    index,
    entry: entries[index],
    proof: tree.inclusionProof(index, tree.size),
    checkpointNote: checkpoint,
  });
  return {
    message,
    travelling: withProof(message, receipt.tlog_proof),
    index,
    size: tree.size,
    tree,
    checkpoint,
    proofText: receipt.tlog_proof,
  };
}

export const logVerifier: NoteVerifier = logSigner.verifier();
export const witnessVerifiers: CosignatureVerifier[] = [beta.verifier(), gamma.verifier(), delta.verifier()];

/** What the target (beta's app:inbox) trusts: alpha's log key, three witnesses, two required. */
export function receiverOptions(overrides: Partial<VerifyMessageProofOptions> = {}): VerifyMessageProofOptions {
  return {
    logVerifiers: [logVerifier],
    witnessVerifiers,
    minWitnesses: 2,
    target,
    now: SENT_MS + 5_000,
    ...overrides,
  };
}

/** A JSON copy: what crosses the wire. */
export function json<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
