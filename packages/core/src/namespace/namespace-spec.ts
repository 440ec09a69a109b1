import { loneSurrogateAt } from '../jcs/unicode.js';
import { parseCadence, type CadenceSpec } from '../cadence/index.js';
import { NODE_NAME_PATTERN } from '../federation/registry-set.js';
import { parseSchemaAllowList } from '../schema-policy/index.js';
import { MAX_ENTRY_BYTES } from '../entry/index.js';
import { WRITER_ID_PATTERN } from './writer-id.js';
import { defaultMessagingRules, parseMessagingRules, type MessagingRules } from './messaging-rules.js';
export { WRITER_ID_PATTERN } from './writer-id.js';
import {
  arrayOf,
  base64OfLength,
  child,
  integerIn,
  isObject,
  objectWith,
  refuse,
  stringMatching,
} from './json-members.js';

/*
 * A namespace's rules, one JSON shape for `PUT /v1/ns/{ns}` and the governance entries that record
 * every change (namespace.create@1.0.0, namespace.policy.set@1.0.0): who must witness, which schemas
 * entries may claim, who may write and read, how much, how often to anchor, and which messages of
 * other namespaces it takes (messaging-rules.ts). Specs arrive from operators over HTTP and from
 * the governance log, so the parser treats them as attacker-controlled: every member is checked,
 * unknown members are refused, and errors carry the member's JSON pointer.
 */

export const VISIBILITIES = ['public', 'private'] as const;
export type Visibility = (typeof VISIBILITIES)[number];

/** Cosignatures by at least `min_required` distinct peers of `allowlist` seal a checkpoint. */
export interface WitnessPolicy {
  min_required: number;
  /** Federation peer ids (node names) whose witness counts. */
  allowlist: string[];
}

/** `*` (anything, no schema needed) or `name@<semver range>` patterns, e.g. `invoice@^1.2.0`. */
export interface SchemaPolicy {
  allow: string[];
}

export const WRITER_SCOPES = ['write', 'read'] as const;
export type WriterScope = (typeof WRITER_SCOPES)[number];

/** A writer that signs each entry: Ed25519 over the entry's JCS bytes without `signatures`. */
export interface KeyWriter {
  id: string;
  /** base64 of the 32-byte Ed25519 public key. */
  ed25519: string;
}

/**
 * A bearer-token holder. Only the token's SHA-256 is stored, because specs are recorded in the
 * public governance log; the token itself is shown once, to whoever created it.
 */
export interface TokenWriter {
  id: string;
  /** Lowercase hex SHA-256 of the token's UTF-8 bytes. */
  token_sha256: string;
  /** `write` appends (and reads back), `read` reads a private namespace: a read-only token is a reader. */
  scopes: WriterScope[];
}

export type NamespaceWriter = KeyWriter | TokenWriter;

export interface NamespaceLimits {
  /** Largest entry, in bytes of canonical JSON (at most the tlog-tiles bound, 65,535). */
  max_entry_bytes: number;
  /** Sustained entries per second (token bucket refill); null: unlimited. */
  rate_per_second: number | null;
  /** Bucket size, entries; set exactly when rate_per_second is. */
  burst: number | null;
  /** Most entries the namespace may hold; null: unlimited. */
  quota_entries: number | null;
  /** Most bytes of stored entries; null: unlimited. */
  quota_bytes: number | null;
}

export interface NamespaceSpec {
  description: string;
  visibility: Visibility;
  witness_policy: WitnessPolicy;
  schema_policy: SchemaPolicy;
  writers: NamespaceWriter[];
  limits: NamespaceLimits;
  cadence: CadenceSpec;
  messaging: MessagingRules;
}

export const NAMESPACE_SPEC_MEMBERS = [
  'description',
  'visibility',
  'witness_policy',
  'schema_policy',
  'writers',
  'limits',
  'cadence',
  'messaging',
] as const;

/**
 * Members added to the spec after governance documents were first recorded (`messaging`, issue
 * 12): a namespace.create or namespace.policy.set recorded before may lack them, and must still
 * replay, so a recorded spec may omit them and reads as their defaults (specInForce). Documents
 * built now always carry them (parseNamespaceSpec returns them).
 */
export const LATER_SPEC_MEMBERS = ['messaging'] as const;
export type LaterSpecMember = (typeof LATER_SPEC_MEMBERS)[number];

/** A spec as a governance document records it: complete, except that members added later may be absent. */
export type RecordedNamespaceSpec = Omit<NamespaceSpec, LaterSpecMember> &
  Partial<Pick<NamespaceSpec, LaterSpecMember>>;

