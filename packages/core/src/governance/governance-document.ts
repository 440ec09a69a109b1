import { parseCadence, type CadenceSpec } from '../cadence/index.js';
import { utf8Encode } from '../encoding/bytes.js';
import { errorMessage } from '../errors.js';
import { isUtcTimestamp } from '../federation/timestamp.js';
import { canonicalBytes, canonicalize } from '../jcs/index.js';
import { documentSignatures, type DocumentSignature } from '../namespace/entry-signatures.js';
import {
  child,
  integerIn,
  isObject,
  objectWith,
  refuse,
  stringMatching,
  type JsonObject,
} from '../namespace/json-members.js';
import { NAMESPACE_ID_PATTERN } from '../namespace/namespace-id.js';
import {
  LATER_SPEC_MEMBERS,
  NAMESPACE_SPEC_MEMBERS,
  parseNamespaceSpec,
  type RecordedNamespaceSpec,
} from '../namespace/namespace-spec.js';
import { MAX_ENTRY_BYTES } from '../entry/index.js';
import { parseSchemaId } from '../schema-policy/index.js';
import { underPointer } from './governance-invalid.js';

/*
 * The documents of the governance log (issue 4, item 7): JCS JSON objects appended as entries to
 * the node's `sys:governance` namespace, signed by operator keys, each taking effect at its
 * `effective_after`. The live namespace rules are exactly the replay of these documents
 * (governance-replay.ts), so each one carries everything replay needs and nothing else: complete,
 * normalized specs (never defaults, which could change between releases), no unknown members; the
 * one exception is a spec member added after documents were first recorded (LATER_SPEC_MEMBERS,
 * e.g. `messaging`), which a document recorded before may lack and replay reads as its default.
 * Documents arrive from operators over HTTP and from peers' logs: everything here treats them as
 * attacker-controlled. Schemas: schemas/namespace.create@1.0.0.json and its three siblings.
 */

export const NAMESPACE_CREATE_SCHEMA = 'namespace.create@1.0.0';
export const NAMESPACE_POLICY_SET_SCHEMA = 'namespace.policy.set@1.0.0';
export const CADENCE_SET_SCHEMA = 'governance.cadence.set@1.0.0';
export const SCHEMA_REGISTER_SCHEMA = 'schema.register@1.0.0';
export const GOVERNANCE_SCHEMAS = [
  NAMESPACE_CREATE_SCHEMA,
  NAMESPACE_POLICY_SET_SCHEMA,
  CADENCE_SET_SCHEMA,
  SCHEMA_REGISTER_SCHEMA,
] as const;
export type GovernanceSchema = (typeof GOVERNANCE_SCHEMAS)[number];

/** Namespaces the node keeps for itself; no governance document may create or change one. */
export const SYSTEM_NAMESPACE_PREFIX = 'sys:';
export const GOVERNANCE_NAMESPACE = 'sys:governance';

/** A registered JSON Schema's bound, in bytes of JCS (the entry limit, 65,535 bytes for the whole document, is tighter). */
export const MAX_SCHEMA_DEFINITION_BYTES = 64 * 1024;
/** Nesting bound of a registered JSON Schema: the node's schema compiler recurses over it. */
export const MAX_SCHEMA_DEFINITION_DEPTH = 64;

// Type aliases, not interfaces: documents must be assignable to JsonObject (signingBytes, signDocument).
type GovernanceCommon = {
  /** RFC 3339 UTC: when the document was written (informational). */
  issued_at: string;
  /** RFC 3339 UTC: the change is in force from this instant on. */
  effective_after: string;
  /** Operator signatures (entry-signatures.ts); absent on an unsigned draft. */
  signatures?: DocumentSignature[];
};

export type NamespaceCreate = GovernanceCommon & {
  schema: typeof NAMESPACE_CREATE_SCHEMA;
  namespace: string;
  version: 1;
  /** Complete; `messaging` is absent only in documents recorded before it existed (specInForce completes it). */
  spec: RecordedNamespaceSpec;
};

/** Replaces the whole spec of an existing namespace. */
export type NamespacePolicySet = GovernanceCommon & {
  schema: typeof NAMESPACE_POLICY_SET_SCHEMA;
  namespace: string;
  /** The namespace's rules version after this change: the current version + 1. */
  version: number;
  /** Complete; `messaging` is absent only in documents recorded before it existed (specInForce completes it). */
  spec: RecordedNamespaceSpec;
};

/** Replaces only the cadence of an existing namespace's spec. */
export type CadenceSet = GovernanceCommon & {
  schema: typeof CADENCE_SET_SCHEMA;
  namespace: string;
  version: number;
  cadence: CadenceSpec;
};

