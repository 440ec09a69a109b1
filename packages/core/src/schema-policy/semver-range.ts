import { RemembrancerError, errorMessage } from '../errors.js';
import { compareVersions, parseSchemaVersion, parseVersionNumber, type SchemaVersion } from './schema-id.js';

/*
 * npm / node-semver range syntax (https://github.com/npm/node-semver#ranges, "Advanced Range
 * Syntax") for the numeric versions of schema ids: `1.2.3`, `=1.2.3`, `<`, `<=`, `>`, `>=`,
 * space-separated comparators (AND), `||` (OR), hyphen ranges `1.2.3 - 2.3.4`, x-ranges `1.2.x`,
 * `1.X`, `1.2.*`, `*`, partial versions `1`, `1.2`, tilde `~1.2.3` (also `~>`), caret `^1.2.3`
 * with its 0.x rules, and an optional leading `v`. Each form desugars exactly as node-semver
 * documents it; the tests hold a table of those documented expansions.
 *
 * Deliberately stricter than node-semver, because a typo in a namespace policy must not silently
 * widen what it accepts:
 * - numbers are decimal without leading zeros and at most Number.MAX_SAFE_INTEGER (`01.0.0` is
 *   an error, where node-semver's loose mode would read 1.0.0);
 * - pre-release and build suffixes (`1.2.3-rc.1`, `1.2.3+b`) are errors: schema ids have none;
 * - an empty range, or an empty side of `||`, is an error (node-semver reads it as `*`, so a
 *   stray `1.2.3 ||` would accept every version); write `*` to mean any version;
 * - after a wildcard every later part must be a wildcard too (`1.x.3` is an error);
 * - whitespace is spaces and tabs only.
 * Upper bounds that node-semver writes as `<2.0.0-0` are plain `<2.0.0` here: with no
 * pre-releases the two are the same set.
 */

export type SemverOperator = '<' | '<=' | '>' | '>=' | '=';

export interface SemverComparator {
  readonly operator: SemverOperator;
  /** An upper bound may be one past Number.MAX_SAFE_INTEGER (2^53, still exact). */
  readonly version: SchemaVersion;
}

export interface SemverRange {
  /** The text as given. */
  readonly source: string;
  /** OR of ANDs: a version satisfies the range iff it satisfies every comparator of some set. An empty set accepts any version. */
  readonly sets: readonly (readonly SemverComparator[])[];
}

/** node-semver's MAX_LENGTH; bounds the work spent on attacker-supplied text. */
export const SEMVER_RANGE_MAX_LENGTH = 256;

/** A version as written in a range: null parts are wildcards (`x`, `X`, `*` or left out). */
interface PartialVersion {
  readonly major: number | null;
  readonly minor: number | null;
  readonly patch: number | null;
}

interface Token {
  readonly op: string;
  readonly text: string;
}

const OPERATOR = /^(?:<=|>=|<|>|=|~>|~|\^)/;
const NUMBER = /^(?:0|[1-9][0-9]*)$/;
const WILDCARD = new Set(['x', 'X', '*']);

class RangeSyntaxError extends Error {}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

/** Splits one comparator set into operator + version tokens (`>= 1.2` is one token, as in node-semver). */
function tokenize(set: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < set.length) {
    if (isSpace(set[i])) {
      i++;
      continue;
    }
    const op = OPERATOR.exec(set.slice(i))?.[0] ?? '';
    i += op.length;
    while (isSpace(set[i])) i++;
    const start = i;
    while (i < set.length && !isSpace(set[i])) i++;
    const text = set.slice(start, i);
    if (text === '') throw new RangeSyntaxError(`operator ${op} has no version after it`);
    tokens.push({ op, text });
  }
  return tokens;
}

function parsePartial(text: string): PartialVersion {
  const core = text.startsWith('v') ? text.slice(1) : text;
  if (/[-+]/.test(core)) {
    throw new RangeSyntaxError(
      `${JSON.stringify(text)} has a pre-release or build suffix (or a misplaced "-"); schema versions are MAJOR.MINOR.PATCH only`,
    );
  }
  const parts = core.split('.');
  if (parts.length > 3) throw new RangeSyntaxError(`${JSON.stringify(text)} has more than three parts`);
  const out: (number | null)[] = [null, null, null];
  let wild = false;
  for (let k = 0; k < parts.length; k++) {
    const p = parts[k]!;
    if (WILDCARD.has(p)) {
      wild = true;
      continue;
    }
    if (!NUMBER.test(p)) {
      throw new RangeSyntaxError(
        `${JSON.stringify(text)} is not a version: each part must be a decimal number without leading zeros, or x, X or *`,
      );
    }
    if (wild) throw new RangeSyntaxError(`${JSON.stringify(text)} has a number after a wildcard`);
    try {
      out[k] = parseVersionNumber(p, 'version number');
    } catch (e) {
      throw new RangeSyntaxError(errorMessage(e));
    }
  }
  return { major: out[0]!, minor: out[1]!, patch: out[2]! };
}

