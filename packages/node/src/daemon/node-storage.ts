import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { base64Encode, crypto } from '@vaultmesh/core';
import type { NodeIdentity } from '../config/node-config.js';
import type { StorageConfig } from '../config/storage-config.js';
import { openLogEngine, openLogEngineOn, type LogEngineConfig, type ObservableLogEngine } from '../log/index.js';
import { PgDatabase, PgLogStorage, SequencingLease, redactUrl } from '../storage/postgres/index.js';
import type { StorageTarget } from '../storage/storage-target.js';
import { postgresOwner } from './postgres-owner.js';

/** Where a node process keeps its state, opened: its stores' target, its log engine, its lease. */
export interface NodeStorage {
  readonly kind: StorageConfig['kind'];
  readonly target: StorageTarget;
  /** With PostgreSQL: the sequencing lease this front end competes for (none with SQLite: it leads alone). */
  readonly lease: SequencingLease | undefined;
  /** Names this front end among the node's front ends (in the lease row and in logs). */
  readonly frontEnd: string;
  openEngine(
    config: Omit<LogEngineConfig, 'nodeName' | 'logSeed'> & { synchronous?: 'FULL' | 'NORMAL' },
  ): Promise<ObservableLogEngine>;
  /** Closes the PostgreSQL pool (after every store and the engine closed). */
  close(): Promise<void>;
}

export interface OpenNodeStorageOptions {
  identity: NodeIdentity;
  storage: StorageConfig;
  logger?: Logger;
}

/** A front end's name: host, process and a random suffix (a restarted process is a new front end). */
function frontEndName(): string {
  return `${hostname()}:${process.pid}:${base64Encode(crypto.randomBytes(6)).replace(/[+/=]/g, '')}`;
}

/**
 * Opens the node's storage as configured (issue 14): SQLite files in the data directory, or the
 * node's PostgreSQL database — one pool for every store of this front end, the lease row, and
 * the log in shared-sequencing mode (PgLogStorage, fenced by the lease).
 */
export async function openNodeStorage(options: OpenNodeStorageOptions): Promise<NodeStorage> {
  const { identity } = options;
  const frontEnd = frontEndName();
  const engineConfig = { nodeName: identity.config.name, logSeed: identity.logSeed };
  if (options.storage.kind === 'sqlite') {
    return {
      kind: 'sqlite',
      target: { kind: 'sqlite', dataDir: identity.dataDir },
      lease: undefined,
      frontEnd,
      openEngine: (config) => openLogEngine({ ...config, ...engineConfig, dbPath: identity.dbPath }),
      close: () => Promise.resolve(),
    };
  }
  const pg = options.storage;
  const db = await PgDatabase.open({
    url: pg.url,
    what: 'node',
    maxConnections: pg.maxConnections,
    applicationName: `remembrancer ${identity.config.name}`,
    onIdleError: (e) => options.logger?.warn({ err: e.message }, 'a PostgreSQL connection failed while idle'),
  });
  try {
    const lease = await SequencingLease.open({ db, holder: frontEnd, ttlMs: pg.leaseTtlMs });
    options.logger?.info({ database: redactUrl(pg.url), frontEnd }, 'storage: PostgreSQL');
    return {
      kind: 'postgres',
      target: { kind: 'postgres', db, fence: lease },
      lease,
      frontEnd,
      openEngine: async (config) => {
        const { synchronous: _sqliteOnly, ...rest } = config;
        const storage = await PgLogStorage.open({ db, owner: postgresOwner(identity), fence: lease });
        return openLogEngineOn(storage, { ...rest, ...engineConfig });
      },
      close: () => db.close(),
    };
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
}
