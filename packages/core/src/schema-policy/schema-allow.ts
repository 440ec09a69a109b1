import { RemembrancerError, errorMessage } from '../errors.js';
import { isSchemaName, type SchemaId } from './schema-id.js';
import { parseSemverRange, satisfies, type SemverRange } from './semver-range.js';

/*
 * A namespace's `schema_policy.allow` (issue 4, item 3): `"*"` accepts any entry, with or without
 * a schema; `name@RANGE` accepts entries whose `schema` names that schema at a version in the
 * node-semver RANGE (`registry.set@^1.0.0`, `invoice@~1.2.0`, `invoice@1.0.x`). Names never
 * contain `@`, so the pattern splits at its first `@` and the rest is the range. An empty list is
 * valid and accepts nothing.
 */

export const SCHEMA_ALLOW_ANY = '*';
export const SCHEMA_ALLOW_MAX_PATTERNS = 64;
export const SCHEMA_ALLOW_MAX_PATTERN_LENGTH = 256;

interface AllowPattern {
  readonly name: string;
  readonly range: SemverRange;
}

/** Throws RemembrancerError INVALID_ARGUMENT for anything but `*` or a valid `name@RANGE`. */
function parsePattern(pattern: string): AllowPattern {
  const at = pattern.indexOf('@');
  if (at < 0)
    throw new RemembrancerError(
      'INVALID_ARGUMENT',
      `expected "*" or name@RANGE (e.g. invoice@^1.0.0), got ${JSON.stringify(pattern.slice(0, 80))}`,
    );
  const name = pattern.slice(0, at);
  if (!isSchemaName(name))
    throw new RemembrancerError(
      'INVALID_ARGUMENT',
      `invalid schema name in ${JSON.stringify(pattern.slice(0, 80))}: expected lowercase words joined by . _ or -`,
    );
  return { name, range: parseSemverRange(pattern.slice(at + 1)) };
}

/**
 * Validates a `schema_policy.allow` value (operator input: an admin request or a governance
 * entry) and returns a copy. Errors are POLICY_INVALID pointing at `pointer` or its offending item.
 */
export function parseSchemaAllowList(value: unknown, pointer: string): string[] {
  if (!Array.isArray(value))
    throw new RemembrancerError('POLICY_INVALID', 'schema_policy.allow must be an array of "*" or name@RANGE strings', {
      pointer,
    });
  if (value.length > SCHEMA_ALLOW_MAX_PATTERNS) {
    throw new RemembrancerError(
      'POLICY_INVALID',
      `schema_policy.allow has ${value.length} patterns; at most ${SCHEMA_ALLOW_MAX_PATTERNS} are allowed`,
      { pointer },
    );
  }
  const seen = new Set<string>();
  const out: string[] = [];
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i];
    const at = `${pointer}/${i}`;
    if (typeof item !== 'string')
      throw new RemembrancerError(
        'POLICY_INVALID',
        `schema_policy.allow[${i}] must be a string, not ${item === null ? 'null' : typeof item}`,
        { pointer: at },
      );
    if (item.length > SCHEMA_ALLOW_MAX_PATTERN_LENGTH) {
      throw new RemembrancerError(
        'POLICY_INVALID',
        `schema_policy.allow[${i}] is longer than ${SCHEMA_ALLOW_MAX_PATTERN_LENGTH} characters`,
        { pointer: at },
      );
    }
    if (seen.has(item))
      throw new RemembrancerError('POLICY_INVALID', `schema_policy.allow[${i}] repeats ${JSON.stringify(item)}`, {
        pointer: at,
      });
    if (item !== SCHEMA_ALLOW_ANY) {
      try {
        parsePattern(item);
      } catch (e) {
        throw new RemembrancerError('POLICY_INVALID', `schema_policy.allow[${i}]: ${errorMessage(e)}`, {
          pointer: at,
          cause: e,
        });
      }
    }
    seen.add(item);
    out.push(item);
  }
  return out;
}

// Runs for every appended entry, so each pattern is parsed once. Patterns come from validated
// policies (a handful per namespace); the bound only keeps a stream of distinct policies from
// growing the cache without end. `null` caches a pattern that does not parse.
const CACHE_LIMIT = 4096;
const cache = new Map<string, AllowPattern | null>();

function cachedPattern(pattern: string): AllowPattern | null {
  let hit = cache.get(pattern);
  if (hit === undefined) {
    try {
      hit = parsePattern(pattern);
    } catch {
      hit = null;
    }
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(pattern, hit);
  }
  return hit;
}

/** True iff the list holds `"*"`: entries need no schema (those that name one are still validated). */
export function allowsAnyEntry(allow: readonly string[]): boolean {
  return allow.includes(SCHEMA_ALLOW_ANY);
}

/**
 * Whether an entry naming schema `id` may be stored under `allow`. A pattern that does not parse
 * (a list that skipped parseSchemaAllowList) matches nothing.
 */
export function schemaAllowed(id: SchemaId, allow: readonly string[]): boolean {
  for (const pattern of allow) {
    if (pattern === SCHEMA_ALLOW_ANY) return true;
    const p = cachedPattern(pattern);
    if (p !== null && p.name === id.name && satisfies(id.version, p.range)) return true;
  }
  return false;
}
