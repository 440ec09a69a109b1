import { publicKeyBase64 } from '@vaultmesh/core';
import type { NodeIdentity } from '../config/node-config.js';

/**
 * The owner a node's PostgreSQL database records (PgLogStorage): its name and its log key, so a
 * second node — or the same name with other keys — pointed at the database by mistake is refused
 * instead of writing into another node's logs. Every front end of one node has the same identity.
 */
export function postgresOwner(identity: NodeIdentity): string {
  return `${identity.config.name} ${publicKeyBase64(identity.logSeed)}`;
}
