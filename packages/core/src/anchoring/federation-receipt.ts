import { RemembrancerError } from '../errors.js';
import { base64Encode } from '../encoding/index.js';
import { FEDERATION_ID_PATTERN, MAX_PEERS, NODE_NAME_PATTERN, type RegistrySet } from '../federation/registry-set.js';
import { NAMESPACE_ID_PATTERN } from '../namespace/namespace-id.js';
import {
  arrayOf,
  child,
  integerIn,
  objectWith,
  refuse,
  stringMatching,
  type JsonObject,
} from '../namespace/json-members.js';
import { MAX_TLOG_PROOF_HASHES } from '../tlog-proof/tlog-proof.js';
import { epochLeafMembers, type EpochLeaf } from './epoch-leaf.js';
import {
  anchorTarget,
  countEpochSignatures,
  epochStatementMembers,
  parseEpochStatement,
  requiredEpochSignatures,
  type EpochStatement,
} from './epoch-statement.js';
import type { EpochTree } from './epoch-tree.js';
import { chainEvidenceMembers, type ChainEvidence } from './chain-evidence.js';
import {
  base64Hash,
  base64Signature,
  codePointsAtMost,
  requireMembers,
  strictBase64,
  utcTimestamp,
} from './document-members.js';

/*
 * `federation.receipt@1.0.0` (schemas/federation.receipt@1.0.0.json): what every node gets for each
 * of its logs once an epoch is anchored. The members of the Phase V design (federation_id,
 * receipt_type, namespace, anchor, signatures, quorum_met, finalized_at) plus what an offline
 * verifier needs to follow the chain from a log's checkpoint to the anchor: the signed epoch
 * statement, the leaf with its checkpoint, its inclusion proof in the epoch tree, and the anchor
 * evidence. Receipts travel to third parties, so the parser treats them as attacker-controlled.
 */

export const FEDERATION_RECEIPT_FORMAT = 'federation.receipt@1.0.0';

export const SIGNATURE_ROLES = ['leader', 'signer'] as const;
export type FederationSignatureRole = (typeof SIGNATURE_ROLES)[number];
export const RFC3161_POLICIES = ['any', 'all'] as const;

/** Bounds of the anchor's identifiers: printable ASCII without spaces (hex hashes, decimal serials). */
export const ANCHOR_ID_PATTERN = /^[!-~]{1,256}$/;
/** Tokens per RFC 3161 anchor: one per TSA of the target. */
export const MAX_RFC3161_TOKENS = 16;
/** In base64 characters; a TimeStampToken with its signer's certificate chain is a few KiB. */
export const MAX_RFC3161_TOKEN_LENGTH = 65_536;

export interface FederationReceiptAnchor {
  /** The epoch root, standard base64 (equal to statement.root). */
  batch_root: string;
  target: string;
  /** The anchor's identifier at the target (for RFC 3161: see docs/anchoring.md). */
  tx_hash: string;
  block: string | null;
  /** RFC 3339 UTC time the target attests. */
  timestamp: string;
}

export interface FederationReceiptSignature {
  node: string;
  /** Standard base64 Ed25519 signature by the node's auth key over the epoch statement. */
  sig: string;
  /** `leader` for the node that published the anchor (exactly one), `signer` for the others. */
  role: FederationSignatureRole;
  /** When the node signed (RFC 3339 UTC); informational, not signed. */
  timestamp: string;
}

/** RFC 3161 anchor evidence: DER TimeStampTokens over epochStatementDigest, one per TSA (`all`) or one (`any`). */
export interface Rfc3161Evidence {
  type: 'rfc3161';
  policy: (typeof RFC3161_POLICIES)[number];
  /** Standard base64 of each DER TimeStampToken (RFC 3161 §2.4.2). */
  tokens: string[];
}

/** Anchor evidence by target kind (chain evidence: chain-evidence.ts). */
export type FederationReceiptEvidence = Rfc3161Evidence | ChainEvidence;

export interface FederationReceipt {
  format: typeof FEDERATION_RECEIPT_FORMAT;
  federation_id: string;
  receipt_type: 'anchor';
  /** The namespace of `leaf.origin` (its part after the first `/`). */
  namespace: string;
  anchor: FederationReceiptAnchor;
  signatures: FederationReceiptSignature[];
  quorum_met: boolean;
  /** RFC 3339 UTC. */
  finalized_at: string;
  statement: EpochStatement;
  leaf: EpochLeaf;
  leaf_index: number;
  /** base64 hashes: RFC 9162 §2.1.3 inclusion proof of the leaf in the epoch tree. */
  inclusion_proof: string[];
  evidence: FederationReceiptEvidence;
}

const E = 'FEDERATION_RECEIPT_MALFORMED' as const;
const MEMBERS = [
  'format',
  'federation_id',
  'receipt_type',
  'namespace',
  'anchor',
  'signatures',
  'quorum_met',
  'finalized_at',
  'statement',
  'leaf',
  'leaf_index',
  'inclusion_proof',
  'evidence',
];
const ANCHOR_MEMBERS = ['batch_root', 'target', 'tx_hash', 'block', 'timestamp'];
const SIGNATURE_MEMBERS = ['node', 'sig', 'role', 'timestamp'];
const RFC3161_MEMBERS = ['type', 'policy', 'tokens'];

