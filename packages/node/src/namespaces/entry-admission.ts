import {
  RemembrancerError,
  SIGNATURES_MEMBER,
  isJsonObject,
  refuseNodeBuiltFormat,
  type JsonObject,
} from '@vaultmesh/core';
import { entryToBytes } from '../entries/entry-bytes.js';
import type { NamespaceDirectory, NamespaceRules } from './namespace-directory.js';
import type { QuotaGuard } from './quota-guard.js';
import type { RateLimiter } from './rate-limiter.js';
import type { SchemaRegistry } from './schema-registry.js';
import type { WriterAuthorization } from './writer-authorization.js';

/** Signed entries verified between two turns of the event loop (~5 ms of Ed25519 verification). */
export const SIGNED_ENTRIES_PER_SLICE = 32;

export interface AdmittedEntries {
  /** Canonical bytes of each entry, in order: what the log stores. */
  bytes: Uint8Array[];
  /** Releases the storage-quota reservation; call once the append settled (either way). */
  release(): void;
}

/** Prefixes a batch member's position to an error (its pointer gains `/entries/<i>`). */
function at(e: unknown, position: number | undefined): unknown {
  if (position === undefined || !(e instanceof RemembrancerError)) return e;
  return new RemembrancerError(e.code, `entries[${position}]: ${e.message}`, {
    cause: e,
    pointer: `/entries/${position}${e.pointer ?? ''}`,
  });
}

/**
 * Every rule a namespace puts on an append, checked before anything is queued, cheapest and most
 * telling first: the namespace exists and takes writes (404/403), the caller may write (401/403),
 * each entry fits the namespace's size limit (413) and its schema policy (422), the namespace has
 * quota left (507) and rate tokens (429). A refused request changes nothing: no entry is queued,
 * no quota stays reserved, no rate token is spent.
 */
export class EntryAdmission {
  constructor(
    private readonly deps: {
      directory: NamespaceDirectory;
      auth: WriterAuthorization;
      schemas: SchemaRegistry;
      rate: RateLimiter;
      quota: QuotaGuard;
    },
  ) {}

  /**
   * What can be decided before the body is read: the namespace exists and takes writes, a bearer
   * token (if any) writes here, and without one the namespace has key writers whose signatures
   * could authorize the entries. An unauthenticated request is so refused without parsing a byte.
   */
  preflight(namespace: string, token: string | undefined): void {
    const rules = this.writableRules(namespace);
    this.deps.auth.authorizeToken(rules, token);
    if (token === undefined && !rules.spec.writers.some((w) => 'ed25519' in w)) {
      throw new RemembrancerError('UNAUTHORIZED', `writing to ${namespace} needs a bearer token`);
    }
  }

  /** All checks at once, synchronously (in-process callers; the routes use admitYielding). */
  admit(namespace: string, token: string | undefined, entries: readonly unknown[], batch: boolean): AdmittedEntries {
    const { rules, objects } = this.prepare(namespace, token, entries, batch);
    objects.forEach((entry, i) => this.authorizeEntry(rules, token, entry, batch ? i : undefined));
    return this.finish(rules, objects, batch);
  }

  /**
   * The same checks, but writer signatures are verified a slice at a time with the event loop
   * free in between: an Ed25519 verification costs ~150 µs, so a signed batch of 10,000 would
   * otherwise hold every other tenant's requests for ~1.5 s.
   */
  async admitYielding(
    namespace: string,
    token: string | undefined,
    entries: readonly unknown[],
    batch: boolean,
  ): Promise<AdmittedEntries> {
    const { rules, objects } = this.prepare(namespace, token, entries, batch);
    let signed = 0;
    for (let i = 0; i < objects.length; i++) {
      const entry = objects[i]!;
      if (SIGNATURES_MEMBER in entry && ++signed % SIGNED_ENTRIES_PER_SLICE === 0)
        await new Promise((resolve) => setImmediate(resolve));
      this.authorizeEntry(rules, token, entry, batch ? i : undefined);
    }
    // Rules may have changed while we yielded: the rest is checked against the rules in force now.
    return this.finish(this.deps.directory.rules(namespace) ?? rules, objects, batch);
  }

