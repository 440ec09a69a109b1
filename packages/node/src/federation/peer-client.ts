import {
  RemembrancerError,
  canonicalBytes,
  errorMessage,
  formatKeyId,
  parseJsonStrict,
  signRequest,
  type ErrorCode,
  type RegistryPeer,
} from '@vaultmesh/core';

export interface PeerCredentials {
  /** This node's auth key ID (8 hex digits) and seed. */
  keyid: string;
  seed: Uint8Array;
}

/** Where a node serves its logs' hashes to registry peers (peer-authenticated, see peer-routes.ts). */
export const PEER_NS_PATH = '/v1/federation/peer/ns';

/** `GET /v1/federation/peer/ns/{ns}/proof/consistency?from=A&to=B` at the namespace's node. */
export function peerConsistencyProofPath(namespace: string, from: number, to: number): string {
  return `${PEER_NS_PATH}/${encodeURIComponent(namespace)}/proof/consistency?from=${from}&to=${to}`;
}

/** `GET /v1/federation/peer/ns/{ns}/root?size=S` at the namespace's node. */
export function peerRootPath(namespace: string, size: number): string {
  return `${PEER_NS_PATH}/${encodeURIComponent(namespace)}/root?size=${size}`;
}

export function peerCredentials(authKeyId: number, seed: Uint8Array): PeerCredentials {
  return { keyid: formatKeyId(authKeyId), seed };
}

/** How a request to a peer failed; every peer client throws these and only these for the peer's part. */
export type PeerErrorCode = Extract<
  ErrorCode,
  'PEER_UNREACHABLE' | 'PEER_TIMEOUT' | 'PEER_REQUEST_FAILED' | 'PEER_ANSWER_MALFORMED'
>;

/** What a peer answered, as kept in a refusal's `cause` (body cut to MAX_KEPT_BODY characters). */
export interface PeerAnswerSummary {
  status: number;
  body: string;
}

/** Characters of a peer's answer kept in errors and their messages: enough to diagnose, never a whole flood. */
const MAX_KEPT_BODY = 1024;
const MAX_SHOWN = 200;
/** The form of our own error codes; a peer's `code` of another form is not repeated (it is attacker-controlled). */
const PEER_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

export interface PeerRequestErrorOptions {
  /** The registry id of the peer asked. */
  peer: string;
  /** Always set: the network error, the timeout's abort reason, the parse error, or the refused answer. */
  cause: unknown;
  status?: number;
  peerCode?: string;
}

/**
 * A request to a peer that did not give a usable answer:
 * - PEER_UNREACHABLE: no answer (connection refused or reset, DNS failure);
 * - PEER_TIMEOUT: no full answer within the request's time bound;
 * - PEER_REQUEST_FAILED: an HTTP status the caller does not take, with the peer's `{code, message}`
 *   when its body had that form;
 * - PEER_ANSWER_MALFORMED: a status the caller takes, with a body of the wrong form.
 */
export class PeerRequestError extends RemembrancerError {
  declare readonly code: PeerErrorCode;
  readonly peer: string;
  /** The HTTP status the peer answered with; absent when no answer came. */
  readonly status?: number;
  /** The `code` of the peer's JSON error body, when it had one of our codes' form. */
  readonly peerCode?: string;

  constructor(code: PeerErrorCode, message: string, options: PeerRequestErrorOptions) {
    super(code, message, { cause: options.cause });
    this.name = 'PeerRequestError';
    this.peer = options.peer;
    if (options.status !== undefined) this.status = options.status;
    if (options.peerCode !== undefined) this.peerCode = options.peerCode;
  }

  /** True when the peer answered (it is up, but refused or said something unusable). */
  get answered(): boolean {
    return this.status !== undefined;
  }
}

/** True for a peer that gave no answer at all: unreachable or timed out. */
export function isPeerSilent(e: unknown): e is PeerRequestError {
  return e instanceof PeerRequestError && !e.answered;
}

/** A peer's answer, with a status the caller said it takes. */
export interface PeerAnswer {
  status: number;
  text: string;
  headers: Headers;
}

type PeerRef = Pick<RegistryPeer, 'endpoint' | 'id'>;

export interface PeerFetchOptions {
  method: 'GET' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Bound on the whole exchange, body included, ms. */
  timeoutMs: number;
  /** The statuses the caller handles (default: 200); any other is a PEER_REQUEST_FAILED. */
  accept?: readonly number[];
}

/**
 * One HTTP exchange with a peer, its failures classified. Unsigned: for the C2SP tlog-witness
 * route, whose requests carry their own signatures; other peer routes go through peerRequest.
 */
