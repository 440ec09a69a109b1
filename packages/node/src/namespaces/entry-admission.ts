import { RemembrancerError, isJsonObject, type JsonObject } from '@vaultmesh/core';
import { entryToBytes } from '../entries/entry-bytes.js';
import type { NamespaceDirectory } from './namespace-directory.js';
import type { QuotaGuard } from './quota-guard.js';
import type { RateLimiter } from './rate-limiter.js';
import type { SchemaRegistry } from './schema-registry.js';
import type { WriterAuthorization } from './writer-authorization.js';

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

  admit(namespace: string, token: string | undefined, entries: readonly unknown[], batch: boolean): AdmittedEntries {
    const rules = this.deps.directory.rules(namespace);
    if (!rules) throw new RemembrancerError('NAMESPACE_NOT_FOUND', `namespace '${namespace}' does not exist`);
    if (rules.system) throw new RemembrancerError('FORBIDDEN', `${namespace} is written by the node itself (governance documents go to POST /v1/governance)`);
    const objects: JsonObject[] = entries.map((e, i) => {
      if (!isJsonObject(e)) throw at(new RemembrancerError('ENTRY_NOT_OBJECT', 'an entry must be a JSON object'), batch ? i : undefined);
      return e;
    });
    this.deps.auth.authorizeToken(rules, token);
    objects.forEach((entry, i) => {
      try {
        this.deps.auth.authorizeEntry(rules, token, entry);
      } catch (e) {
        throw at(e, batch ? i : undefined);
      }
    });
    const { limits, schema_policy } = rules.spec;
    let total = 0;
    const bytes = objects.map((entry, i) => {
      const position = batch ? i : undefined;
      try {
        const data = entryToBytes(entry);
        if (data.length > limits.max_entry_bytes) {
          throw new RemembrancerError('ENTRY_TOO_LARGE', `entry is ${data.length} bytes of canonical JSON; ${namespace} accepts at most ${limits.max_entry_bytes}`);
        }
        this.deps.schemas.validateEntry(entry, schema_policy.allow);
        total += data.length;
        return data;
      } catch (e) {
        throw at(e, position);
      }
    });
    const release = this.deps.quota.reserve(namespace, bytes.length, total, limits);
    try {
      this.deps.rate.take(namespace, bytes.length, limits);
    } catch (e) {
      release();
      throw e;
    }
    return { bytes, release };
  }
}
