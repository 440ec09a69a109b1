import { cadenceInvalid } from './cadence-invalid.js';
import type { CadenceLevelName } from './cadence-level.js';

/*
 * `every`: a fixed period (`<n>s|m|h|d`) or a multiple of a lower level's period (`N*fast`,
 * `N*strong`), so `cold: 12*strong` keeps its relation to `strong` when `strong` changes.
 * Periods are whole seconds from 1 s to 366 days: shorter would flood the anchor targets, longer
 * is not a schedule anyone can check is kept.
 */

export const MIN_CADENCE_PERIOD_MS = 1_000;
export const MAX_CADENCE_PERIOD_MS = 366 * 86_400_000;
export const MAX_CADENCE_MULTIPLIER = 10_000;

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

const DURATION_PATTERN = /^([1-9][0-9]*)([smhd])$/;
const MULTIPLE_PATTERN = /^([1-9][0-9]*)\*(fast|strong)$/;
/** Longest valid spelling is `31622400s` / `10000*strong`; longer input is refused before parsing. */
const MAX_EVERY_LENGTH = 16;

export type CadenceEvery =
  | { readonly kind: 'duration'; readonly ms: number }
  | { readonly kind: 'multiple'; readonly factor: number; readonly of: CadenceLevelName };

/** Which lower levels each level may be a multiple of. */
const MULTIPLE_OF: Record<CadenceLevelName, readonly CadenceLevelName[]> = {
  fast: [],
  strong: ['fast'],
  cold: ['fast', 'strong'],
};

/** Checks a period (fixed or a resolved multiple) against 1 s..366 d. */
export function checkCadencePeriod(pointer: string, ms: number): number {
  if (!(ms >= MIN_CADENCE_PERIOD_MS && ms <= MAX_CADENCE_PERIOD_MS)) {
    cadenceInvalid(pointer, `must give a period from 1s to 366d (got ${ms / 1000}s)`);
  }
  return ms;
}

/**
 * Parses the `every` of `level` (attacker-controlled). Does not resolve multiples: whether the
 * referenced level exists is the whole spec's business (see cadence-spec.ts).
 */
export function parseCadenceEvery(every: unknown, level: CadenceLevelName, pointer: string): CadenceEvery {
  if (typeof every !== 'string') cadenceInvalid(pointer, 'must be a string');
  if (every.length > MAX_EVERY_LENGTH) cadenceInvalid(pointer, `must be at most ${MAX_EVERY_LENGTH} characters`);
  const d = DURATION_PATTERN.exec(every);
  if (d !== null) {
    // At most 16 digits, so the product stays far below 2^53 unless out of range anyway.
    return { kind: 'duration', ms: checkCadencePeriod(pointer, Number(d[1]) * UNIT_MS[d[2] as keyof typeof UNIT_MS]) };
  }
  const m = MULTIPLE_PATTERN.exec(every);
  if (m !== null) {
    const of = m[2] as CadenceLevelName;
    if (!MULTIPLE_OF[level].includes(of)) {
      cadenceInvalid(
        pointer,
        `of level ${level} cannot be a multiple of ${of}: only a multiple of a lower level (strong of fast, cold of fast or strong)`,
      );
    }
    const factor = Number(m[1]);
    if (factor > MAX_CADENCE_MULTIPLIER)
      cadenceInvalid(pointer, `must have a multiplier from 1 to ${MAX_CADENCE_MULTIPLIER}`);
    return { kind: 'multiple', factor, of };
  }
  return cadenceInvalid(
    pointer,
    'must be <n>s, <n>m, <n>h or <n>d (n a positive integer without leading zeros) or N*fast / N*strong',
  );
}
