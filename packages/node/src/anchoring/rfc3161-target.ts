import { RemembrancerError, errorMessage, type VerifiedTimestamp } from '@vaultmesh/core';
import { requestTimestamp, type RequestTimestampOptions } from './rfc3161-client.js';

/** An RFC 3161 anchor target: its TSAs, what they are trusted under, and how many must answer. */
export interface Rfc3161TargetConfig {
  /** The target's name, as messages show it (e.g. `rfc3161:local`). */
  name: string;
  /** TSA URLs, in the order `any` tries them. */
  urls: readonly string[];
  /** PEM CA certificates every TSA certificate must chain to. */
  trustAnchorsPem: readonly string[];
  /** The TSA policy to ask for and require. */
  policyOid?: string;
  /** `any`: one valid token is enough, TSAs tried in order; `all`: one valid token from every TSA. */
  mode: 'any' | 'all';
}

export interface Rfc3161TargetOptions {
  /** Requests per TSA URL before giving up on it (default 3). */
  attempts?: number;
  /** Wait before the first retry of a URL, doubled for each further retry (default 200 ms). */
  backoffMs?: number;
  /** Cap of the doubled wait (default 5 s). */
  maxBackoffMs?: number;
  timeoutMs?: number;
  maxResponseBytes?: number;
  genTimeWindowMs?: number;
  fetch?: RequestTimestampOptions['fetch'];
  /** How to wait between retries (default setTimeout); tests inject a recorder. */
  sleep?: (ms: number) => Promise<void>;
}

/** One request to one TSA, as the result and ANCHOR_TARGET_FAILED report it. */
export interface TimestampAttempt {
  url: string;
  ok: boolean;
  code?: string;
  message?: string;
}

export interface TargetTimestamps {
  /** The valid tokens: one for `any`, one per URL in URL order for `all`. */
  tokens: VerifiedTimestamp[];
  /** Every request made, per URL in URL order, oldest first. */
  attempts: TimestampAttempt[];
}

/** ANCHOR_TARGET_FAILED, with the attempts that led to it. */
export class AnchorTargetError extends RemembrancerError {
  readonly attempts: readonly TimestampAttempt[];

  constructor(message: string, attempts: readonly TimestampAttempt[]) {
    super('ANCHOR_TARGET_FAILED', message);
    this.name = 'AnchorTargetError';
    this.attempts = attempts;
  }
}

/**
 * Failures worth asking the same TSA again after a pause: no connection, no answer in time, an
 * HTTP refusal (overload, restart) and a TSA-side rejection (RFC 3161 §2.4.2 lists
 * timeNotAvailable and systemFailure). A response that fails verification is not retried at the
 * same URL: the same TSA would fail the same check again.
 */
const RETRIED: ReadonlySet<string> = new Set([
  'TSA_UNREACHABLE',
  'TSA_TIMEOUT',
  'TSA_HTTP_ERROR',
  'TIMESTAMP_REJECTED',
]);

/** Characters of one attempt's message kept in ANCHOR_TARGET_FAILED. */
const MAX_ATTEMPT_MESSAGE = 200;

