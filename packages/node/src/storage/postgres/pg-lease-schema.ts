import type { PgSchema } from './pg-migrations.js';

/**
 * The leases of a node's front ends (issue 14). One row per lease (today one: 'sequencer'):
 * who holds it, the fencing token granted with it (it only grows: every takeover adds one), until
 * when (PostgreSQL's clock: the only clock every front end shares), and where the holder serves
 * (so other front ends can say where the singleton work runs).
 */
export const PG_LEASE_SCHEMA: PgSchema = {
  store: 'lease',
  migrations: [
    `
    CREATE TABLE lease_holders (
      name        TEXT PRIMARY KEY,
      holder      TEXT NOT NULL,
      token       BIGINT NOT NULL CHECK (token >= 1),
      expires_at  TIMESTAMPTZ NOT NULL,
      holder_url  TEXT NOT NULL DEFAULT '',
      acquired_at TIMESTAMPTZ NOT NULL
    );
    `,
  ],
};