export type SchemaRegister = GovernanceCommon & {
  schema: typeof SCHEMA_REGISTER_SCHEMA;
  /** `name@MAJOR.MINOR.PATCH`. */
  schema_id: string;
  /** A JSON Schema object; the node compiles it, core only bounds it. */
  definition: JsonObject;
};

export type GovernanceDocument = NamespaceCreate | NamespacePolicySet | CadenceSet | SchemaRegister;

const E = 'GOVERNANCE_INVALID' as const;
const COMMON_MEMBERS = ['schema', 'issued_at', 'effective_after', 'signatures'] as const;
const MEMBERS: Record<GovernanceSchema, readonly string[]> = {
  [NAMESPACE_CREATE_SCHEMA]: [...COMMON_MEMBERS, 'namespace', 'version', 'spec'],
  [NAMESPACE_POLICY_SET_SCHEMA]: [...COMMON_MEMBERS, 'namespace', 'version', 'spec'],
  [CADENCE_SET_SCHEMA]: [...COMMON_MEMBERS, 'namespace', 'version', 'cadence'],
  [SCHEMA_REGISTER_SCHEMA]: [...COMMON_MEMBERS, 'schema_id', 'definition'],
};

export function isGovernanceSchema(v: unknown): v is GovernanceSchema {
  return typeof v === 'string' && (GOVERNANCE_SCHEMAS as readonly string[]).includes(v);
}

export function isSystemNamespace(id: string): boolean {
  return id.startsWith(SYSTEM_NAMESPACE_PREFIX);
}

function shown(value: unknown): string {
  const text = canonicalize(value);
  return text.length > 160 ? `${text.slice(0, 160)}…` : text;
}

/** Refuses `given` unless it is byte-for-byte (JCS) the normalized `parsed`: replay must never depend on defaults or on normalization rules. */
function requireNormalized(given: JsonObject, parsed: object, pointer: string, members: readonly string[]): void {
  const p = parsed as JsonObject;
  for (const k of members) {
    if (canonicalize(given[k]) !== canonicalize(p[k])) {
      refuse(
        E,
        child(pointer, k),
        `is not in normalized form; governance documents carry it exactly as ${shown(p[k])}`,
      );
    }
  }
}

/**
 * A complete, normalized namespace spec at `pointer` (`/spec`), returned with exactly the members
 * given: a member added later (LATER_SPEC_MEMBERS) that a document recorded before lacks stays
 * absent, so the document's bytes, and the operator signatures over them, are what was signed.
 */
function completeSpec(value: unknown, pointer: string): RecordedNamespaceSpec {
  if (!isObject(value)) refuse(E, pointer, 'must be a JSON object (a complete namespace spec)');
  const later: readonly string[] = LATER_SPEC_MEMBERS;
  const given = NAMESPACE_SPEC_MEMBERS.filter((k) => Object.hasOwn(value, k));
  for (const k of NAMESPACE_SPEC_MEMBERS) {
    if (!given.includes(k) && !later.includes(k))
      refuse(
        E,
        child(pointer, k),
        'is required: governance documents carry the complete spec, so replay never depends on defaults',
      );
  }
  const spec: RecordedNamespaceSpec = underPointer(pointer, () => parseNamespaceSpec(value));
  requireNormalized(value, spec, pointer, given);
  for (const k of LATER_SPEC_MEMBERS) if (!given.includes(k)) delete spec[k];
  return spec;
}

function normalizedCadence(value: unknown, pointer: string): CadenceSpec {
  const cadence = underPointer('', () => parseCadence(value, pointer));
  // parseCadence accepted `value`, so it is an object; compare it level by level.
  const levels = Object.keys(value as JsonObject);
  for (const k of Object.keys(cadence)) if (!levels.includes(k)) levels.push(k);
  requireNormalized(value as JsonObject, cadence, pointer, levels);
  return cadence;
}

function targetNamespace(value: unknown): string {
  const id = stringMatching(
    E,
    value,
    '/namespace',
    NAMESPACE_ID_PATTERN,
    'a namespace id <tenant>:<name>, e.g. dao:vaultmesh',
  );
  if (isSystemNamespace(id))
    refuse(
      E,
      '/namespace',
      `${id} is reserved: namespaces starting with ${SYSTEM_NAMESPACE_PREFIX} belong to the node`,
    );
  return id;
}

