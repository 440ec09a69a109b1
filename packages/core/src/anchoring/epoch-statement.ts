import { RemembrancerError, errorMessage, type ErrorCode } from '../errors.js';
import { crypto } from '../crypto/index.js';
import { base64Decode, base64Encode } from '../encoding/index.js';
import { canonicalBytes } from '../jcs/index.js';
import { parseCadenceTarget } from '../cadence/cadence-target.js';
import { peerAuthPublicKey } from '../federation/registry-peers.js';
import { FEDERATION_ID_PATTERN, NODE_NAME_PATTERN, type RegistrySet } from '../federation/registry-set.js';
import { child, integerIn, objectWith, refuse, stringMatching } from '../namespace/json-members.js';
import { anchorQuorum, anchorSigners } from './anchor-quorum.js';
import { base64Hash, requireMembers } from './document-members.js';

/*
 * The epoch statement: what the anchor signers sign and what the anchor commits to. It binds the
 * epoch root to the federation, the registry version whose keys and quorum apply, the target and
 * the epoch, so a signature or an anchor for one epoch cannot be replayed for another.
 */

export const EPOCH_STATEMENT_FORMAT = 'vaultmesh.epoch@1';

export const EPOCH_MODES = ['collaborative', 'independent'] as const;
export type EpochMode = (typeof EPOCH_MODES)[number];

export interface EpochStatement {
  format: typeof EPOCH_STATEMENT_FORMAT;
  federation_id: string;
  /** The registry version whose anchor signers and keys count for this epoch. */
  registry_version: number;
  /** The anchor target, e.g. `rfc3161:freetsa`. */
  target: string;
  epoch: number;
  /** `collaborative`: signed by a quorum of the anchor signers; `independent`: by `node` alone. */
  mode: EpochMode;
  /** The node anchoring its own epoch tree (independent), null for collaborative. */
  node: string | null;
  tree_size: number;
  /** Standard base64 of the epoch tree's root. */
  root: string;
}

/** A signature on an epoch statement by a node's auth key (`<node>/peer`). */
export interface EpochSignature {
  node: string;
  /** Standard base64 of the 64-byte Ed25519 signature over epochStatementBytes. */
  sig: string;
}

const E = 'EPOCH_STATEMENT_INVALID' as const;
const MEMBERS = ['format', 'federation_id', 'registry_version', 'target', 'epoch', 'mode', 'node', 'tree_size', 'root'];

/** An anchor target as a namespace's cadence names it: eip155:<chain id>, btc:<network> or rfc3161:<tsa name>. */
export function anchorTarget(code: ErrorCode, value: unknown, pointer: string): string {
  try {
    parseCadenceTarget(value);
  } catch (e) {
    refuse(code, pointer, `is not an anchor target: ${errorMessage(e)}`);
  }
  return value as string;
}

/** parseEpochStatement for a statement at `pointer` inside an enclosing document, failing with `code`. */
export function epochStatementMembers(code: ErrorCode, value: unknown, pointer: string): EpochStatement {
  const o = requireMembers(code, objectWith(code, value, pointer, MEMBERS), pointer, MEMBERS);
  if (o['format'] !== EPOCH_STATEMENT_FORMAT)
    refuse(code, child(pointer, 'format'), `must be "${EPOCH_STATEMENT_FORMAT}"`);
  const federation_id = stringMatching(
    code,
    o['federation_id'],
    child(pointer, 'federation_id'),
    FEDERATION_ID_PATTERN,
    'a federation id',
  );
  const registry_version = integerIn(
    code,
    o['registry_version'],
    child(pointer, 'registry_version'),
    1,
    Number.MAX_SAFE_INTEGER,
  );
  const target = anchorTarget(code, o['target'], child(pointer, 'target'));
  const epoch = integerIn(code, o['epoch'], child(pointer, 'epoch'), 0, Number.MAX_SAFE_INTEGER);
  const mode = o['mode'];
  if (typeof mode !== 'string' || !(EPOCH_MODES as readonly string[]).includes(mode)) {
    refuse(code, child(pointer, 'mode'), `must be one of ${EPOCH_MODES.join(', ')}`);
  }
  const node = o['node'];
  if (mode === 'collaborative') {
    if (node !== null) refuse(code, child(pointer, 'node'), 'must be null for a collaborative epoch');
  } else {
    stringMatching(
      code,
      node,
      child(pointer, 'node'),
      NODE_NAME_PATTERN,
      "the anchoring node's name for an independent epoch",
    );
  }
  const tree_size = integerIn(code, o['tree_size'], child(pointer, 'tree_size'), 1, Number.MAX_SAFE_INTEGER);
  const root = base64Hash(code, o['root'], child(pointer, 'root'));
  return {
    format: EPOCH_STATEMENT_FORMAT,
    federation_id,
    registry_version,
    target,
    epoch,
    mode: mode as EpochMode,
    node: node as string | null,
    tree_size,
    root,
  };
}