  /**
   * Entries the node itself built for a writer (cross-namespace messages, issue 12), as canonical
   * bytes: the namespace exists and takes writes, each entry fits its size limit, and its quota
   * and rate apply, as to any append. The writer's bearer token is the caller's to have checked
   * (these entries carry no writer signature: the node made them). The schema policy does not
   * apply: the entries' shape is fixed by their own format (namespace.message@1.0.0, checked when
   * built), not chosen by the writer, so a namespace that allows only its own schemas still sends.
   */
  admitNodeBuilt(namespace: string, bytes: readonly Uint8Array[]): AdmittedEntries {
    const rules = this.writableRules(namespace);
    const { limits } = rules.spec;
    let total = 0;
    bytes.forEach((data, i) => {
      if (data.length > limits.max_entry_bytes) {
        throw at(
          new RemembrancerError(
            'ENTRY_TOO_LARGE',
            `entry is ${data.length} bytes of canonical JSON; ${rules.id} accepts at most ${limits.max_entry_bytes}`,
          ),
          bytes.length > 1 ? i : undefined,
        );
      }
      total += data.length;
    });
    return { bytes: [...bytes], release: this.reserveLimits(rules, bytes.length, total) };
  }

  /** The rules of a namespace that exists and takes writes through the entry routes. */
  private writableRules(namespace: string): NamespaceRules {
    const rules = this.deps.directory.rules(namespace);
    if (!rules) throw new RemembrancerError('NAMESPACE_NOT_FOUND', `namespace '${namespace}' does not exist`);
    if (rules.system) {
      throw new RemembrancerError(
        'FORBIDDEN',
        `${namespace} is written by the node itself (governance documents go to POST /v1/governance)`,
      );
    }
    return rules;
  }

  /** The namespace takes writes, every entry is an object, and the bearer token (if any) may write here. */
  private prepare(
    namespace: string,
    token: string | undefined,
    entries: readonly unknown[],
    batch: boolean,
  ): { rules: NamespaceRules; objects: JsonObject[] } {
    const rules = this.writableRules(namespace);
    const objects: JsonObject[] = entries.map((e, i) => {
      if (!isJsonObject(e))
        throw at(new RemembrancerError('ENTRY_NOT_OBJECT', 'an entry must be a JSON object'), batch ? i : undefined);
      try {
        refuseNodeBuiltFormat(e);
      } catch (err) {
        throw at(err, batch ? i : undefined);
      }
      return e;
    });
    this.deps.auth.authorizeToken(rules, token);
    return { rules, objects };
  }

  private authorizeEntry(
    rules: NamespaceRules,
    token: string | undefined,
    entry: JsonObject,
    position: number | undefined,
  ): void {
    try {
      this.deps.auth.authorizeEntry(rules, token, entry);
    } catch (e) {
      throw at(e, position);
    }
  }

  /** Size and schema per entry, then quota and rate for the whole request. */
  private finish(rules: NamespaceRules, objects: readonly JsonObject[], batch: boolean): AdmittedEntries {
    const { limits, schema_policy } = rules.spec;
    let total = 0;
    const bytes = objects.map((entry, i) => {
      try {
        const data = entryToBytes(entry);
        if (data.length > limits.max_entry_bytes) {
          throw new RemembrancerError(
            'ENTRY_TOO_LARGE',
            `entry is ${data.length} bytes of canonical JSON; ${rules.id} accepts at most ${limits.max_entry_bytes}`,
          );
        }
        this.deps.schemas.validateEntry(entry, schema_policy.allow);
        total += data.length;
        return data;
      } catch (e) {
        throw at(e, batch ? i : undefined);
      }
    });
    return { bytes, release: this.reserveLimits(rules, bytes.length, total) };
  }

  /** Quota for `count` entries of `total` bytes, then rate tokens; a refused rate gives the quota back. Returns the quota's release. */
  private reserveLimits(rules: NamespaceRules, count: number, total: number): () => void {
    const release = this.deps.quota.reserve(rules.id, count, total, rules.spec.limits);
    try {
      this.deps.rate.take(rules.id, count, rules.spec.limits);
    } catch (e) {
      release();
      throw e;
    }
    return release;
  }
}
