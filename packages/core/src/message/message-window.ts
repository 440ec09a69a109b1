import { RemembrancerError } from '../errors.js';
import type { NamespaceMessage } from './message.js';

const NS_PER_MS = 1_000_000n;

/**
 * Nanoseconds since the epoch of a timestamp parseMessage accepted (UTC_TIMESTAMP_PATTERN): exact,
 * because documents carry up to nine fraction digits and a float of milliseconds near 2^40 cannot
 * hold a tenth of a microsecond. Date.parse is not used: ECMAScript defines it only for three
 * fraction digits, and years before 0100 would be read as 19xx.
 */
export function timestampNs(s: string): bigint {
  const d = new Date(0);
  d.setUTCFullYear(Number(s.slice(0, 4)), Number(s.slice(5, 7)) - 1, Number(s.slice(8, 10)));
  d.setUTCHours(Number(s.slice(11, 13)), Number(s.slice(14, 16)), Number(s.slice(17, 19)), 0);
  // `…:SSZ` is 20 characters; anything longer carries `.fraction` before the Z.
  const fraction = s.length > 20 ? s.slice(20, -1).padEnd(9, '0') : '0';
  return BigInt(d.getTime()) * NS_PER_MS + BigInt(fraction);
}

/** A time in (possibly fractional) milliseconds as nanoseconds, rounded to the nanosecond. */
function msToNs(ms: number): bigint {
  const whole = Math.trunc(ms);
  return BigInt(whole) * NS_PER_MS + BigInt(Math.round((ms - whole) * 1e6));
}

/**
 * Whether a receiver may accept the message at `nowMs`: from `sent_at` less the tolerated clock
 * difference (a sender's clock may run ahead of the receiver's) up to `expires_at` inclusive.
 * Returns the detail of a pass; throws MESSAGE_NOT_YET_VALID before the window (a sender may
 * retry later) and MESSAGE_EXPIRED after it (final), INVALID_ARGUMENT for a bad clock or skew.
 */
export function checkMessageWindow(message: NamespaceMessage, nowMs: number, maxSkewSeconds: number): string {
  // A Date holds ±8.64e15 ms; beyond (or NaN) toISOString would throw a RangeError.
  const date = new Date(nowMs);
  if (typeof nowMs !== 'number' || Number.isNaN(date.getTime())) {
    throw new RemembrancerError('INVALID_ARGUMENT', 'the current time is not a valid time');
  }
  if (typeof maxSkewSeconds !== 'number' || !Number.isFinite(maxSkewSeconds * 1e9) || maxSkewSeconds < 0) {
    throw new RemembrancerError(
      'INVALID_ARGUMENT',
      'the tolerated clock skew must be a non-negative number of seconds',
    );
  }
  const now = msToNs(nowMs);
  const shown = date.toISOString();
  const from = timestampNs(message.sent_at) - BigInt(Math.round(maxSkewSeconds * 1e9));
  if (now < from) {
    throw new RemembrancerError(
      'MESSAGE_NOT_YET_VALID',
      `sent_at ${message.sent_at} is more than ${maxSkewSeconds} s after this receiver's time ${shown}`,
    );
  }
  if (now > timestampNs(message.expires_at)) {
    throw new RemembrancerError('MESSAGE_EXPIRED', `expired at ${message.expires_at}; it is ${shown}`);
  }
  return `${shown} is within sent_at ${message.sent_at} (less ${maxSkewSeconds} s of clock skew) and expires_at ${message.expires_at}`;
}
