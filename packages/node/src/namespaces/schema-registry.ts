import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import {
  RemembrancerError,
  allowsAnyEntry,
  canonicalize,
  compareVersions,
  errorMessage,
  parseSchemaId,
  pointerToken,
  schemaAllowed,
  type SchemaId,
  type SchemaVersion,
} from '@vaultmesh/core';

/*
 * The node's JSON Schemas (issue 4, item 3): the files of the repository's `schemas/` plus those
 * registered through governance, keyed by `name@MAJOR.MINOR.PATCH`. Schemas are JSON Schema draft
 * 2020-12 (https://json-schema.org/draft/2020-12/json-schema-core) compiled by ajv in strict mode
 * (https://ajv.js.org/strict-mode.html): unknown keywords, unknown formats and ambiguous types are
 * refused when a schema is registered, so a typo can never make a schema accept more than its
 * author meant.
 */

export type SchemaSource = 'file' | 'governance';

/** Governance schemas come from operators; this bounds the work and memory one registration may cost. */
export const SCHEMA_MAX_BYTES = 64 * 1024;
/** Deeper than any real schema; keeps the recursive canonicalizer and compiler far from the stack limit. */
export const SCHEMA_MAX_DEPTH = 64;

/** Top-level entry members that are the envelope, not the data a schema describes. */
export const ENTRY_ENVELOPE_MEMBERS: readonly string[] = ['schema', 'signatures'];

const FILE_NAME = /^(.+)\.json$/;

interface Registered {
  readonly id: SchemaId;
  readonly schema: object;
  readonly jcs: string;
  readonly source: SchemaSource;
  readonly validate: ValidateFunction;
}

/**
 * `<repo>/schemas/`. This file runs as packages/node/src/namespaces/schema-registry.ts (tsx) or
 * packages/node/dist/namespaces/schema-registry.js: both four levels below the repository root.
 */
export function defaultSchemaDir(): string {
  return fileURLToPath(new URL('../../../../schemas/', import.meta.url));
}

function newAjv(): Ajv2020 {
  // allErrors: false stops at the first failure (less work on attacker input, one clear error).
  return new Ajv2020({ strict: true, allErrors: false });
}

function invalid(id: string, why: string, cause?: unknown): RemembrancerError {
  return new RemembrancerError(
    'POLICY_INVALID',
    `schema ${shorten(id, 140)}: ${why}`,
    cause === undefined ? undefined : { cause },
  );
}