function strict(value: unknown, pointer: string, members: readonly string[]): JsonObject {
  return requireMembers(E, objectWith(E, value, pointer, members), pointer, members);
}

function oneOf<T extends string>(value: unknown, pointer: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    refuse(E, pointer, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
  }
  return value as T;
}

function parseAnchor(value: unknown, pointer: string): FederationReceiptAnchor {
  const a = strict(value, pointer, ANCHOR_MEMBERS);
  const batch_root = base64Hash(E, a['batch_root'], child(pointer, 'batch_root'));
  // The same targets as an epoch statement (and a namespace's cadence) names.
  const target = anchorTarget(E, a['target'], child(pointer, 'target'));
  const tx_hash = stringMatching(
    E,
    a['tx_hash'],
    child(pointer, 'tx_hash'),
    ANCHOR_ID_PATTERN,
    '1 to 256 printable ASCII characters',
  );
  const block =
    a['block'] === null
      ? null
      : stringMatching(
          E,
          a['block'],
          child(pointer, 'block'),
          ANCHOR_ID_PATTERN,
          'null or 1 to 256 printable ASCII characters',
        );
  const timestamp = utcTimestamp(E, a['timestamp'], child(pointer, 'timestamp'));
  return { batch_root, target, tx_hash, block, timestamp };
}

function parseSignature(value: unknown, pointer: string): FederationReceiptSignature {
  const s = strict(value, pointer, SIGNATURE_MEMBERS);
  return {
    node: stringMatching(E, s['node'], child(pointer, 'node'), NODE_NAME_PATTERN, 'a node name'),
    sig: base64Signature(E, s['sig'], child(pointer, 'sig')),
    role: oneOf(s['role'], child(pointer, 'role'), SIGNATURE_ROLES),
    timestamp: utcTimestamp(E, s['timestamp'], child(pointer, 'timestamp')),
  };
}

function parseEvidence(value: unknown, pointer: string): FederationReceiptEvidence {
  const type = value !== null && typeof value === 'object' ? (value as JsonObject)['type'] : undefined;
  if (type === 'eip155' || type === 'btc') return chainEvidenceMembers(E, value, pointer, type);
  if (type !== 'rfc3161') refuse(E, child(pointer, 'type'), 'must be "rfc3161", "eip155" or "btc"');
  const ev = strict(value, pointer, RFC3161_MEMBERS);
  const policy = oneOf(ev['policy'], child(pointer, 'policy'), RFC3161_POLICIES);
  const tokensAt = child(pointer, 'tokens');
  const tokens = arrayOf(E, ev['tokens'], tokensAt, MAX_RFC3161_TOKENS, (v, at) => {
    if (typeof v !== 'string' || v === '' || !codePointsAtMost(v, MAX_RFC3161_TOKEN_LENGTH)) {
      refuse(E, at, `must be a base64 DER TimeStampToken of at most ${MAX_RFC3161_TOKEN_LENGTH} characters`);
    }
    return strictBase64(E, v, at, 'a DER TimeStampToken');
  });
  if (tokens.length === 0) refuse(E, tokensAt, 'must hold at least one token');
  return { type: 'rfc3161', policy, tokens };
}

/**
 * Checks a federation receipt (attacker-controlled) and returns a copy holding exactly its members.
 * Checks what the JSON Schema checks, plus what a schema cannot say: `namespace` is the namespace
 * of `leaf.origin`, timestamps name real calendar days, and an eip155 chain id is at most 2^53 - 1.
 * Nothing is verified; see verifyFederationReceipt. Throws FEDERATION_RECEIPT_MALFORMED with the
 * offending member's JSON pointer.
 */