export async function peerFetch(peer: PeerRef, url: string | URL, options: PeerFetchOptions): Promise<PeerAnswer> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  let status: number;
  let text: string;
  let headers: Headers;
  try {
    const res = await fetch(url, { method: options.method, headers: options.headers, body: options.body, signal });
    status = res.status;
    headers = res.headers;
    // Inside the try and under the same signal: a peer that sends headers and then stalls or cuts
    // the body is as silent as one that never answers.
    text = await res.text();
  } catch (cause) {
    // The signal, not the error's shape, says whether the bound fired: fetch reports it as a
    // TimeoutError DOMException before the answer and as a stream error during the body, and
    // undici's `cause.code` strings are an implementation detail. Everything else fetch rejects
    // with is a failure to connect or a connection lost.
    if (signal.aborted || (cause instanceof Error && cause.name === 'TimeoutError')) {
      throw new PeerRequestError(
        'PEER_TIMEOUT',
        `peer ${peer.id} at ${peer.endpoint} did not answer within ${options.timeoutMs} ms`,
        { peer: peer.id, cause },
      );
    }
    throw new PeerRequestError(
      'PEER_UNREACHABLE',
      `peer ${peer.id} at ${peer.endpoint} unreachable: ${errorMessage(cause)}`,
      { peer: peer.id, cause },
    );
  }
  if (!(options.accept ?? [200]).includes(status)) throw peerRefusal(peer, status, text);
  return { status, text, headers };
}

/**
 * A request to a peer, signed (RFC 9421 + RFC 9530) with this node's auth key and bounded by a
 * timeout. Resolves with the answer when its status is one of `accept` (default 200); otherwise
 * rejects with a PeerRequestError.
 */
export async function peerRequest(
  peer: PeerRef,
  creds: PeerCredentials,
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  /** `body`: a JSON value (sent as its canonical JSON), or the bytes of a JSON text. */
  options: { body?: unknown; timeoutMs?: number; accept?: readonly number[] } = {},
): Promise<PeerAnswer> {
  const { body, timeoutMs = 2000, accept } = options;
  const url = new URL(path, peer.endpoint).href;
  // Bytes are sent as they are: a caller with a large body of its own values (already JSON) spares
  // the canonicalization, which only makes the digest reproducible, not the body any more valid.
  const bytes = body === undefined ? new Uint8Array(0) : body instanceof Uint8Array ? body : canonicalBytes(body);
  const sig = signRequest({ method, targetUri: url, keyid: creds.keyid, seed: creds.seed, body: bytes });
  return peerFetch(peer, url, {
    method,
    headers: { ...sig, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : bytes,
    timeoutMs,
    ...(accept === undefined ? {} : { accept }),
  });
}

/** The answer's body as JSON (strict parse: the body is attacker-controlled). */
export function peerAnswerJson(peer: Pick<RegistryPeer, 'id'>, answer: PeerAnswer): unknown {
  try {
    return parseJsonStrict(answer.text);
  } catch (cause) {
    throw new PeerRequestError(
      'PEER_ANSWER_MALFORMED',
      `peer ${peer.id} answered ${answer.status} with invalid JSON: ${errorMessage(cause)}`,
      {
        peer: peer.id,
        status: answer.status,
        cause,
      },
    );
  }
}

/**
 * A PEER_ANSWER_MALFORMED for a body of the wrong form. `cause` is the error met while reading it,
 * or else the answer itself.
 */
export function malformedPeerAnswer(
  peer: Pick<RegistryPeer, 'id'>,
  answer: Pick<PeerAnswer, 'status' | 'text'>,
  what: string,
  cause?: unknown,
): PeerRequestError {
  const detail = cause === undefined ? '' : `: ${errorMessage(cause)}`;
  return new PeerRequestError(
    'PEER_ANSWER_MALFORMED',
    `peer ${peer.id} answered ${answer.status} with ${what}${detail}`,
    {
      peer: peer.id,
      status: answer.status,
      cause: cause ?? summary(answer.status, answer.text),
    },
  );
}

/**
 * A PEER_REQUEST_FAILED for an answer with a status the caller does not take, or (`reason`) a
 * status it takes in a state it cannot go on from. The peer's `{code, message}` is kept when its
 * body has that form.
 */
export function peerRefusal(
  peer: Pick<RegistryPeer, 'id'>,
  status: number,
  text: string,
  reason?: string,
): PeerRequestError {
  let peerCode: string | undefined;
  let said = text;
  if (text.trimStart().startsWith('{')) {
    try {
      const j = parseJsonStrict(text.slice(0, MAX_KEPT_BODY * 64)) as { code?: unknown; message?: unknown } | null;
      if (typeof j?.code === 'string' && PEER_CODE.test(j.code)) peerCode = j.code;
      if (typeof j?.message === 'string') said = j.message;
    } catch {
      // Not a JSON error body: the text itself is what the peer said.
    }
  }
  const shown = said.length > MAX_SHOWN ? `${said.slice(0, MAX_SHOWN)}…` : said;
  const message = `peer ${peer.id} answered ${status}${peerCode ? ` ${peerCode}` : ''}${reason ? ` (${reason})` : ''}${shown ? `: ${shown}` : ''}`;
  return new PeerRequestError('PEER_REQUEST_FAILED', message, {
    peer: peer.id,
    status,
    ...(peerCode === undefined ? {} : { peerCode }),
    cause: summary(status, text),
  });
}

function summary(status: number, text: string): PeerAnswerSummary {
  return { status, body: text.slice(0, MAX_KEPT_BODY) };
}
