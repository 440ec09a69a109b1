import { RemembrancerError, type ErrorCode } from '../errors.js';

/** The checks of a time-stamp response and token, in the order they run; each failure names one. */
export type TimestampCheck =
  | 'structure'
  | 'status'
  | 'signature'
  | 'signing-certificate'
  | 'tsa-certificate'
  | 'chain'
  | 'tsa-name'
  | 'message-imprint'
  | 'nonce'
  | 'policy'
  | 'gen-time';

/** Throws the RemembrancerError of a failed check: `RFC 3161 <check> check failed: <detail>`. */
export function failCheck(code: ErrorCode, check: TimestampCheck, detail: string, cause?: unknown): never {
  throw new RemembrancerError(code, `RFC 3161 ${check} check failed: ${detail}`, { cause });
}

/**
 * Runs `fn` (library code handed attacker-controlled structures) and turns anything it throws into
 * the failure of `check`: pkijs and WebCrypto throw TypeErrors, RangeErrors and their own classes
 * on hostile input, and a verifier must only ever fail with its own codes.
 */
export async function underCheck<T>(
  code: ErrorCode,
  check: TimestampCheck,
  detail: string,
  fn: () => T | Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof RemembrancerError) throw e;
    failCheck(code, check, `${detail}: ${e instanceof Error ? e.message : String(e)}`, e);
  }
}

/** The synchronous form of underCheck. */
export function underCheckSync<T>(code: ErrorCode, check: TimestampCheck, detail: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RemembrancerError) throw e;
    failCheck(code, check, `${detail}: ${e instanceof Error ? e.message : String(e)}`, e);
  }
}
