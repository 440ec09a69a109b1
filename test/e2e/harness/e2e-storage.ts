import pg from 'pg';

/**
 * Which storage the end-to-end tests' nodes use (issue 14: "the existing route and e2e tests run
 * on PostgreSQL too"). With REMEMBRANCER_E2E_POSTGRES set to a cluster's URL (scripts/run-tests.mjs
 * starts one for its PostgreSQL pass), every data directory served gets a database of its own in
 * that cluster, made at its first start and kept across restarts; otherwise nodes keep SQLite files
 * in their data directories.
 */
const assigned = new Map<string, Promise<string>>();
let made = 0;

export function e2eStorage(dataDir: string): Promise<string | undefined> {
  const cluster = process.env.REMEMBRANCER_E2E_POSTGRES;
  if (cluster === undefined || cluster === '') return Promise.resolve(undefined);
  let url = assigned.get(dataDir);
  if (url === undefined) {
    url = createDatabase(cluster, `e2e_${process.pid}_${++made}`);
    assigned.set(dataDir, url);
  }
  return url;
}

async function createDatabase(clusterUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: clusterUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const u = new URL(clusterUrl);
  u.pathname = `/${name}`;
  return u.toString();
}