function v(major: number, minor: number, patch: number): SchemaVersion {
  return { major, minor, patch };
}

function cmp(operator: SemverOperator, version: SchemaVersion): SemverComparator {
  return { operator, version };
}

/** `<0.0.0`: what node-semver writes for `<*` and `>*`, a set nothing satisfies. */
const NOTHING: SemverComparator[] = [cmp('<', v(0, 0, 0))];

/** `1.2.3`, `=1.2`, `1.x`, `*` (https://github.com/npm/node-semver#x-ranges-12x-1x-12-). */
function xRange(p: PartialVersion): SemverComparator[] {
  const { major: M, minor: m, patch: pt } = p;
  if (M === null) return [];
  if (m === null) return [cmp('>=', v(M, 0, 0)), cmp('<', v(M + 1, 0, 0))];
  if (pt === null) return [cmp('>=', v(M, m, 0)), cmp('<', v(M, m + 1, 0))];
  return [cmp('=', v(M, m, pt))];
}

/** `<`, `<=`, `>`, `>=` with a possibly partial version (node-semver's replaceXRange). */
function primitive(op: '<' | '<=' | '>' | '>=', p: PartialVersion): SemverComparator[] {
  const { major: M, minor: m, patch: pt } = p;
  if (M === null) return op === '<' || op === '>' ? NOTHING : [];
  if (m !== null && pt !== null) return [cmp(op, v(M, m, pt))];
  // `>1.2` is `>=1.3.0`, `>1` is `>=2.0.0`, `<=1.2` is `<1.3.0`, `>=1.2` is `>=1.2.0`, `<1.2` is `<1.2.0`.
  const bumped = m === null ? v(M + 1, 0, 0) : v(M, m + 1, 0);
  const floor = v(M, m ?? 0, 0);
  switch (op) {
    case '>':
      return [cmp('>=', bumped)];
    case '<=':
      return [cmp('<', bumped)];
    case '>=':
      return [cmp('>=', floor)];
    case '<':
      return [cmp('<', floor)];
  }
}

/** `~1.2.3` := `>=1.2.3 <1.3.0`, `~1.2` := `>=1.2.0 <1.3.0`, `~1` := `>=1.0.0 <2.0.0`. */
function tilde(p: PartialVersion): SemverComparator[] {
  const { major: M, minor: m, patch: pt } = p;
  if (M === null) return [];
  if (m === null) return [cmp('>=', v(M, 0, 0)), cmp('<', v(M + 1, 0, 0))];
  return [cmp('>=', v(M, m, pt ?? 0)), cmp('<', v(M, m + 1, 0))];
}

/** Caret: the left-most non-zero part may not change; `^0.2.3` := `>=0.2.3 <0.3.0`, `^0.0.3` := `>=0.0.3 <0.0.4`. */
function caret(p: PartialVersion): SemverComparator[] {
  const { major: M, minor: m, patch: pt } = p;
  if (M === null) return [];
  if (m === null) return [cmp('>=', v(M, 0, 0)), cmp('<', v(M + 1, 0, 0))];
  if (pt === null) {
    return M === 0
      ? [cmp('>=', v(0, m, 0)), cmp('<', v(0, m + 1, 0))]
      : [cmp('>=', v(M, m, 0)), cmp('<', v(M + 1, 0, 0))];
  }
  if (M !== 0) return [cmp('>=', v(M, m, pt)), cmp('<', v(M + 1, 0, 0))];
  if (m !== 0) return [cmp('>=', v(0, m, pt)), cmp('<', v(0, m + 1, 0))];
  return [cmp('>=', v(0, 0, pt)), cmp('<', v(0, 0, pt + 1))];
}

