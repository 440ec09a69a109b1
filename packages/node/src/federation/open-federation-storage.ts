import { join } from 'node:path';
import type { StorageTarget } from '../storage/storage-target.js';
import type { FederationStorage } from './federation-storage.js';
import { PgFederationStorage } from './pg-federation-storage.js';
import { SqliteFederationStorage } from './sqlite-federation-storage.js';

/** File name of the federation database inside a node's data directory. */
export const FEDERATION_DB_FILE = 'federation.sqlite';

/**
 * The node's federation state where its stores are: its own SQLite file in the data directory
 * (FEDERATION_DB_FILE), or the PostgreSQL tables with the lease's fence, which PgFederationStorage
 * checks for cosignatures only (the lease holder's work; every other write serves any front end).
 */
export async function openFederationStorage(target: StorageTarget): Promise<FederationStorage> {
  return target.kind === 'sqlite'
    ? SqliteFederationStorage.open(join(target.dataDir, FEDERATION_DB_FILE))
    : PgFederationStorage.open({ db: target.db, fence: target.fence });
}
