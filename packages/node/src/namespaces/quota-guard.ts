import { RemembrancerError } from '@vaultmesh/core';
import type { LogEngine } from '../log/log-engine.js';

/** The storage-quota part of a namespace's limits (structurally the `limits` of its policy); null: unlimited. */
export interface QuotaLimits {
  quota_entries: number | null;
  quota_bytes: number | null;
}

interface InFlight {
  entries: number;
  bytes: number;
}

function checkAmount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RemembrancerError('INVALID_ARGUMENT', `${name} must be a non-negative integer, got ${String(value)}`);
  }
}

function checkQuota(name: string, value: number | null): void {
  if (value !== null && (!Number.isSafeInteger(value) || value < 0)) {
    throw new RemembrancerError(
      'INVALID_ARGUMENT',
      `${name} must be a non-negative integer or null, got ${String(value)}`,
    );
  }
}

/**
 * Storage quotas per namespace: what is committed (the engine's sequencedSize and storedBytes,
 * both kept durably) plus what admitted appends have reserved but not yet committed must stay
 * within quota_entries and quota_bytes. Reserving before the append and releasing when it settles
 * keeps concurrent appends from overshooting together. Between an append's commit and its release
 * its entries count twice (committed and reserved): the guard errs towards refusing for that
 * moment, never towards exceeding the quota.
 */
export class QuotaGuard {
  private readonly inFlight = new Map<string, InFlight>();

  constructor(private readonly engine: LogEngine) {}

  /**
   * Reserves room for an append of `entries` entries totalling `bytes` bytes (sizes of an
   * attacker-supplied request; checked), or throws QUOTA_EXCEEDED and reserves nothing. Returns
   * the release function; the caller calls it once the append resolved or rejected (further calls
   * do nothing). Throws NAMESPACE_NOT_FOUND for an unknown namespace.
   */
  reserve(namespace: string, entries: number, bytes: number, limits: QuotaLimits): () => void {
    checkAmount('entries', entries);
    checkAmount('bytes', bytes);
    checkQuota('quota_entries', limits.quota_entries);
    checkQuota('quota_bytes', limits.quota_bytes);
    const storedEntries = this.engine.sequencedSize(namespace); // NAMESPACE_NOT_FOUND for an unknown one
    const held = this.inFlight.get(namespace) ?? { entries: 0, bytes: 0 };
    if (limits.quota_entries !== null && storedEntries + held.entries + entries > limits.quota_entries) {
      throw exceeded(namespace, 'entries', limits.quota_entries, storedEntries, held.entries, entries);
    }
    if (limits.quota_bytes !== null) {
      const stored = this.engine.storedBytes(namespace);
      if (stored + held.bytes + bytes > limits.quota_bytes) {
        throw exceeded(namespace, 'bytes', limits.quota_bytes, stored, held.bytes, bytes);
      }
    }
    held.entries += entries;
    held.bytes += bytes;
    this.inFlight.set(namespace, held);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      held.entries -= entries;
      held.bytes -= bytes;
      if (held.entries === 0 && held.bytes === 0 && this.inFlight.get(namespace) === held)
        this.inFlight.delete(namespace);
    };
  }

  /** Entries and bytes reserved by appends not yet released, for metrics and tests. */
  reserved(namespace: string): { entries: number; bytes: number } {
    const held = this.inFlight.get(namespace);
    return { entries: held?.entries ?? 0, bytes: held?.bytes ?? 0 };
  }
}

function exceeded(
  namespace: string,
  unit: 'entries' | 'bytes',
  quota: number,
  stored: number,
  inFlight: number,
  request: number,
): RemembrancerError {
  return new RemembrancerError(
    'QUOTA_EXCEEDED',
    `namespace ${namespace} would exceed its storage quota of ${quota} ${unit}: ${stored} stored` +
      (inFlight > 0 ? ` and ${inFlight} in appends under way` : '') +
      `, this request adds ${request}`,
  );
}