export function parseFederationReceipt(value: unknown): FederationReceipt {
  const r = strict(value, '', MEMBERS);
  if (r['format'] !== FEDERATION_RECEIPT_FORMAT) refuse(E, '/format', `must be "${FEDERATION_RECEIPT_FORMAT}"`);
  const federation_id = stringMatching(
    E,
    r['federation_id'],
    '/federation_id',
    FEDERATION_ID_PATTERN,
    'a federation id',
  );
  if (r['receipt_type'] !== 'anchor') refuse(E, '/receipt_type', 'must be "anchor"');
  const namespace = stringMatching(E, r['namespace'], '/namespace', NAMESPACE_ID_PATTERN, 'a namespace id');
  const anchor = parseAnchor(r['anchor'], '/anchor');
  const signatures = arrayOf(E, r['signatures'], '/signatures', MAX_PEERS, parseSignature);
  if (signatures.length === 0) refuse(E, '/signatures', 'must hold at least one signature');
  const leaders = signatures.filter((s) => s.role === 'leader').length;
  if (leaders !== 1) refuse(E, '/signatures', `must name exactly one leader, not ${leaders}`);
  const quorum_met = r['quorum_met'];
  if (typeof quorum_met !== 'boolean') refuse(E, '/quorum_met', 'must be a boolean');
  const finalized_at = utcTimestamp(E, r['finalized_at'], '/finalized_at');
  const statement = epochStatementMembers(E, r['statement'], '/statement');
  const leaf = epochLeafMembers(E, r['leaf'], '/leaf');
  if (leaf.origin.slice(leaf.origin.indexOf('/') + 1) !== namespace) {
    refuse(E, '/namespace', `is not the namespace of the leaf's origin ${JSON.stringify(leaf.origin)}`);
  }
  const leaf_index = integerIn(E, r['leaf_index'], '/leaf_index', 0, Number.MAX_SAFE_INTEGER);
  const inclusion_proof = arrayOf(E, r['inclusion_proof'], '/inclusion_proof', MAX_TLOG_PROOF_HASHES, (v, at) =>
    base64Hash(E, v, at),
  );
  const evidence = parseEvidence(r['evidence'], '/evidence');
  return {
    format: FEDERATION_RECEIPT_FORMAT,
    federation_id,
    receipt_type: 'anchor',
    namespace,
    anchor,
    signatures,
    quorum_met,
    finalized_at,
    statement,
    leaf,
    leaf_index,
    inclusion_proof,
    evidence,
  };
}

export interface BuildFederationReceiptInput {
  /** The finalized statement; its root and tree_size are the tree's. */
  statement: EpochStatement;
  /** Every collected signature, each valid and by a distinct node, exactly one with role `leader`. */
  signatures: readonly FederationReceiptSignature[];
  tree: EpochTree;
  /** The log this receipt is for: one of the tree's leaves. */
  origin: string;
  /** What the target attests; batch_root and target come from the statement (and must equal it when given). */
  anchor: Pick<FederationReceiptAnchor, 'tx_hash' | 'block' | 'timestamp'> &
    Partial<Pick<FederationReceiptAnchor, 'batch_root' | 'target'>>;
  evidence: FederationReceiptEvidence;
  /** RFC 3339 UTC. */
  finalizedAt: string;
  /** The registry version the statement names: the signatures are counted against it. */
  registry: RegistrySet;
}

function badInput(why: string): never {
  throw new RemembrancerError('INVALID_ARGUMENT', `federation receipt: ${why}`);
}

/**
 * The federation receipt of one log of an anchored epoch. `quorum_met` is computed: the distinct
 * valid signatures reach requiredEpochSignatures. Signatures are sorted by node, so every node
 * holds the same list. Throws INVALID_ARGUMENT when the inputs disagree (root, size, origin not in
 * the tree, a signature that does not count, a node twice), EPOCH_STATEMENT_INVALID for a bad
 * statement, and FEDERATION_RECEIPT_MALFORMED when a member is out of form.
 */
export function buildFederationReceipt(input: BuildFederationReceiptInput): FederationReceipt {
  const { tree, registry } = input;
  const statement = parseEpochStatement(input.statement);
  if (statement.root !== tree.rootBase64 || statement.tree_size !== tree.size) {
    badInput(
      `the statement names root ${statement.root} of size ${statement.tree_size}, the tree is ${tree.rootBase64} of size ${tree.size}`,
    );
  }
  const { batch_root, target } = input.anchor;
  if (
    (batch_root !== undefined && batch_root !== statement.root) ||
    (target !== undefined && target !== statement.target)
  ) {
    badInput(
      `the anchor is of root ${batch_root} at ${target}, the statement of root ${statement.root} at ${statement.target}`,
    );
  }
  const index = tree.indexOfOrigin(input.origin);
  if (index < 0) badInput(`origin ${JSON.stringify(input.origin)} has no leaf in the epoch tree`);
  const signatures = [...input.signatures].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  signatures.forEach((s, i) => {
    if (i > 0 && signatures[i - 1]!.node === s.node) badInput(`node ${s.node} signed twice`);
  });
  const count = countEpochSignatures(statement, signatures, registry);
  if (count.invalid.length > 0) badInput(`the signatures of ${count.invalid.join(', ')} do not count`);
  const receipt = {
    format: FEDERATION_RECEIPT_FORMAT,
    federation_id: statement.federation_id,
    receipt_type: 'anchor',
    namespace: input.origin.slice(input.origin.indexOf('/') + 1),
    anchor: {
      batch_root: statement.root,
      target: statement.target,
      tx_hash: input.anchor.tx_hash,
      block: input.anchor.block,
      timestamp: input.anchor.timestamp,
    },
    signatures: signatures.map((s) => ({ node: s.node, sig: s.sig, role: s.role, timestamp: s.timestamp })),
    quorum_met: count.valid.length >= requiredEpochSignatures(statement, registry),
    finalized_at: input.finalizedAt,
    statement,
    leaf: tree.leaves[index],
    leaf_index: index,
    inclusion_proof: tree.inclusionProof(index).map(base64Encode),
    evidence: input.evidence,
  };
  return parseFederationReceipt(receipt);
}
