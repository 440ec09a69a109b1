import pg from 'pg';
import { startPostgresCluster, type PostgresCluster, type PostgresClusterOptions } from './postgres-cluster.js';

/**
 * One real cluster for a test file and a fresh, empty database per test from it: tests are
 * isolated without paying initdb each time. Databases go with the cluster at stop().
 */
export interface TestPostgres {
  readonly cluster: PostgresCluster;
  /** Creates database `t<n>` and returns its URL. */
  freshDatabase(): Promise<string>;
  stop(): Promise<void>;
}

/** The cluster's URL pointing at another database of it. */
export function databaseUrl(clusterUrl: string, database: string): string {
  const u = new URL(clusterUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Creates an empty database `name` on the cluster; its URL. */
export async function createDatabase(cluster: PostgresCluster, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: cluster.url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return databaseUrl(cluster.url, name);
}

export async function startTestPostgres(options: PostgresClusterOptions = {}): Promise<TestPostgres> {
  // fsync off by default: these tests check behaviour, not power-loss durability (crash tests turn it on).
  const cluster = await startPostgresCluster({ fsync: false, ...options });
  let n = 0;
  return {
    cluster,
    freshDatabase: () => createDatabase(cluster, `t${++n}`),
    stop: () => cluster.stop(),
  };
}