/** The rules a recorded spec puts in force: a copy, members added later given their defaults when absent. */
export function specInForce(recorded: RecordedNamespaceSpec): NamespaceSpec {
  const spec = structuredClone(recorded);
  return { ...spec, messaging: spec.messaging ?? defaultMessagingRules() };
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;
export const MAX_DESCRIPTION_LENGTH = 1024;
export const MAX_WRITERS = 256;
export const MAX_WITNESS_ALLOWLIST = 256;
/** Upper bound for rates and bursts: far above what one node sequences, so only typos are refused. */
export const MAX_RATE = 1_000_000;

/** What a namespace gets when its creator says nothing: open to any entry, written by the operator only. */
export function defaultNamespaceSpec(): NamespaceSpec {
  return {
    description: '',
    visibility: 'public',
    witness_policy: { min_required: 0, allowlist: [] },
    schema_policy: { allow: ['*'] },
    writers: [],
    limits: {
      max_entry_bytes: MAX_ENTRY_BYTES,
      rate_per_second: null,
      burst: null,
      quota_entries: null,
      quota_bytes: null,
    },
    cadence: {},
    messaging: defaultMessagingRules(),
  };
}

const E = 'POLICY_INVALID' as const;

function parseWitnessPolicy(value: unknown, pointer: string): WitnessPolicy {
  const o = objectWith(E, value, pointer, ['min_required', 'allowlist']);
  // Absent (or undefined) takes the default; null is an error, so `=== undefined`, never `??`.
  const allowlist = arrayOf(
    E,
    o['allowlist'] === undefined ? [] : o['allowlist'],
    child(pointer, 'allowlist'),
    MAX_WITNESS_ALLOWLIST,
    (v, p) => stringMatching(E, v, p, NODE_NAME_PATTERN, 'a peer id (a node name such as beta.vaultmesh.local)'),
  );
  allowlist.forEach((id, i) => {
    if (allowlist.indexOf(id) !== i) refuse(E, child(child(pointer, 'allowlist'), i), `peer ${id} is listed twice`);
  });
  const min = integerIn(
    E,
    o['min_required'] === undefined ? 0 : o['min_required'],
    child(pointer, 'min_required'),
    0,
    MAX_WITNESS_ALLOWLIST,
  );
  if (min > allowlist.length) {
    refuse(
      E,
      child(pointer, 'min_required'),
      `requires ${min} witnesses but the allowlist names only ${allowlist.length}`,
    );
  }
  return { min_required: min, allowlist };
}

function parseWriter(value: unknown, pointer: string): NamespaceWriter {
  if (!isObject(value)) refuse(E, pointer, 'must be a JSON object');
  const id = stringMatching(
    E,
    value['id'],
    child(pointer, 'id'),
    WRITER_ID_PATTERN,
    'a writer id (letters, digits and . _ : @ / -, at most 128)',
  );
  if ('ed25519' in value) {
    objectWith(E, value, pointer, ['id', 'ed25519']);
    return {
      id,
      ed25519: base64OfLength(E, value['ed25519'], child(pointer, 'ed25519'), 32, 'a 32-byte Ed25519 public key'),
    };
  }
  if ('token_sha256' in value) {
    objectWith(E, value, pointer, ['id', 'token_sha256', 'scopes']);
    const hash = stringMatching(
      E,
      value['token_sha256'],
      child(pointer, 'token_sha256'),
      HEX_SHA256,
      'the lowercase hex SHA-256 of the token',
    );
    const scopes = arrayOf(
      E,
      value['scopes'] === undefined ? ['write'] : value['scopes'],
      child(pointer, 'scopes'),
      WRITER_SCOPES.length,
      (v, p) => {
        if (!WRITER_SCOPES.includes(v as WriterScope)) refuse(E, p, `must be one of ${WRITER_SCOPES.join(', ')}`);
        return v as WriterScope;
      },
    );
    if (scopes.length === 0) refuse(E, child(pointer, 'scopes'), 'must name at least one scope');
    if (new Set(scopes).size !== scopes.length) refuse(E, child(pointer, 'scopes'), 'lists a scope twice');
    return { id, token_sha256: hash, scopes: WRITER_SCOPES.filter((s) => scopes.includes(s)) };
  }
  return refuse(E, pointer, 'a writer has either "ed25519" (a public key) or "token_sha256" (a bearer token hash)');
}

function parseWriters(value: unknown, pointer: string): NamespaceWriter[] {
  const writers = arrayOf(E, value, pointer, MAX_WRITERS, parseWriter);
  const seen = new Set<string>();
  writers.forEach((w, i) => {
    // Ids name signers in entries, keys and hashes authenticate: each must pick out one writer.
    for (const k of [`id:${w.id}`, 'ed25519' in w ? `key:${w.ed25519}` : `token:${w.token_sha256}`]) {
      if (seen.has(k)) refuse(E, child(pointer, i), `duplicates another writer's ${k.slice(0, k.indexOf(':'))}`);
      seen.add(k);
    }
  });
  return writers;
}

function nullableInteger(value: unknown, pointer: string, min: number, max: number): number | null {
  return value === null ? null : integerIn(E, value, pointer, min, max);
}

function parseLimits(value: unknown, pointer: string, base: NamespaceLimits): NamespaceLimits {
  const o = objectWith(E, value, pointer, [
    'max_entry_bytes',
    'rate_per_second',
    'burst',
    'quota_entries',
    'quota_bytes',
  ]);
  const get = <K extends keyof NamespaceLimits>(k: K): unknown => (k in o ? o[k] : base[k]);
  const maxEntry = integerIn(E, get('max_entry_bytes'), child(pointer, 'max_entry_bytes'), 2, MAX_ENTRY_BYTES);
  const rate = get('rate_per_second');
  if (rate !== null && (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0 || rate > MAX_RATE)) {
    refuse(
      E,
      child(pointer, 'rate_per_second'),
      `must be null or a number of entries per second above 0 and at most ${MAX_RATE}`,
    );
  }
  // A burst without a rate has no meaning, and a rate alone gets the smallest bucket that passes it.
  let burst =
    'burst' in o
      ? nullableInteger(o['burst'], child(pointer, 'burst'), 1, MAX_RATE)
      : rate === null
        ? null
        : base.burst;
  if (rate === null && burst !== null) refuse(E, child(pointer, 'burst'), 'a burst needs a rate_per_second');
  if (rate !== null && burst === null) burst = Math.max(1, Math.ceil(rate));
  return {
    max_entry_bytes: maxEntry,
    rate_per_second: rate,
    burst,
    quota_entries: nullableInteger(get('quota_entries'), child(pointer, 'quota_entries'), 1, Number.MAX_SAFE_INTEGER),
    quota_bytes: nullableInteger(get('quota_bytes'), child(pointer, 'quota_bytes'), 1, Number.MAX_SAFE_INTEGER),
  };
}

/**
 * Checks a namespace spec and returns it complete and normalized. Members absent from `value` keep
 * their value in `base` (the namespace's current spec when a policy changes; the defaults when one
 * is created; a base recorded without a member added later gives that member's default), so
 * `{"description": "x"}` changes only the description. `limits` merges member by member in the
 * same way; every other member is replaced whole (`messaging` and `witness_policy` given in part
 * are completed with their own defaults, not with the base's members).
 */
export function parseNamespaceSpec(
  value: unknown,
  base: RecordedNamespaceSpec = defaultNamespaceSpec(),
): NamespaceSpec {
  const o = objectWith(E, value, '', NAMESPACE_SPEC_MEMBERS);
  // Absent (or undefined) keeps the base value; null is an error, so `=== undefined`, never `??`.
  const description = o['description'] === undefined ? base.description : o['description'];
  if (typeof description !== 'string' || [...description].length > MAX_DESCRIPTION_LENGTH) {
    refuse(E, '/description', `must be a string of at most ${MAX_DESCRIPTION_LENGTH} characters`);
  }
  // Specs are stored and signed as JCS, which has no encoding for a lone surrogate (RFC 8785 §3.2.2.2).
  if (loneSurrogateAt(description) >= 0)
    refuse(E, '/description', 'contains a lone surrogate, which JSON text cannot carry');
  const visibility = o['visibility'] === undefined ? base.visibility : o['visibility'];
  if (!VISIBILITIES.includes(visibility as Visibility)) refuse(E, '/visibility', 'must be "public" or "private"');
  return {
    description,
    visibility: visibility as Visibility,
    witness_policy:
      'witness_policy' in o
        ? parseWitnessPolicy(o['witness_policy'], '/witness_policy')
        : structuredClone(base.witness_policy),
    schema_policy:
      'schema_policy' in o
        ? {
            allow: parseSchemaAllowList(
              objectWith(E, o['schema_policy'], '/schema_policy', ['allow'])['allow'],
              '/schema_policy/allow',
            ),
          }
        : structuredClone(base.schema_policy),
    writers: 'writers' in o ? parseWriters(o['writers'], '/writers') : structuredClone(base.writers),
    limits: 'limits' in o ? parseLimits(o['limits'], '/limits', base.limits) : { ...base.limits },
    cadence: 'cadence' in o ? parseCadence(o['cadence'], '/cadence') : structuredClone(base.cadence),
    messaging:
      o['messaging'] !== undefined
        ? parseMessagingRules(o['messaging'], '/messaging')
        : base.messaging === undefined
          ? defaultMessagingRules()
          : structuredClone(base.messaging),
  };
}

/** The writer's scopes: key writers sign appends; token writers hold what their token grants. */
export function writerScopes(w: NamespaceWriter): readonly WriterScope[] {
  return 'ed25519' in w ? ['write'] : w.scopes;
}