/** Iterative, so a hostile nesting depth is reported instead of overflowing the stack. */
function depthWithin(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d > max) return false;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return true;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** The last path segment of a `$id` URI, without query or fragment. */
function idFileName(uri: string): string {
  const path = uri.replace(/[?#].*$/, '');
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Where an ajv error is: the member a `required`-like keyword misses or refuses, else the value. */
function errorPointer(e: ErrorObject): string {
  const params = e.params as Record<string, unknown>;
  for (const key of ['missingProperty', 'additionalProperty', 'unevaluatedProperty', 'propertyName']) {
    const member = params[key];
    if (typeof member === 'string') return `${e.instancePath}/${pointerToken(member)}`;
  }
  return e.instancePath;
}

/**
 * ajv lists the failures under a combinator before the combinator's own error, so the last one
 * is the keyword that decided. `if` only says "must match then": the error before it is the
 * `then`/`else` failure, which is required and more useful.
 */
function decisiveError(errors: readonly ErrorObject[]): ErrorObject | undefined {
  const last = errors.at(-1);
  if (last?.keyword === 'if' && errors.length > 1) return errors.at(-2);
  return last;
}

/** Carries a POLICY_INVALID out of prepare() with the news that ajv may hold part of the schema. */
class CompileError extends Error {
  constructor(readonly error: RemembrancerError) {
    super(error.message);
  }
}

function shorten(s: string, max = 200): string {
  return s.length > max ? s.slice(0, max) + '…' : s;
}

export class SchemaRegistry {
  private ajv = newAjv();
  private readonly byId = new Map<string, Registered>();

  /**
   * Registers every `name@MAJOR.MINOR.PATCH.json` of `dir` (README.md and other files are
   * skipped), in file-name order so that loading is deterministic. Any bad file is an error: the
   * repository's schemas are part of the protocol.
   */
  static load(dir: string = defaultSchemaDir()): SchemaRegistry {
    const registry = new SchemaRegistry();
    for (const file of readdirSync(dir).sort()) {
      const m = FILE_NAME.exec(file);
      if (!m) continue;
      const id = m[1]!;
      let schema: unknown;
      try {
        schema = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      } catch (e) {
        throw invalid(id, `${join(dir, file)} is not readable JSON: ${errorMessage(e)}`, e);
      }
      registry.register(id, schema as object, 'file');
    }
    return registry;
  }

  /**
   * Compiles and adds a schema. Operator input when `source` is governance: bounded in size and
   * depth, and must compile in ajv strict mode. Registering the same JCS bytes again is a no-op;
   * different bytes under a registered id are refused (a released schema never changes). A `$id`
   * must end in `<id>.json` (or `<id>`) and a `title` of the form `name@…` must name the same
   * schema, so a file cannot claim another schema's identity. Errors are POLICY_INVALID and leave
   * the registry as it was.
   */
  register(id: string, schema: object, source: SchemaSource): void {
    let prepared: Registered | undefined;
    try {
      prepared = this.prepare(id, schema, source, this.ajv);
    } catch (e) {
      // ajv keeps half-added schemas (and their $ids) when compiling fails; start over from what is held.
      if (e instanceof CompileError) this.rebuildAjv();
      throw e instanceof CompileError ? e.error : e;
    }
    if (prepared) this.byId.set(id, prepared);
  }

  /**
   * Whether register(id, schema, 'governance') would succeed, without registering anything: for
   * vetting a governance document before it is appended. Throws the same POLICY_INVALID errors.
   */
  check(id: string, schema: unknown): void {
    const scratch = newAjv();
    for (const [held, r] of this.byId) scratch.addSchema(r.schema, held, undefined, false);
    try {
      this.prepare(id, schema, 'governance', scratch);
    } catch (e) {
      throw e instanceof CompileError ? e.error : e;
    }
  }

  /** Everything register() checks, compiled with `ajv`; undefined when the same schema is held. */
  private prepare(id: string, schema: unknown, source: SchemaSource, ajv: Ajv2020): Registered | undefined {
    let parsed: SchemaId;
    try {
      parsed = parseSchemaId(id);
    } catch (e) {
      throw new RemembrancerError('POLICY_INVALID', errorMessage(e), { cause: e });
    }
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema))
      throw invalid(id, 'a schema must be a JSON object');
    if (!depthWithin(schema, SCHEMA_MAX_DEPTH)) throw invalid(id, `nested deeper than ${SCHEMA_MAX_DEPTH} levels`);
    let jcs: string;
    try {
      jcs = canonicalize(schema);
    } catch (e) {
      throw invalid(id, `not plain JSON: ${errorMessage(e)}`, e);
    }
    const bytes = new TextEncoder().encode(jcs).length;
    if (bytes > SCHEMA_MAX_BYTES)
      throw invalid(id, `${bytes} bytes of canonical JSON; at most ${SCHEMA_MAX_BYTES} are allowed`);

    const held = this.byId.get(id);
    if (held) {
      if (held.jcs === jcs) return undefined;
      throw invalid(
        id,
        `already registered (from ${held.source}) with a different schema; a released schema never changes, publish a new version`,
      );
    }

    // A private, frozen copy: the caller's object may change later, ajv keys its cache on identity.
    const copy = deepFreeze(JSON.parse(jcs) as Record<string, unknown>);
    const $id = copy['$id'];
    if ($id !== undefined) {
      if (typeof $id !== 'string') throw invalid(id, '$id must be a string');
      const last = idFileName($id);
      if (last !== `${id}.json` && last !== id)
        throw invalid(
          id,
          `its $id ${JSON.stringify(shorten($id))} names another schema (expected it to end in ${id}.json)`,
        );
    }
    const title = copy['title'];
    if (
      typeof title === 'string' &&
      /^[a-z0-9._-]+@/.test(title) &&
      title.slice(0, title.indexOf('@')) !== parsed.name
    ) {
      throw invalid(id, `its title ${JSON.stringify(shorten(title))} names another schema`);
    }

    let validate: ValidateFunction;
    try {
      validate = ajv.compile(copy);
    } catch (e) {
      throw new CompileError(invalid(id, `does not compile in strict mode: ${errorMessage(e)}`, e));
    }
    // An async validator returns a promise, which a synchronous check would take for success.
    if ((validate as { $async?: unknown }).$async === true)
      throw new CompileError(invalid(id, '$async schemas are not supported'));
    return { id: parsed, schema: copy, jcs, source, validate };
  }

  private rebuildAjv(): void {
    this.ajv = newAjv();
    // Re-adding (not recompiling, nor re-validating) keeps $ref between registered schemas
    // working; the validators already compiled keep working on their own.
    for (const [id, r] of this.byId) this.ajv.addSchema(r.schema, id, undefined, false);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** Registered ids, sorted by name then version. */
  ids(): string[] {
    return [...this.byId.entries()]
      .sort(([, a], [, b]) =>
        a.id.name < b.id.name ? -1 : a.id.name > b.id.name ? 1 : compareVersions(a.id.version, b.id.version),
      )
      .map(([id]) => id);
  }

  /** The schema JSON (deeply frozen), or undefined. */
  get(id: string): object | undefined {
    return this.byId.get(id)?.schema;
  }

  source(id: string): SchemaSource | undefined {
    return this.byId.get(id)?.source;
  }

  /** Registered versions of one schema name, ascending. */
  versionsOf(name: string): SchemaVersion[] {
    return [...this.byId.values()]
      .filter((r) => r.id.name === name)
      .map((r) => r.id.version)
      .sort(compareVersions);
  }

  /**
   * Issue 4, item 3: may `entry` be stored in a namespace whose schema_policy.allow is `allow`?
   * The entry is attacker-controlled. Throws (and the caller stores nothing):
   * - SCHEMA_REQUIRED at /schema: no `schema` member and `allow` lacks "*";
   * - SCHEMA_NOT_ALLOWED at /schema: `schema` is not a valid id, or no allow pattern matches it;
   * - SCHEMA_UNKNOWN at /schema: a valid, allowed id that is not registered ("*" included);
   * - SCHEMA_VALIDATION_FAILED at the failing member: the entry does not match the schema.
   * The schema describes the entry without its envelope members (`schema`, `signatures`), so
   * pointers are paths in the entry as sent.
   */
  validateEntry(entry: Record<string, unknown>, allow: readonly string[]): void {
    if (!Object.hasOwn(entry, 'schema')) {
      if (allowsAnyEntry(allow)) return;
      throw new RemembrancerError(
        'SCHEMA_REQUIRED',
        'this namespace only accepts entries that name their schema in a "schema" member (name@MAJOR.MINOR.PATCH)',
        { pointer: '/schema' },
      );
    }
    const raw = entry['schema'];
    let id: SchemaId;
    try {
      id = parseSchemaId(raw);
    } catch (e) {
      throw new RemembrancerError('SCHEMA_NOT_ALLOWED', `malformed schema id: ${errorMessage(e)}`, {
        pointer: '/schema',
        cause: e,
      });
    }
    const idText = raw as string;
    if (!schemaAllowed(id, allow)) {
      throw new RemembrancerError(
        'SCHEMA_NOT_ALLOWED',
        `schema ${idText} is not allowed by this namespace's schema_policy.allow`,
        { pointer: '/schema' },
      );
    }
    const held = this.byId.get(idText);
    if (!held)
      throw new RemembrancerError('SCHEMA_UNKNOWN', `schema ${idText} is not registered on this node`, {
        pointer: '/schema',
      });

    const subject: Record<string, unknown> = { ...entry };
    for (const member of ENTRY_ENVELOPE_MEMBERS) delete subject[member];
    if (!held.validate(subject)) throw validationFailure('entry', idText, held.validate);
  }

  /**
   * Validates a whole document, envelope included, against schema `id`: for the node's own
   * documents (governance, federation) whose schemas describe their `schema` and `signatures`
   * members too. Attacker-controlled `doc`. Throws SCHEMA_UNKNOWN (pointer /schema) or
   * SCHEMA_VALIDATION_FAILED (pointer of the failing member).
   */
  validateDocument(id: string, doc: unknown): void {
    const held = this.byId.get(id);
    if (!held)
      throw new RemembrancerError('SCHEMA_UNKNOWN', `schema ${shorten(String(id))} is not registered on this node`, {
        pointer: '/schema',
      });
    if (!held.validate(doc)) throw validationFailure('document', id, held.validate);
  }
}

function validationFailure(what: string, id: string, validate: ValidateFunction): RemembrancerError {
  const error = decisiveError(validate.errors ?? []);
  const pointer = error ? errorPointer(error) : '';
  const where = pointer === '' ? '' : ` at ${shorten(pointer)}`;
  return new RemembrancerError(
    'SCHEMA_VALIDATION_FAILED',
    `${what} does not match ${id}${where}: ${error?.message ?? 'invalid'}`,
    { pointer },
  );
}
