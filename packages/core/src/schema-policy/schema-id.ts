import { RemembrancerError, errorMessage } from '../errors.js';

/*
 * Schema ids are `name@MAJOR.MINOR.PATCH` (DESIGN.md, `schemas/`): one JSON Schema file per
 * version. Versions are SemVer 2.0.0 version cores (https://semver.org/spec/v2.0.0.html §2): three
 * non-negative integers without leading zeros. Pre-release and build suffixes (§9, §10) are NOT
 * part of a schema id: a schema file never changes once released, so there is nothing to
 * pre-release, and a second spelling of the same version (`1.0.0+x`) would let two files claim one
 * id. Numbers above Number.MAX_SAFE_INTEGER are refused because they cannot be compared exactly.
 */

export interface SchemaVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

export interface SchemaId {
  readonly name: string;
  readonly version: SchemaVersion;
}

/** Lowercase words joined by single `.`, `_` or `-`: `invoice`, `namespace.create`, `federation.registry.set`. */
export const SCHEMA_NAME_PATTERN = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
export const SCHEMA_NAME_MAX_LENGTH = 128;

/**
 * The shape of a schema id. Matching it is necessary, not sufficient: parseSchemaId also bounds
 * the name length and each number (≤ Number.MAX_SAFE_INTEGER).
 */
export const SCHEMA_ID_PATTERN =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*@(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)$/;

const VERSION_PATTERN = /^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$/;
// MAX_SAFE_INTEGER has 16 digits; anything longer is refused before the regular expression runs.
const VERSION_MAX_LENGTH = 3 * 16 + 2;

function shown(s: unknown): string {
  return typeof s === 'string' ? JSON.stringify(s.length > 140 ? s.slice(0, 140) + '…' : s) : typeof s;
}

/** A numeric identifier of a version: digits only, no leading zero, exactly representable. */
export function parseVersionNumber(digits: string, what: string): number {
  const n = Number(digits);
  if (!Number.isSafeInteger(n)) {
    throw new RemembrancerError(
      'INVALID_ARGUMENT',
      `${what} ${digits} exceeds ${Number.MAX_SAFE_INTEGER} (Number.MAX_SAFE_INTEGER)`,
    );
  }
  return n;
}

export function isSchemaName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= SCHEMA_NAME_MAX_LENGTH && SCHEMA_NAME_PATTERN.test(name);
}

/**
 * Parses `MAJOR.MINOR.PATCH` strictly: `1.01.0`, `v1.0.0`, `1.0` and `1.0.0-rc.1` are not versions.
 * Attacker-controlled input (entries name their schema): throws INVALID_ARGUMENT, callers rewrap.
 */
export function parseSchemaVersion(s: unknown): SchemaVersion {
  if (typeof s !== 'string' || s.length > VERSION_MAX_LENGTH) {
    throw new RemembrancerError('INVALID_ARGUMENT', `invalid version ${shown(s)}: expected MAJOR.MINOR.PATCH`);
  }
  const m = VERSION_PATTERN.exec(s);
  if (!m) {
    throw new RemembrancerError(
      'INVALID_ARGUMENT',
      `invalid version ${shown(s)}: expected MAJOR.MINOR.PATCH of decimal numbers without leading zeros (no pre-release or build suffix)`,
    );
  }
  return {
    major: parseVersionNumber(m[1]!, 'major version'),
    minor: parseVersionNumber(m[2]!, 'minor version'),
    patch: parseVersionNumber(m[3]!, 'patch version'),
  };
}

/** Parses `name@MAJOR.MINOR.PATCH`. Attacker-controlled input: throws INVALID_ARGUMENT, callers rewrap. */
export function parseSchemaId(s: unknown): SchemaId {
  if (typeof s !== 'string') {
    throw new RemembrancerError(
      'INVALID_ARGUMENT',
      `invalid schema id: expected a string name@MAJOR.MINOR.PATCH, got ${shown(s)}`,
    );
  }
  const at = s.indexOf('@');
  if (at < 0) {
    throw new RemembrancerError('INVALID_ARGUMENT', `invalid schema id ${shown(s)}: expected name@MAJOR.MINOR.PATCH`);
  }
  const name = s.slice(0, at);
  if (!isSchemaName(name)) {
    throw new RemembrancerError(
      'INVALID_ARGUMENT',
      `invalid schema id ${shown(s)}: the name must match ${SCHEMA_NAME_PATTERN.source} and have at most ${SCHEMA_NAME_MAX_LENGTH} characters`,
    );
  }
  let version: SchemaVersion;
  try {
    version = parseSchemaVersion(s.slice(at + 1));
  } catch (e) {
    throw new RemembrancerError('INVALID_ARGUMENT', `invalid schema id ${shown(s)}: ${errorMessage(e)}`, { cause: e });
  }
  return { name, version };
}

export function isSchemaId(s: unknown): s is string {
  try {
    parseSchemaId(s);
    return true;
  } catch {
    return false;
  }
}

function checkVersion(v: SchemaVersion): void {
  for (const [what, n] of [
    ['major', v.major],
    ['minor', v.minor],
    ['patch', v.patch],
  ] as const) {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new RemembrancerError(
        'INVALID_ARGUMENT',
        `invalid ${what} version ${String(n)}: expected a non-negative safe integer`,
      );
    }
  }
}

export function formatSchemaVersion(v: SchemaVersion): string {
  checkVersion(v);
  return `${v.major}.${v.minor}.${v.patch}`;
}

/** The inverse of parseSchemaId; refuses parts that would not parse back. */
export function formatSchemaId(id: SchemaId): string {
  if (!isSchemaName(id.name)) {
    throw new RemembrancerError(
      'INVALID_ARGUMENT',
      `invalid schema name ${shown(id.name)}: expected ${SCHEMA_NAME_PATTERN.source}, at most ${SCHEMA_NAME_MAX_LENGTH} characters`,
    );
  }
  return `${id.name}@${formatSchemaVersion(id.version)}`;
}

/** SemVer 2.0.0 §11 precedence of version cores: -1, 0 or 1. */
export function compareVersions(a: SchemaVersion, b: SchemaVersion): -1 | 0 | 1 {
  if (a.major !== b.major) return a.major < b.major ? -1 : 1;
  if (a.minor !== b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch !== b.patch) return a.patch < b.patch ? -1 : 1;
  return 0;
}
