/*
 * What one client may cost this node. Every bound here is named once, documented in
 * docs/api.md ("Limits") and docs/security.md (what each protects), and overridable in
 * config.json (`http`). Bodies are bounded per route, fitted to what the route takes, so the
 * largest body a route reads is the largest document it could accept.
 */

/** An entry is at most 65,535 bytes of canonical JSON; the raw text may add whitespace and \u escapes. */
export const ENTRY_BODY_LIMIT_BYTES = 256 * 1024;

/** A batch of up to MAX_BATCH_ENTRIES entries (default; `bodyLimitBytes` in config.json). */
export const BATCH_BODY_LIMIT_BYTES = 16 * 1024 * 1024;

/** A namespace spec (writers, schemas, limits, cadence) or a cadence document. */
export const NAMESPACE_SPEC_BODY_LIMIT_BYTES = 256 * 1024;

/** A governance document is one log entry (65,535 bytes of JCS) with room for whitespace. */
export const GOVERNANCE_BODY_LIMIT_BYTES = 256 * 1024;

/** A registry version: every peer's endpoint and keys, and the founders' signatures. */
export const REGISTRY_BODY_LIMIT_BYTES = 1024 * 1024;

/** Routes that take no body still bound what they would read. */
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;

export interface HttpLimits {
  /** Whole request (headers and body) must arrive within this, ms; a slow body is cut off (408). */
  requestTimeoutMs: number;
  /** Headers must arrive within this, ms; a slow-header client is cut off (408). */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this, ms. */
  keepAliveTimeoutMs: number;
  /** A socket with no traffic at all is closed after this, ms. */
  idleTimeoutMs: number;
  /** Open connections at most; further ones are closed at once. */
  maxConnections: number;
  /** Requests whose bodies are being received at once; more get 503 SERVER_BUSY before reading. */
  maxInFlightBodies: number;
  /** Sum of the bodies being received at once (declared length, or the route's limit when chunked), bytes. */
  maxInFlightBodyBytes: number;
  /** Largest request line plus headers, bytes (Node's parser answers 431 beyond). */
  maxHeaderBytes: number;
}

export const DEFAULT_HTTP_LIMITS: Readonly<HttpLimits> = Object.freeze({
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 60_000,
  maxConnections: 1024,
  maxInFlightBodies: 256,
  maxInFlightBodyBytes: 128 * 1024 * 1024,
  maxHeaderBytes: 16 * 1024,
});

/** Node checks the request and header timeouts this often, ms: a cut-off happens at most this late. */
export const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/**
 * A batch without a bearer token can only be authorized by key-writer signatures inside it, which
 * are checked after parsing: such a body is read up to this, not the full batch limit. It is the
 * single-entry limit, so nothing a client without any credential sends is parsed beyond 256 KiB:
 * the worst shapes (`{"k0":0,…}`, `[{},{},…]`, `[0,0,…]`) take 20–60 ms and ~8 MB of heap at
 * that size, while at 1 MiB they held the event loop 80–230 ms (/healthz waited up to ~470 ms in
 * test/e2e/hostile-client.test.ts), and 16 MiB of `[{},…]` ~4 s and ~370 MB.
 */
export const UNAUTHENTICATED_BODY_LIMIT_BYTES = 256 * 1024;
