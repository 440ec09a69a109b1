// A small federation with real keys, sealed checkpoints and epoch statements for the anchoring
// tests (not a test file itself).
import assert from 'node:assert/strict';
import {
  CosignatureSigner,
  RemembrancerError,
  addSignatures,
  base64Decode,
  base64Encode,
  buildEpochTree,
  bytesEqual,
  canonicalBytes,
  createGenesis,
  crypto,
  signCheckpoint,
  signEpochStatement,
  toHex,
  utf8Encode,
  type AnchorStrategy,
  type ErrorCode,
  type EpochLeaf,
  type EpochStatement,
  type EpochTree,
  type FederationReceipt,
  type Rfc3161Evidence,
  type FederationReceiptSignature,
  type FederationReceiptTrust,
  type RegistrySet,
} from '../../src/index.js';
import { alpha, beta, delta, gamma, makePeer, type TestPeer } from '../federation/peers.js';

export { alpha, beta, delta, gamma };
/** Suspended, probation, and an active peer without the anchor role: none of them signs epochs. */
export const epsilon = makePeer('epsilon', 5, { status: 'suspended' });
export const eta = makePeer('eta', 7, { status: 'probation' });
export const zeta = makePeer('zeta', 6, { roles: ['log', 'witness'] });
/** In no registry. */
export const omega = makePeer('omega', 9);

export const ANCHOR_SIGNERS = [alpha, beta, delta, gamma];

export function federation(strategy: AnchorStrategy = 'hybrid', version = 1): RegistrySet {
  const genesis = createGenesis({
    federation_id: 'vaultmesh-test',
    peers: [gamma.peer, alpha.peer, epsilon.peer, beta.peer, zeta.peer, delta.peer, eta.peer],
    quorum: { witness: 1, registry: 2 },
    anchor_strategy: strategy,
    effective_after: '2025-01-01T00:00:00Z',
  });
  // Later versions only differ in number here; the tests never chain them.
  return { ...genesis, version, prev: version === 1 ? null : 'ab'.repeat(32) };
}

export const registry = federation();

export const witnessSigner = (p: TestPeer) => new CosignatureSigner(`${p.id}/witness`, p.witnessSeed);

export interface SealOptions {
  cosigners?: readonly TestPeer[];
  allowlist?: readonly TestPeer[];
  min?: number;
  /** Cosignature time, POSIX seconds. */
  at?: number;
  /** The tree's root (default: a hash standing in for one). */
  root?: Uint8Array;
}

/** A sealed checkpoint of `owner`'s namespace `ns` at `size`, with the given cosignatures. */
export function sealedLeaf(owner: TestPeer, ns: string, size: number, opts: SealOptions = {}): EpochLeaf {
  const origin = `${owner.id}/${ns}`;
  const root = opts.root ?? crypto.sha256(utf8Encode(`${origin} ${size}`));
  let note = signCheckpoint({ origin, size, root }, owner.logSigner(ns));
  const body = note.slice(0, note.indexOf('\n\n') + 1);
  const cosigners = opts.cosigners ?? [beta, gamma];
  note = addSignatures(
    note,
    cosigners.map((w) => witnessSigner(w).cosign(body, opts.at ?? 1_740_000_000)),
  );
  const allowlist = (opts.allowlist ?? [beta, gamma, delta]).map((p) => p.id);
  return {
    origin,
    size,
    root: base64Encode(root),
    checkpoint: note,
    witness_policy: { min_required: opts.min ?? 2, allowlist },
  };
}

/** Leaves of four logs on three nodes. */
export function epochLeaves(): EpochLeaf[] {
  return [
    sealedLeaf(beta, 'dao:treasury', 12, { cosigners: [alpha, gamma], allowlist: [alpha, gamma] }),
    sealedLeaf(alpha, 'dao:vaultmesh', 7),
    sealedLeaf(gamma, 'acme:audit', 3, { cosigners: [alpha], allowlist: [alpha], min: 1 }),
    sealedLeaf(alpha, 'acme:audit', 40, { cosigners: [], allowlist: [], min: 0 }),
  ];
}

export const TARGET = 'rfc3161:local-tsa';

export function statementFor(
  tree: EpochTree,
  changes: Partial<EpochStatement> = {},
  reg: RegistrySet = registry,
): EpochStatement {
  return {
    format: 'vaultmesh.epoch@1',
    federation_id: reg.federation_id,
    registry_version: reg.version,
    target: TARGET,
    epoch: 480_000,
    mode: 'collaborative',
    node: null,
    tree_size: tree.size,
    root: tree.rootBase64,
    ...changes,
  };
}

export function signedBy(
  s: EpochStatement,
  signers: readonly TestPeer[],
  leader: TestPeer = signers[0]!,
): FederationReceiptSignature[] {
  return signers.map((p) => ({
    node: p.id,
    sig: signEpochStatement(s, p.authSeed),
    role: p === leader ? 'leader' : 'signer',
    timestamp: '2025-03-01T12:00:01Z',
  }));
}

/*
 * The anchor evidence verifier the tests inject: a stand-in TSA whose "token" is the bytes
 * `test-tsa\n` followed by the digest it timestamped. It checks the digest like a real token's
 * message imprint would, so only evidence made for this very statement passes.
 */
const TOKEN_PREFIX = utf8Encode('test-tsa\n');
export const ANCHOR_TIME = '2025-03-01T12:00:02Z';

export function testEvidence(digest: Uint8Array): Rfc3161Evidence {
  const token = new Uint8Array(TOKEN_PREFIX.length + digest.length);
  token.set(TOKEN_PREFIX);
  token.set(digest, TOKEN_PREFIX.length);
  return { type: 'rfc3161', policy: 'any', tokens: [base64Encode(token)] };
}

export function testAttestation(digest: Uint8Array) {
  return { tx_hash: toHex(crypto.sha256(digest)), block: null, timestamp: ANCHOR_TIME };
}

export function trustIn(registries: readonly RegistrySet[]): FederationReceiptTrust {
  return {
    registry: (version) => registries.find((r) => r.version === version),
    async verifyEvidence(evidence, digest, _receipt: FederationReceipt) {
      if (evidence.type !== 'rfc3161') throw new Error(`no test verifier for ${evidence.type} evidence`);
      const token = base64Decode(evidence.tokens[0]!);
      const expected = base64Decode(testEvidence(digest).tokens[0]!);
      if (!bytesEqual(token, expected)) throw new Error('message imprint mismatch: the token is for another digest');
      return testAttestation(digest);
    },
  };
}

/** Every leaf, the tree, a collaborative statement and the signatures of a quorum (3 of 4). */
export function anchoredEpoch(signers: readonly TestPeer[] = [alpha, beta, gamma]) {
  const leaves = epochLeaves();
  const tree = buildEpochTree(leaves);
  const statement = statementFor(tree);
  return { leaves, tree, statement, signatures: signedBy(statement, signers) };
}

/** A JSON round trip: what a receipt looks like to a verifier that reads it from a file. */
export const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export const digestHex = (s: EpochStatement) => toHex(crypto.sha256(canonicalBytes(s)));

/** The JSON pointer a parser's refusal names; fails the test if it accepts or throws anything else. */
export function refusedAt(parse: (v: unknown) => unknown, code: ErrorCode, value: unknown): string | undefined {
  try {
    parse(value);
  } catch (e) {
    assert.ok(e instanceof RemembrancerError && e.code === code, String(e));
    return e.pointer;
  }
  assert.fail(`accepted ${JSON.stringify(value).slice(0, 200)}`);
}
