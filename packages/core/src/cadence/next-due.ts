import { RemembrancerError } from '../errors.js';

/**
 * The first `startMs + k·periodMs` (k ≥ 1) strictly after `nowMs`. A schedule that fell behind
 * (the node was down) resumes at its next slot instead of replaying every missed one: a burst of
 * back-to-back anchors would prove nothing the next one does not.
 */
export function nextDueAfter(startMs: number, periodMs: number, nowMs: number): number {
  if (!Number.isSafeInteger(startMs) || !Number.isSafeInteger(nowMs)) {
    throw new RemembrancerError('INVALID_ARGUMENT', 'schedule times must be integer milliseconds');
  }
  if (!Number.isSafeInteger(periodMs) || periodMs < 1) {
    throw new RemembrancerError('INVALID_ARGUMENT', 'schedule period must be a positive integer of milliseconds');
  }
  let k = nowMs < startMs ? 1 : Math.floor((nowMs - startMs) / periodMs) + 1;
  // Float division of safe integers is exact enough, but the result is checked, not trusted.
  while (k > 1 && startMs + (k - 1) * periodMs > nowMs) k--;
  while (startMs + k * periodMs <= nowMs) k++;
  const due = startMs + k * periodMs;
  if (!Number.isSafeInteger(due)) throw new RemembrancerError('INVALID_ARGUMENT', 'next due time is beyond 2^53 ms');
  return due;
}
