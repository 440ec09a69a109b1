/**
 * Typed errors shared by every package. Each error carries a stable string `code` that callers
 * (HTTP layer, CLI exit codes, tests) branch on; messages are for humans and may change.
 */
export type ErrorCode =
  // input parsing and validation
  | 'INVALID_ARGUMENT'
  | 'INVALID_JSON'
  | 'INVALID_ENCODING'
  | 'ENTRY_NOT_OBJECT'
  | 'ENTRY_TOO_LARGE'
  | 'ENTRY_TOO_DEEP'
  | 'INVALID_NAMESPACE_ID'
  // Merkle proofs (RFC 9162)
  | 'INDEX_OUT_OF_RANGE'
  | 'SIZE_OUT_OF_RANGE'
  | 'INVALID_RANGE'
  | 'PROOF_MALFORMED'
  | 'PROOF_MISMATCH'
  // signed notes, checkpoints, cosignatures, tlog-proof
  | 'NOTE_MALFORMED'
  | 'VKEY_MALFORMED'
  | 'SIGNATURE_INVALID'
  | 'SIGNATURE_MISSING'
  | 'CHECKPOINT_MALFORMED'
  | 'COSIGNATURE_MALFORMED'
  | 'TLOG_PROOF_MALFORMED'
  // tlog-witness protocol texts (add-checkpoint request, cosignature and size responses)
  | 'WITNESS_REQUEST_MALFORMED'
  | 'WITNESS_RESPONSE_MALFORMED'
  // tlog-witness: a validly signed checkpoint that is not consistent with what the witness cosigned
  | 'CHECKPOINT_INCONSISTENT'
  // receipts
  | 'RECEIPT_MALFORMED'
  | 'LEAF_HASH_MISMATCH'
  | 'ORIGIN_MISMATCH'
  // federation: peer registry versions and equivocation evidence
  | 'REGISTRY_INVALID'
  | 'REGISTRY_NOT_AUTHORIZED'
  | 'REGISTRY_STALE'
  | 'EVIDENCE_INVALID'
  // peer request signatures (RFC 9421 HTTP Message Signatures, RFC 9530 Content-Digest)
  | 'SIGNATURE_INPUT_MALFORMED'
  | 'CONTENT_DIGEST_MISMATCH'
  | 'SIGNATURE_EXPIRED'
  | 'PEER_KEY_UNKNOWN'
  // node-side
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NAMESPACE_NOT_FOUND'
  | 'NAMESPACE_EXISTS'
  | 'NOT_FOUND'
  | 'NOT_YET_IN_CHECKPOINT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'QUEUE_FULL'
  | 'STORAGE_FAILURE'
  // scale-out on PostgreSQL: a front end that is not (or no longer) the holder of the sequencing lease
  | 'LEASE_LOST'
  | 'SHUTTING_DOWN'
  | 'CONFIG_INVALID'
  // a data directory or file accessible to group or others (secrets are refused, not repaired)
  | 'DATA_DIR_INSECURE'
  | 'NONCE_REPLAYED'
  // requests to peers: no connection, no answer in time, an HTTP refusal, an answer of the wrong form
  | 'PEER_UNREACHABLE'
  | 'PEER_TIMEOUT'
  | 'PEER_REQUEST_FAILED'
  | 'PEER_ANSWER_MALFORMED'
  // namespaces: policies (spec, C2SP tlog-policy text, cadence), schemas, writers, limits, sealing
  | 'POLICY_INVALID'
  | 'POLICY_NOT_MET'
  | 'SCHEMA_REQUIRED'
  | 'SCHEMA_UNKNOWN'
  | 'SCHEMA_NOT_ALLOWED'
  | 'SCHEMA_VALIDATION_FAILED'
  | 'RATE_LIMITED'
  | 'QUOTA_EXCEEDED'
  | 'NOT_YET_SEALED'
  // the governance log (sys:governance)
  | 'GOVERNANCE_INVALID'
  | 'GOVERNANCE_NOT_AUTHORIZED'
  | 'GOVERNANCE_CONFLICT'
  // collaborative anchoring: epoch leaves and statements, federation receipts, anchor signers
  | 'EPOCH_LEAF_INVALID'
  | 'EPOCH_STATEMENT_INVALID'
  | 'FEDERATION_RECEIPT_MALFORMED'
  | 'ANCHOR_NO_SIGNERS'
  // anchoring on a node: a proposal or finalization refused, a second root for a signed epoch, an unconfigured target
  | 'EPOCH_REFUSED'
  | 'EPOCH_CONFLICT'
  | 'ANCHOR_TARGET_UNKNOWN'
  // RFC 3161 time-stamp responses and tokens (core verification), and the TSA client (node)
  | 'TIMESTAMP_MALFORMED'
  | 'TIMESTAMP_REJECTED'
  | 'TIMESTAMP_MISMATCH'
  | 'TIMESTAMP_SIGNATURE_INVALID'
  | 'TIMESTAMP_UNTRUSTED'
  | 'TIMESTAMP_TIME_INVALID'
  | 'TSA_UNREACHABLE'
  | 'TSA_TIMEOUT'
  | 'TSA_HTTP_ERROR'
  | 'TSA_RESPONSE_TOO_LARGE'
  // Bitcoin anchors: transactions, headers and Merkle branches (core verification)
  | 'BITCOIN_MALFORMED'
  | 'BITCOIN_PROOF_INVALID'
  // EVM anchors: headers, transactions, trie proofs (core verification)
  | 'EVM_MALFORMED'
  | 'EVM_PROOF_INVALID'
  // chain anchors: RPC of an EVM or Bitcoin node
  | 'CHAIN_RPC_UNREACHABLE'
  | 'CHAIN_RPC_ERROR'
  // chain anchors: a transaction the node refuses for good, a node of another chain, an account that cannot pay
  | 'CHAIN_TX_REJECTED'
  | 'CHAIN_MISMATCH'
  | 'CHAIN_FUNDS'
  // a development chain (anvil, bcoin regtest) whose npm package is not installed
  | 'DEV_CHAIN_UNAVAILABLE'
  // chain anchor evidence that fails one of its named checks (the message names it)
  | 'ANCHOR_EVIDENCE_INVALID'
  // an anchor target that got no valid anchor from any of its endpoints (every attempt summarized)
  | 'ANCHOR_TARGET_FAILED'
  // cross-namespace messages: the message and delivery record forms, and a receiver's refusals
  | 'MESSAGE_MALFORMED'
  | 'MESSAGE_DELIVERY_MALFORMED'
  | 'MESSAGE_WRONG_TARGET'
  | 'MESSAGE_NOT_YET_VALID'
  | 'MESSAGE_EXPIRED'
  // the target namespace's messaging rules refuse the source, action or operation
  | 'MESSAGE_NOT_ACCEPTED'
  // a different message already holds this seq of its stream (source namespace → target namespace)
  | 'MESSAGE_SEQ_CONFLICT'
  // HTTP transport: malformed or oversized requests, slow clients, load shedding
  | 'BAD_REQUEST'
  | 'INVALID_URL'
  | 'URI_TOO_LONG'
  | 'HEADERS_TOO_LARGE'
  | 'REQUEST_TIMEOUT'
  | 'SERVER_BUSY'
  | 'INTERNAL';

export interface RemembrancerErrorOptions {
  cause?: unknown;
  /** RFC 6901 JSON pointer of the offending member of the input document (e.g. `/limits/burst`). */
  pointer?: string;
}

export class RemembrancerError extends Error {
  readonly code: ErrorCode;
  readonly pointer?: string;

  constructor(code: ErrorCode, message: string, options?: RemembrancerErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RemembrancerError';
    this.code = code;
    if (options?.pointer !== undefined) this.pointer = options.pointer;
  }
}

/** Escapes one reference token of an RFC 6901 JSON pointer (`~` → `~0`, `/` → `~1`). */
export function pointerToken(token: string | number): string {
  return String(token).replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * The message of anything caught: `catch` binds `unknown`, and a thrown non-Error (a string, a
 * rejected plain value) must still log as something readable rather than `undefined`.
 */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  try {
    return String(e);
  } catch {
    // An object whose toString throws or is not callable (e.g. Object.create(null)).
    return Object.prototype.toString.call(e);
  }
}

export function isRemembrancerError(e: unknown, code?: ErrorCode): e is RemembrancerError {
  return e instanceof RemembrancerError && (code === undefined || e.code === code);
}