/** `1.2 - 2.3.4` := `>=1.2.0 <=2.3.4`; a partial upper end is exclusive of its next step (`1.2.3 - 2.3` := `>=1.2.3 <2.4.0`). */
function hyphen(from: PartialVersion, to: PartialVersion): SemverComparator[] {
  const out: SemverComparator[] = [];
  if (from.major !== null)
    out.push(cmp('>=', v(from.major, from.minor ?? 0, from.minor === null ? 0 : (from.patch ?? 0))));
  if (to.major !== null) {
    if (to.minor === null) out.push(cmp('<', v(to.major + 1, 0, 0)));
    else if (to.patch === null) out.push(cmp('<', v(to.major, to.minor + 1, 0)));
    else out.push(cmp('<=', v(to.major, to.minor, to.patch)));
  }
  return out;
}

function comparatorSet(text: string): SemverComparator[] {
  const tokens = tokenize(text);
  if (tokens.length === 0)
    throw new RangeSyntaxError('an empty range (or side of ||) is not allowed; write * for any version');
  const [a, dash, b] = tokens;
  if (tokens.length === 3 && dash!.op === '' && dash!.text === '-' && a!.op === '' && b!.op === '') {
    return hyphen(parsePartial(a!.text), parsePartial(b!.text));
  }
  const out: SemverComparator[] = [];
  for (const t of tokens) {
    if (t.op === '' && t.text === '-')
      throw new RangeSyntaxError('a hyphen range is exactly "A - B", with no operators and nothing else in its set');
    const p = parsePartial(t.text);
    switch (t.op) {
      case '':
      case '=':
        out.push(...xRange(p));
        break;
      case '~':
      case '~>':
        out.push(...tilde(p));
        break;
      case '^':
        out.push(...caret(p));
        break;
      default:
        out.push(...primitive(t.op as '<' | '<=' | '>' | '>=', p));
    }
  }
  return out;
}

function shown(s: string): string {
  return JSON.stringify(s.length > 80 ? s.slice(0, 80) + '…' : s);
}

/**
 * Parses a node-semver range (see the header of this file for the accepted forms). Attacker- or
 * operator-controlled text: throws only RemembrancerError INVALID_ARGUMENT.
 */
export function parseSemverRange(text: unknown): SemverRange {
  if (typeof text !== 'string')
    throw new RemembrancerError('INVALID_ARGUMENT', `invalid semver range: expected a string, got ${typeof text}`);
  if (text.length > SEMVER_RANGE_MAX_LENGTH) {
    throw new RemembrancerError(
      'INVALID_ARGUMENT',
      `invalid semver range ${shown(text)}: longer than ${SEMVER_RANGE_MAX_LENGTH} characters`,
    );
  }
  try {
    return { source: text, sets: text.split('||').map(comparatorSet) };
  } catch (e) {
    if (e instanceof RangeSyntaxError)
      throw new RemembrancerError('INVALID_ARGUMENT', `invalid semver range ${shown(text)}: ${e.message}`);
    throw e;
  }
}

function test(c: SemverComparator, version: SchemaVersion): boolean {
  const d = compareVersions(version, c.version);
  switch (c.operator) {
    case '<':
      return d < 0;
    case '<=':
      return d <= 0;
    case '>':
      return d > 0;
    case '>=':
      return d >= 0;
    case '=':
      return d === 0;
  }
}

function isVersion(x: SchemaVersion): boolean {
  return [x.major, x.minor, x.patch].every((n) => Number.isSafeInteger(n) && n >= 0);
}

/**
 * Whether `version` is in `range`. Like node-semver's satisfies(), an invalid version or range
 * string is simply not satisfied (so `1.01.0` satisfies nothing); use parseSemverRange to report
 * range errors.
 */
export function satisfies(version: SchemaVersion | string, range: SemverRange | string): boolean {
  let ver: SchemaVersion;
  let r: SemverRange;
  try {
    ver = typeof version === 'string' ? parseSchemaVersion(version) : version;
    r = typeof range === 'string' ? parseSemverRange(range) : range;
  } catch (e) {
    if (e instanceof RemembrancerError) return false;
    throw e;
  }
  if (!isVersion(ver)) return false;
  return r.sets.some((set) => set.every((c) => test(c, ver)));
}

/** The desugared form, e.g. `^1.2.3` → `>=1.2.3 <2.0.0`, `*` → `*`, `<*` → `<0.0.0`. */
export function formatSemverRange(range: SemverRange): string {
  return range.sets
    .map((set) =>
      set.length === 0
        ? '*'
        : set
            .map(
              (c) => `${c.operator === '=' ? '' : c.operator}${c.version.major}.${c.version.minor}.${c.version.patch}`,
            )
            .join(' '),
    )
    .join(' || ');
}
