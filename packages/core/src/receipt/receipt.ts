import { NAMESPACE_ID_PATTERN } from '../namespace/index.js';
import { RemembrancerError } from '../errors.js';
import { base64Decode } from '../encoding/index.js';
import { isJsonObject, parseJsonStrict } from '../jcs/index.js';
import { hasForbiddenLineCharacter } from '../note/note-text.js';
import { MAX_TLOG_PROOF_HASHES } from '../tlog-proof/tlog-proof.js';

export const RECEIPT_FORMAT = 'vaultmesh.receipt@1';

/**
 * The JSON receipt of one record (design: "Receipt JSON"): the exact stored entry, its leaf hash,
 * the inclusion proof, the signed (and cosigned) checkpoint, and the same proof as a C2SP
 * tlog-proof text for third-party tools. Later versions add fields (sealing, epoch path, anchors);
 * unknown fields are kept.
 */
export interface Receipt {
  format: typeof RECEIPT_FORMAT;
  namespace: string;
  /** `<node name>/<namespace>`, the checkpoint origin and the log key name. */
  origin: string;
  index: number;
  /** The stored JSON entry object; the leaf data is its RFC 8785 canonical UTF-8. */
  entry: unknown;
  /** base64 RFC 6962 leaf hash. */
  leaf_hash: string;
  /** The signed checkpoint note. */
  checkpoint: string;
  /** base64 inclusion proof hashes. */
  proof: string[];
  /** c2sp.org/tlog-proof@v1 text. */
  tlog_proof: string;
  /**
   * Whether `checkpoint` met the namespace's witness policy when the node built the receipt (issue 4:
   * at least `sealing.min_required` distinct allowlisted witnesses cosigned it). A claim of the node,
   * not signed: verify with a policy (verifyReceipt's `policy`) to rely on it.
   */
  sealed?: boolean;
  sealing?: ReceiptSealing;
  [extra: string]: unknown;
}

/** The witness policy a receipt's `sealed` was judged by, and who met it. */
export interface ReceiptSealing {
  /** Distinct allowlisted witnesses needed (0: the log signature alone seals). */
  min_required: number;
  /** Peer ids (federation node names) whose cosignatures count. */
  allowlist: string[];
  /** Allowlisted peer ids holding a valid cosignature on the receipt's checkpoint, each once. */
  cosigners: string[];
}

export interface DecodedReceipt {
  readonly receipt: Receipt;
  readonly leafHash: Uint8Array;
  readonly proof: Uint8Array[];
}

function malformed(field: string, why: string, cause?: unknown): never {
  throw new RemembrancerError(
    'RECEIPT_MALFORMED',
    `receipt field "${field}" ${why}`,
    cause === undefined ? undefined : { cause },
  );
}

function hash(field: string, v: unknown): Uint8Array {
  if (typeof v !== 'string') malformed(field, 'must be a base64 string');
  let b: Uint8Array;
  try {
    b = base64Decode(v);
  } catch (cause) {
    malformed(field, 'is not valid base64', cause);
  }
  if (b.length !== 32) malformed(field, `must be a 32-byte hash, got ${b.length} bytes`);
  return b;
}

const MAX_SEALING_PEERS = 256;

function peerIds(field: string, v: unknown): void {
  if (
    !Array.isArray(v) ||
    v.length > MAX_SEALING_PEERS ||
    !v.every((p) => typeof p === 'string' && p !== '' && !hasForbiddenLineCharacter(p))
  ) {
    malformed(field, `must be an array of at most ${MAX_SEALING_PEERS} peer ids`);
  }
}

/** The optional `sealing` member (unsigned, informative): its shape only. */
function checkSealing(v: unknown): void {
  if (!isJsonObject(v)) malformed('sealing', 'must be an object');
  const k = v['min_required'];
  if (typeof k !== 'number' || !Number.isSafeInteger(k) || k < 0)
    malformed('sealing.min_required', 'must be a non-negative integer');
  peerIds('sealing.allowlist', v['allowlist']);
  peerIds('sealing.cosigners', v['cosigners']);
}

/** parseReceipt that also returns the decoded hashes, so verification decodes them once. */
export function decodeReceipt(json: unknown): DecodedReceipt {
  if (!isJsonObject(json)) throw new RemembrancerError('RECEIPT_MALFORMED', 'receipt is not a JSON object');
  const r = json;
  if (r['format'] !== RECEIPT_FORMAT) malformed('format', `must be "${RECEIPT_FORMAT}"`);
  const ns = r['namespace'];
  if (typeof ns !== 'string' || !NAMESPACE_ID_PATTERN.test(ns))
    malformed('namespace', 'must be a namespace id such as "dao:vaultmesh"');
  const origin = r['origin'];
  if (typeof origin !== 'string' || origin === '' || hasForbiddenLineCharacter(origin)) {
    malformed('origin', 'must be a non-empty string without control characters');
  }
  const index = r['index'];
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0)
    malformed('index', 'must be a non-negative integer');
  if (!isJsonObject(r['entry'])) malformed('entry', 'must be a JSON object');
  const leafHash = hash('leaf_hash', r['leaf_hash']);
  if (typeof r['checkpoint'] !== 'string' || r['checkpoint'] === '')
    malformed('checkpoint', 'must be the signed checkpoint note text');
  const rawProof = r['proof'];
  if (!Array.isArray(rawProof)) malformed('proof', 'must be an array of base64 hashes');
  if (rawProof.length > MAX_TLOG_PROOF_HASHES) malformed('proof', `has more than ${MAX_TLOG_PROOF_HASHES} hashes`);
  const proof = rawProof.map((h: unknown, i) => hash(`proof[${i}]`, h));
  if (typeof r['tlog_proof'] !== 'string' || r['tlog_proof'] === '')
    malformed('tlog_proof', 'must be the tlog-proof text');
  if (r['sealed'] !== undefined && typeof r['sealed'] !== 'boolean') malformed('sealed', 'must be a boolean');
  if (r['sealing'] !== undefined) checkSealing(r['sealing']);
  // A copy, so later changes to the caller's object cannot affect a verified result.
  const receipt = { ...r, proof: [...(rawProof as string[])] } as Receipt;
  return { receipt, leafHash, proof };
}

/**
 * Checks the shape of a receipt (parsed JSON, attacker-controlled) and returns a copy typed as
 * Receipt; RECEIPT_MALFORMED names the offending field. Nothing is verified; see verifyReceipt.
 */
export function parseReceipt(json: unknown): Receipt {
  return decodeReceipt(json).receipt;
}

/** Parses receipt JSON text strictly (duplicate keys and other ambiguities rejected), then its shape. */
export function parseReceiptJson(text: string): Receipt {
  return parseReceipt(parseJsonStrict(text));
}