function timestamp(value: unknown, pointer: string): string {
  if (!isUtcTimestamp(value)) refuse(E, pointer, 'must be an RFC 3339 UTC timestamp such as 2025-01-31T12:00:00Z');
  return value;
}

function schemaId(value: unknown): string {
  try {
    parseSchemaId(value);
  } catch (e) {
    refuse(E, '/schema_id', `must be a schema id name@MAJOR.MINOR.PATCH: ${errorMessage(e)}`);
  }
  return value as string;
}

/** True iff arrays and objects nest deeper than `limit` levels in `value` (the outermost is level 1); iterative, so depth cannot exhaust the stack. */
function depthExceeds(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d > limit) return true;
    for (const c of Array.isArray(v) ? v : Object.values(v)) stack.push([c, d + 1]);
  }
  return false;
}

function schemaDefinition(value: unknown): JsonObject {
  const pointer = '/definition';
  if (!isObject(value)) refuse(E, pointer, 'must be a JSON Schema object');
  if (depthExceeds(value, MAX_SCHEMA_DEFINITION_DEPTH))
    refuse(E, pointer, `nests deeper than ${MAX_SCHEMA_DEFINITION_DEPTH} levels`);
  const text = canonicalize(value);
  const size = utf8Encode(text).length;
  if (size > MAX_SCHEMA_DEFINITION_BYTES)
    refuse(E, pointer, `is ${size} bytes of canonical JSON; at most ${MAX_SCHEMA_DEFINITION_BYTES} are allowed`);
  // A plain copy: the caller's object stays the caller's, and JSON.parse keeps a `__proto__` member as data.
  return JSON.parse(text) as JsonObject;
}

/**
 * Checks a governance document (parsed JSON, attacker-controlled) and returns a copy holding exactly
 * its members. Every member is required except `signatures` (absent on an unsigned draft; whether
 * enough operators signed is verifyGovernanceSignatures' business). Specs and cadences must be
 * complete and normalized (parseNamespaceSpec / parseCadence return them unchanged). Errors are
 * GOVERNANCE_INVALID with the RFC 6901 pointer of the offending member, e.g. `/spec/limits/burst`.
 */
export function parseGovernanceDocument(json: unknown): GovernanceDocument {
  if (!isObject(json)) refuse(E, '', 'a governance document must be a JSON object');
  const schema = json['schema'];
  if (!isGovernanceSchema(schema)) refuse(E, '/schema', `must be one of ${GOVERNANCE_SCHEMAS.join(', ')}`);
  const o = objectWith(E, json, '', MEMBERS[schema]);
  for (const k of MEMBERS[schema]) {
    if (k !== 'signatures' && !Object.hasOwn(o, k)) refuse(E, child('', k), 'is required');
  }
  let size: number;
  try {
    size = canonicalBytes(o).length;
  } catch (e) {
    return refuse(E, '', `is not plain JSON: ${errorMessage(e)}`);
  }
  // Governance documents are entries of sys:governance: a larger one could never be appended.
  if (size > MAX_ENTRY_BYTES)
    refuse(E, '', `is ${size} bytes of canonical JSON; an entry holds at most ${MAX_ENTRY_BYTES}`);

  const issued_at = timestamp(o['issued_at'], '/issued_at');
  const effective_after = timestamp(o['effective_after'], '/effective_after');
  const sigs = documentSignatures(o, E);
  const common = sigs === undefined ? { issued_at, effective_after } : { issued_at, effective_after, signatures: sigs };

  switch (schema) {
    case NAMESPACE_CREATE_SCHEMA: {
      const namespace = targetNamespace(o['namespace']);
      if (o['version'] !== 1) refuse(E, '/version', 'must be 1: a namespace is created at version 1');
      return { schema, namespace, version: 1, spec: completeSpec(o['spec'], '/spec'), ...common };
    }
    case NAMESPACE_POLICY_SET_SCHEMA: {
      const namespace = targetNamespace(o['namespace']);
      const version = integerIn(E, o['version'], '/version', 2, Number.MAX_SAFE_INTEGER);
      return { schema, namespace, version, spec: completeSpec(o['spec'], '/spec'), ...common };
    }
    case CADENCE_SET_SCHEMA: {
      const namespace = targetNamespace(o['namespace']);
      const version = integerIn(E, o['version'], '/version', 2, Number.MAX_SAFE_INTEGER);
      return { schema, namespace, version, cadence: normalizedCadence(o['cadence'], '/cadence'), ...common };
    }
    case SCHEMA_REGISTER_SCHEMA:
      return { schema, schema_id: schemaId(o['schema_id']), definition: schemaDefinition(o['definition']), ...common };
  }
}
