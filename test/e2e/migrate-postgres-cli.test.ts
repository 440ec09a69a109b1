import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MigrationReport } from '@vaultmesh/node';
import { startTestPostgres, type TestPostgres } from '../../packages/node/test/storage/postgres/test-databases.js';
import { runCli, startServe } from './harness/cli-process.js';
import { freePorts } from '../../packages/node/test/federation/federation-fixture.js';

// `remembrancer migrate --from DIR --to postgres://…` as an operator runs it (issue 14,
// must-have 5): a node served and written to through the real CLI, stopped, then copied by the
// real CLI process into a database of a real cluster.

const dir = mkdtempSync(join(tmpdir(), 'remembrancer-e2e-migrate-'));
const data = join(dir, 'node');
const NS = 'dao:vaultmesh';
let pg: TestPostgres;
let listen: string;

/** An address nothing listens on now (the node is stopped). */
async function freeAddress(): Promise<string> {
  const [port] = await freePorts(1);
  return `127.0.0.1:${port}`;
}

before(async () => {
  pg = await startTestPostgres();
  const init = await runCli(['init', '--data', data, '--name', 'alpha.vaultmesh.local', '--json']);
  assert.equal(init.code, 0, init.stderr);
  // The address the node is configured to listen on, free: migrate asks it whether the node runs.
  listen = await freeAddress();
  const configFile = join(data, 'config.json');
  writeFileSync(configFile, JSON.stringify({ ...JSON.parse(readFileSync(configFile, 'utf8')), listen }, null, 2));
  const node = await startServe(data);
  try {
    const cli = (args: string[], stdin?: string) =>
      runCli([...args, '--url', node.url, '--data', data], stdin === undefined ? {} : { stdin });
    assert.equal((await cli(['ns', 'create', NS, '--json'])).code, 0);
    for (let i = 0; i < 3; i++) {
      const rec = await cli(['record', '--ns', NS, '-'], JSON.stringify({ memory: 'the council met', i, note: 'é ✓' }));
      assert.equal(rec.code, 0, rec.stderr);
    }
  } finally {
    assert.equal(await node.stop(), 0, 'serve exits cleanly on SIGTERM');
  }
});

after(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('migrate refuses a node that runs at its configured address', async () => {
  const node = await startServe(data, { listen });
  try {
    const r = await runCli(['migrate', '--from', data, '--to', await pg.freshDatabase(), '--json']);
    assert.equal(r.code, 1);
    const { error } = JSON.parse(r.stdout) as { error: { code: string; message: string } };
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.match(error.message, /a node answers at .* stop it before migrating/);
  } finally {
    assert.equal(await node.stop(), 0);
  }
});

test('migrate --json copies the stopped node and reports every table and namespace; a second run is refused', async () => {
  const url = await pg.freshDatabase();
  const r = await runCli(['migrate', '--from', data, '--to', url, '--json'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as MigrationReport;
  assert.deepEqual(
    [...new Set(report.tables.map((t) => t.store))],
    ['log', 'witness', 'federation', 'cadence', 'anchoring', 'outbox', 'inbox'],
  );
  const rows = new Map(report.tables.map((t) => [t.to, t.rows]));
  assert.equal(rows.get('log_namespaces'), 2, 'sys:governance and the namespace made');
  assert.ok((rows.get('log_entries') ?? 0) >= 4, 'the governance entry and the three records');
  assert.ok((rows.get('log_checkpoints') ?? 0) >= 2);
  const ns = report.namespaces.find((n) => n.id === NS);
  assert.equal(ns?.size, 3);
  assert.match(ns.root, /^[0-9a-f]{64}$/);

  const again = await runCli(['migrate', '--from', data, '--to', url]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already holds data/);
});

test('migrate prints what it copied for a person, and what to do next', async () => {
  const r = await runCli(['migrate', '--from', data, '--to', await pg.freshDatabase()], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /copied .* into PostgreSQL and verified it/);
  assert.match(r.stdout, /log_entries\s+\d+ rows \(from log entries\)/);
  assert.match(r.stdout, new RegExp(`${NS}: 3 entries, root [0-9a-f]{64}`));
  assert.match(r.stdout, /--storage URL/);
});
