import { RemembrancerError } from '@vaultmesh/core';

/** Where a node keeps its state: files in its data directory (the default), or a PostgreSQL database. */
export type StorageConfig = SqliteStorageConfig | PostgresStorageConfig;

export interface SqliteStorageConfig {
  kind: 'sqlite';
}

export interface PostgresStorageConfig {
  kind: 'postgres';
  /** postgres://user[:password]@host[:port]/database[?host=/socket/dir] — one database per node. */
  url: string;
  /** Connections each front end keeps (default DEFAULT_PG_MAX_CONNECTIONS). */
  maxConnections: number;
  /** Length of the sequencing lease, ms (default DEFAULT_PG_LEASE_TTL_MS): failover takes about this long. */
  leaseTtlMs: number;
}

export const DEFAULT_STORAGE: StorageConfig = { kind: 'sqlite' };
export const DEFAULT_PG_MAX_CONNECTIONS = 10;
export const DEFAULT_PG_LEASE_TTL_MS = 2_000;

/** Whether a string is a PostgreSQL connection URL (what `serve --storage` takes). */
export function isPostgresUrl(s: string): boolean {
  return /^postgres(ql)?:\/\//.test(s);
}

function positiveInteger(v: unknown, min: number, what: string, file: string): number {
  if (!Number.isSafeInteger(v) || (v as number) < min)
    throw new RemembrancerError('CONFIG_INVALID', `${file}: ${what} must be an integer of at least ${min}`);
  return v as number;
}

/**
 * `storage` in config.json: absent or {"kind": "sqlite"}, or {"kind": "postgres", "url": …,
 * "maxConnections"?, "leaseTtlMs"?}. Unknown members are refused (a typo must not silently fall
 * back to a default). The URL may hold a password: config.json is 0600.
 */
export function parseStorageConfig(raw: unknown, file: string): StorageConfig {
  if (raw === undefined) return DEFAULT_STORAGE;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new RemembrancerError('CONFIG_INVALID', `${file}: storage must be an object`);
  const o = raw as Record<string, unknown>;
  if (o.kind === 'sqlite') {
    const extra = Object.keys(o).filter((k) => k !== 'kind');
    if (extra.length > 0)
      throw new RemembrancerError('CONFIG_INVALID', `${file}: storage.${extra[0]} is not known for kind "sqlite"`);
    return DEFAULT_STORAGE;
  }
  if (o.kind !== 'postgres')
    throw new RemembrancerError('CONFIG_INVALID', `${file}: storage.kind must be "sqlite" or "postgres"`);
  const known = new Set(['kind', 'url', 'maxConnections', 'leaseTtlMs']);
  const extra = Object.keys(o).filter((k) => !known.has(k));
  if (extra.length > 0)
    throw new RemembrancerError(
      'CONFIG_INVALID',
      `${file}: storage.${extra[0]} is not known (kind "postgres" takes url, maxConnections, leaseTtlMs)`,
    );
  if (typeof o.url !== 'string' || !isPostgresUrl(o.url))
    throw new RemembrancerError('CONFIG_INVALID', `${file}: storage.url must be a postgres:// or postgresql:// URL`);
  return {
    kind: 'postgres',
    url: o.url,
    maxConnections:
      o.maxConnections === undefined
        ? DEFAULT_PG_MAX_CONNECTIONS
        : positiveInteger(o.maxConnections, 1, 'storage.maxConnections', file),
    leaseTtlMs:
      o.leaseTtlMs === undefined
        ? DEFAULT_PG_LEASE_TTL_MS
        : positiveInteger(o.leaseTtlMs, 100, 'storage.leaseTtlMs', file),
  };
}

/** `serve --storage`: a PostgreSQL URL (other settings from config.json's storage, or defaults), or "sqlite". */
export function storageFromFlag(flag: string, configured: StorageConfig): StorageConfig {
  if (flag === 'sqlite') return DEFAULT_STORAGE;
  if (!isPostgresUrl(flag))
    throw new RemembrancerError('CONFIG_INVALID', `--storage must be "sqlite" or a postgres:// URL`);
  return configured.kind === 'postgres'
    ? { ...configured, url: flag }
    : { kind: 'postgres', url: flag, maxConnections: DEFAULT_PG_MAX_CONNECTIONS, leaseTtlMs: DEFAULT_PG_LEASE_TTL_MS };
}
