import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import pg from 'pg';
import { startPostgresCluster, type PostgresCluster } from './postgres-cluster.js';

// The harness every PostgreSQL test of issue 14 stands on: a real cluster of the test's own.
let cluster: PostgresCluster;
before(async () => {
  cluster = await startPostgresCluster();
});
after(async () => {
  await cluster?.stop();
});

test('a real cluster answers over its own socket, durably, and is gone after stop', async () => {
  const client = new pg.Client({ connectionString: cluster.url });
  await client.connect();
  try {
    const r = await client.query<{ v: string; fsync: string; listen: string }>(
      `SELECT version() AS v, current_setting('fsync') AS fsync, current_setting('listen_addresses') AS listen`,
    );
    assert.match(r.rows[0]!.v, /^PostgreSQL \d+/);
    assert.equal(r.rows[0]!.fsync, 'on');
    assert.equal(r.rows[0]!.listen, '', 'no TCP listener: the socket in the cluster directory only');
    await client.query('CREATE TABLE t (id bigint PRIMARY KEY, body text NOT NULL)');
    await client.query('INSERT INTO t VALUES ($1, $2)', [1, 'memory']);
    assert.deepEqual((await client.query('SELECT body FROM t')).rows, [{ body: 'memory' }]);
  } finally {
    await client.end();
  }
  const dir = cluster.socketDir;
  await cluster.stop();
  assert.equal(existsSync(dir), false, 'the cluster directory is removed');
  // A second stop (the after hook) is harmless.
});
