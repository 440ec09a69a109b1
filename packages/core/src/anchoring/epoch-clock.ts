import { RemembrancerError } from '../errors.js';

/*
 * Epochs of an anchor target: epoch e covers [e·period, (e+1)·period) in milliseconds since the
 * POSIX epoch. Every node derives the same numbering from its clock and the target's period alone,
 * so no message is needed to agree on which epoch a checkpoint falls into; clock skew only moves a
 * node's view of the boundary, which the node side absorbs with the registry's skew window.
 */

function invalid(why: string): never {
  throw new RemembrancerError('INVALID_ARGUMENT', why);
}

function checkPeriod(periodMs: number): void {
  if (!Number.isSafeInteger(periodMs) || periodMs < 1)
    invalid('epoch period must be a positive integer of milliseconds');
}

/** The epoch that contains the instant `ms`: floor(ms / periodMs). */
export function epochNumber(ms: number, periodMs: number): number {
  if (!Number.isSafeInteger(ms) || ms < 0) invalid('epoch time must be a non-negative integer of milliseconds');
  checkPeriod(periodMs);
  // Exact for safe integers: ms / periodMs is within 1/periodMs below the next integer at worst,
  // which is more than half the spacing of doubles near a quotient of at most 2^53 / periodMs.
  return Math.floor(ms / periodMs);
}

function boundary(epoch: number, periodMs: number): number {
  const ms = epoch * periodMs;
  // A product of 2^53 or more is never a safe integer, however it rounds.
  if (!Number.isSafeInteger(ms)) invalid(`epoch ${epoch} of ${periodMs} ms starts beyond 2^53 ms`);
  return ms;
}

function checkEpoch(epoch: number): void {
  if (!Number.isSafeInteger(epoch) || epoch < 0) invalid('epoch must be a non-negative integer');
}

/** The first millisecond of `epoch`. */
export function epochStartMs(epoch: number, periodMs: number): number {
  checkEpoch(epoch);
  checkPeriod(periodMs);
  return boundary(epoch, periodMs);
}

/** The first millisecond after `epoch`, i.e. the start of the next epoch. */
export function epochEndMs(epoch: number, periodMs: number): number {
  checkEpoch(epoch);
  checkPeriod(periodMs);
  return boundary(epoch + 1, periodMs);
}
