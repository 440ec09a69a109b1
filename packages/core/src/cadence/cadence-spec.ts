import { pointerToken } from '../errors.js';
import { cadenceInvalid } from './cadence-invalid.js';
import { checkCadencePeriod, parseCadenceEvery, type CadenceEvery } from './cadence-every.js';
import { CADENCE_LEVELS, type CadenceLevel, type CadenceLevelName, type CadenceSpec } from './cadence-level.js';
import { parseCadenceTarget } from './cadence-target.js';

export const MAX_CADENCE_CONFIRMATIONS = 10_000;

const LEVEL_MEMBERS: readonly (keyof CadenceLevel)[] = ['target', 'every', 'confirmations'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Unknown members are errors: a cadence member nobody reads would mislead the policy's readers. */
function rejectUnknown(v: Record<string, unknown>, allowed: readonly string[], pointer: string): void {
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k))
      cadenceInvalid(`${pointer}/${pointerToken(k)}`, `is not a known member (${JSON.stringify(k.slice(0, 64))})`);
  }
}

interface ParsedLevel {
  level: CadenceLevel;
  every: CadenceEvery;
}

function parseLevel(name: CadenceLevelName, v: unknown, pointer: string): ParsedLevel {
  if (!isObject(v)) cadenceInvalid(pointer, 'must be an object {target, every, confirmations}');
  rejectUnknown(v, LEVEL_MEMBERS, pointer);
  for (const k of LEVEL_MEMBERS) {
    if (!Object.hasOwn(v, k)) cadenceInvalid(`${pointer}/${k}`, 'is required');
  }
  const target = parseCadenceTarget(v.target, `${pointer}/target`);
  const every = parseCadenceEvery(v.every, name, `${pointer}/every`);
  const c = v.confirmations;
  if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c > MAX_CADENCE_CONFIRMATIONS) {
    cadenceInvalid(`${pointer}/confirmations`, `must be an integer from 0 to ${MAX_CADENCE_CONFIRMATIONS}`);
  }
  // A time-stamp token is final when issued (https://www.rfc-editor.org/rfc/rfc3161#section-2.4.2).
  if (target.kind === 'rfc3161' && c !== 0)
    cadenceInvalid(`${pointer}/confirmations`, 'must be 0 for an rfc3161 target');
  // `+ 0` turns -0 into 0, so the normalized copy serializes as written by JCS.
  return { level: { target: v.target as string, every: v.every as string, confirmations: c + 0 }, every };
}

function parseLevels(value: unknown, pointer: string): Map<CadenceLevelName, ParsedLevel> {
  if (!isObject(value)) cadenceInvalid(pointer, 'must be an object with optional members fast, strong, cold');
  rejectUnknown(value, CADENCE_LEVELS, pointer);
  const out = new Map<CadenceLevelName, ParsedLevel>();
  for (const name of CADENCE_LEVELS) {
    // JSON cannot carry undefined; treating it as absent spares TypeScript callers a filter.
    if (!Object.hasOwn(value, name) || value[name] === undefined) continue;
    out.set(name, parseLevel(name, value[name], `${pointer}/${name}`));
  }
  return out;
}

function resolve(
  levels: Map<CadenceLevelName, ParsedLevel>,
  pointer: string,
): Partial<Record<CadenceLevelName, number>> {
  const periods: Partial<Record<CadenceLevelName, number>> = {};
  // Lower levels first: a level may only refer to a lower one, so its base is resolved already.
  for (const name of CADENCE_LEVELS) {
    const p = levels.get(name);
    if (p === undefined) continue;
    const at = `${pointer}/${name}/every`;
    if (p.every.kind === 'duration') {
      periods[name] = p.every.ms;
    } else {
      const base = periods[p.every.of];
      if (base === undefined) cadenceInvalid(at, `refers to level ${p.every.of}, which is not present`);
      periods[name] = checkCadencePeriod(at, p.every.factor * base);
    }
  }
  return periods;
}

/**
 * Validates a cadence (attacker-controlled: from `PUT /v1/ns/{ns}` bodies and governance
 * entries) and returns a normalized copy: levels in the order fast, strong, cold, each with
 * exactly target, every, confirmations. Errors are POLICY_INVALID with the offending member's
 * pointer below `pointer` (e.g. `/cadence` → `/cadence/strong/every`).
 */
export function parseCadence(value: unknown, pointer: string): CadenceSpec {
  const levels = parseLevels(value, pointer);
  resolve(levels, pointer);
  const spec: CadenceSpec = {};
  for (const [name, p] of levels) spec[name] = p.level;
  return spec;
}

/** The period of every present level in milliseconds, multiples resolved. Validates like parseCadence. */
export function cadencePeriodsMs(spec: CadenceSpec, pointer = ''): Partial<Record<CadenceLevelName, number>> {
  return resolve(parseLevels(spec, pointer), pointer);
}