/**
 * Checks an epoch statement (attacker-controlled) and returns a copy holding exactly its members;
 * `node` is null exactly when `mode` is collaborative. Throws EPOCH_STATEMENT_INVALID with the
 * offending member's JSON pointer.
 */
export function parseEpochStatement(value: unknown): EpochStatement {
  return epochStatementMembers(E, value, '');
}

/**
 * What is signed: UTF-8 of the RFC 8785 canonical JSON of the statement. The `format` member keeps
 * these bytes apart from everything else a node's auth key signs (registry versions, evidence and
 * RFC 9421 signature bases never carry it).
 */
export function epochStatementBytes(s: EpochStatement): Uint8Array {
  return canonicalBytes(parseEpochStatement(s));
}

/** SHA-256 of epochStatementBytes: the RFC 3161 message imprint (and what other targets commit to). */
export function epochStatementDigest(s: EpochStatement): Uint8Array {
  return crypto.sha256(epochStatementBytes(s));
}

/** A node's signature on the statement with its auth key seed; standard base64. */
export function signEpochStatement(s: EpochStatement, authSeed: Uint8Array): string {
  if (!(authSeed instanceof Uint8Array) || authSeed.length !== 32) {
    throw new RemembrancerError('INVALID_ARGUMENT', 'auth seed must be 32 bytes');
  }
  return base64Encode(crypto.ed25519Sign(authSeed, epochStatementBytes(s)));
}

/**
 * True iff `sigBase64` (attacker-controlled) is a valid Ed25519 signature by `publicKey` over the
 * statement. Throws EPOCH_STATEMENT_INVALID for a malformed statement only.
 */
export function verifyEpochStatementSignature(s: EpochStatement, publicKey: Uint8Array, sigBase64: string): boolean {
  return signatureVerifies(epochStatementBytes(s), publicKey, sigBase64);
}

function signatureVerifies(message: Uint8Array, publicKey: Uint8Array, sigBase64: unknown): boolean {
  if (typeof sigBase64 !== 'string' || !(publicKey instanceof Uint8Array) || publicKey.length !== 32) return false;
  let sig: Uint8Array;
  try {
    sig = base64Decode(sigBase64);
  } catch {
    return false;
  }
  return sig.length === 64 && crypto.ed25519Verify(publicKey, message, sig);
}

/** The signatures that count towards an epoch statement, and those that do not. */
export interface EpochSignatureCount {
  /** Distinct eligible signers with a valid signature, in input order. */
  valid: string[];
  /**
   * Distinct node names of entries that do not count, in input order: not an eligible signer, or a
   * signature that does not verify. A repeat of a counted signer's entry is ignored, not listed;
   * a signer whose failing entry comes before its valid one is in both lists.
   */
  invalid: string[];
}

/**
 * Counts the signatures on `s` (attacker-controlled entries) against `registry`, which must be the
 * version the statement names (INVALID_ARGUMENT otherwise). Eligible: the anchor signers (active
 * peers with the `anchor` role); for an independent epoch only `s.node`, which must be one of them.
 * Each eligible signer counts once, with its auth key. Compare `valid.length` with anchorQuorum for
 * a collaborative epoch, with 1 for an independent one.
 */
export function countEpochSignatures(
  s: EpochStatement,
  signatures: readonly EpochSignature[],
  registry: RegistrySet,
): EpochSignatureCount {
  const statement = parseEpochStatement(s);
  if (registry.federation_id !== statement.federation_id || registry.version !== statement.registry_version) {
    throw new RemembrancerError(
      'INVALID_ARGUMENT',
      `the statement names registry version ${statement.registry_version} of ${JSON.stringify(statement.federation_id)}, ` +
        `not version ${registry.version} of ${JSON.stringify(registry.federation_id)}`,
    );
  }
  const message = canonicalBytes(statement);
  const eligible = new Map(
    anchorSigners(registry)
      .filter((p) => statement.mode === 'collaborative' || p.id === statement.node)
      .map((p) => [p.id, p] as const),
  );
  const valid: string[] = [];
  const invalid: string[] = [];
  const entries: readonly EpochSignature[] = Array.isArray(signatures) ? signatures : [];
  for (const entry of entries) {
    const node: unknown = (entry as Partial<EpochSignature> | null)?.node;
    const name = typeof node === 'string' ? node : String(node);
    if (valid.includes(name)) continue;
    const peer = typeof node === 'string' ? eligible.get(node) : undefined;
    const ok = peer !== undefined && signatureVerifies(message, peerAuthPublicKey(peer), entry.sig);
    if (ok) valid.push(name);
    else if (!invalid.includes(name)) invalid.push(name);
  }
  return { valid, invalid };
}

/** How many counted signatures finalize `s`: anchorQuorum for a collaborative epoch, 1 (the node itself) for an independent one. */
export function requiredEpochSignatures(s: EpochStatement, registry: RegistrySet): number {
  return s.mode === 'independent' ? 1 : anchorQuorum(registry);
}