/** Configuration may come from JSON: not trusting the declared type (Array.isArray would narrow to any[]). */
function isNonEmptyArray(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function count(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RemembrancerError(
      'INVALID_ARGUMENT',
      `${name} must be an integer of at least ${min}, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * Time-stamps digests at the TSAs of one RFC 3161 target, with retries and backoff per TSA, and
 * failover (`any`) or agreement (`all`) across them. Every token is verified in full before it
 * counts. Fails only with RemembrancerErrors: ANCHOR_TARGET_FAILED (an AnchorTargetError listing
 * every attempt) when the mode cannot be met, INVALID_ARGUMENT for a bad digest or configuration.
 */
export class Rfc3161Target {
  readonly name: string;
  readonly mode: 'any' | 'all';
  private readonly urls: readonly string[];
  private readonly attemptsPerUrl: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly request: RequestTimestampOptions;

  constructor(config: Rfc3161TargetConfig, options: Rfc3161TargetOptions = {}) {
    if (typeof config.name !== 'string' || config.name === '') {
      throw new RemembrancerError('INVALID_ARGUMENT', 'an RFC 3161 target needs a name');
    }
    if (!isNonEmptyArray(config.urls)) {
      throw new RemembrancerError('INVALID_ARGUMENT', `RFC 3161 target ${config.name} needs at least one TSA URL`);
    }
    if (config.mode !== 'any' && config.mode !== 'all') {
      throw new RemembrancerError('INVALID_ARGUMENT', `RFC 3161 target ${config.name}: mode must be any or all`);
    }
    if (!isNonEmptyArray(config.trustAnchorsPem)) {
      throw new RemembrancerError('INVALID_ARGUMENT', `RFC 3161 target ${config.name} needs trust anchors`);
    }
    this.name = config.name;
    this.mode = config.mode;
    this.urls = [...config.urls];
    this.attemptsPerUrl = count('attempts', options.attempts, 3, 1);
    this.backoffMs = count('backoffMs', options.backoffMs, 200, 0);
    this.maxBackoffMs = count('maxBackoffMs', options.maxBackoffMs, 5000, 0);
    this.sleep = options.sleep ?? defaultSleep;
    this.request = {
      trustAnchorsPem: [...config.trustAnchorsPem],
      ...(config.policyOid === undefined ? {} : { policyOid: config.policyOid }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.maxResponseBytes === undefined ? {} : { maxResponseBytes: options.maxResponseBytes }),
      ...(options.genTimeWindowMs === undefined ? {} : { genTimeWindowMs: options.genTimeWindowMs }),
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    };
  }

  /** Time-stamps `digest` (SHA-256 of the epoch statement, 32 bytes) as the mode requires. */
  async timestamp(digest: Uint8Array): Promise<TargetTimestamps> {
    if (!(digest instanceof Uint8Array) || digest.length !== 32) {
      throw new RemembrancerError('INVALID_ARGUMENT', 'digest must be the 32 bytes of a SHA-256 hash');
    }
    if (this.mode === 'any') {
      const attempts: TimestampAttempt[] = [];
      for (const url of this.urls) {
        const token = await this.fromUrl(url, digest, attempts);
        if (token !== undefined) return { tokens: [token], attempts };
      }
      throw this.failure('no TSA gave a valid token', attempts);
    }
    const perUrl = await Promise.all(
      this.urls.map(async (url) => {
        const attempts: TimestampAttempt[] = [];
        return { url, attempts, token: await this.fromUrl(url, digest, attempts) };
      }),
    );
    const attempts = perUrl.flatMap((r) => r.attempts);
    const missing = perUrl.filter((r) => r.token === undefined).map((r) => r.url);
    if (missing.length > 0) throw this.failure(`no valid token from ${missing.join(', ')}`, attempts);
    return { tokens: perUrl.map((r) => r.token!), attempts };
  }

  /** One URL with its retries: its token, or undefined with every failure recorded. */
  private async fromUrl(
    url: string,
    digest: Uint8Array,
    attempts: TimestampAttempt[],
  ): Promise<VerifiedTimestamp | undefined> {
    for (let attempt = 1; attempt <= this.attemptsPerUrl; attempt++) {
      if (attempt > 1) {
        const wait = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (attempt - 2));
        try {
          await this.sleep(wait);
        } catch (cause) {
          attempts.push({ url, ok: false, code: 'INTERNAL', message: `backoff failed: ${errorMessage(cause)}` });
          return undefined;
        }
      }
      try {
        const token = await requestTimestamp(url, digest, this.request);
        attempts.push({ url, ok: true });
        return token;
      } catch (e) {
        const code = e instanceof RemembrancerError ? e.code : 'INTERNAL';
        const message = errorMessage(e);
        attempts.push({
          url,
          ok: false,
          code,
          message: message.length > MAX_ATTEMPT_MESSAGE ? `${message.slice(0, MAX_ATTEMPT_MESSAGE)}…` : message,
        });
        if (!RETRIED.has(code)) return undefined;
      }
    }
    return undefined;
  }

  private failure(what: string, attempts: readonly TimestampAttempt[]): AnchorTargetError {
    const lines = attempts.map((a) => `${a.url}: ${a.ok ? 'ok' : `${a.code} ${a.message}`}`);
    return new AnchorTargetError(
      `anchor target ${this.name} (${this.mode}): ${what}; attempts: ${lines.join('; ')}`,
      attempts,
    );
  }
}
