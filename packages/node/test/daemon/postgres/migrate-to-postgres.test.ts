import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { initNode, loadNode, type NodeIdentity } from '../../../src/config/node-config.js';
import { migrateToPostgres, storesOf, type MigrationReport } from '../../../src/daemon/migrate-to-postgres.js';
import { fromName } from '../../../src/storage/migration/table-copy.js';
import { PgDatabase } from '../../../src/storage/postgres/pg-database.js';
import { startTestPostgres, type TestPostgres } from '../../storage/postgres/test-databases.js';
import { BIG, SMALL, fillLog, logAnswers, postgresLog, servedAnswers, sqliteLog } from './migration-log-fixture.js';
import { STORES_UNDER_MIGRATION } from './migration-store-fixtures.js';
import { freePorts } from '../../federation/federation-fixture.js';
import { code } from '../../storage/conformance-checks.js';

// `remembrancer migrate` (issue 14, must-have 5) on a real cluster: a node whose every store was
// written by its own SQLite code is copied, and every PostgreSQL storage then answers every read
// as its SQLite counterpart does — for the log, down to the proofs a node serves for receipts.

const root = mkdtempSync(join(tmpdir(), 'remembrancer-migrate-'));
let pg: TestPostgres;
/** A filled node, never migrated from itself: each test works on a copy (a copy's SQLite files change under writes). */
let filled: string;
let copies = 0;

/** An address nothing listens on now (the node is stopped). */
async function freeAddress(): Promise<string> {
  const [port] = await freePorts(1);
  return `127.0.0.1:${port}`;
}

function copyOfFilled(): NodeIdentity {
  const dir = join(root, `copy${++copies}`);
  cpSync(filled, dir, { recursive: true });
  return loadNode(dir);
}

/** Rows in every table the copy writes, by table. */
async function targetRows(url: string, dataDir: string): Promise<Record<string, number>> {
  const db = await PgDatabase.open({ url, what: 'check' });
  try {
    const out: Record<string, number> = {};
    for (const s of storesOf(dataDir))
      for (const t of s.tables)
        out[t.to] = (await db.row<{ n: number }>(`SELECT count(*)::bigint AS n FROM ${t.to}`))!.n;
    return out;
  } finally {
    await db.close();
  }
}

/** Tables in the target database (none: migrate did not touch it). */
async function publicTables(url: string): Promise<number> {
  const db = await PgDatabase.open({ url, what: 'check' });
  try {
    return (await db.row<{ n: number }>(`SELECT count(*)::bigint AS n FROM pg_tables WHERE schemaname = 'public'`))!.n;
  } finally {
    await db.close();
  }
}

/** What the report must say: every table of every store, with its SQLite row count. */
function expectedTables(dataDir: string): MigrationReport['tables'] {
  return storesOf(dataDir).flatMap((s) => {
    const db = new Database(s.file, { readonly: true, fileMustExist: true });
    try {
      return s.tables.map((t) => ({
        store: s.what,
        from: t.from,
        to: t.to,
        rows: db.prepare(`SELECT count(*) FROM ${t.from}`).pluck().get() as number,
      }));
    } finally {
      db.close();
    }
  });
}

before(async () => {
  pg = await startTestPostgres();
  filled = join(root, 'filled');
  const identity = initNode(filled, 'alpha.vaultmesh.test', { listen: await freeAddress() });
  await fillLog(identity);
  for (const store of STORES_UNDER_MIGRATION) await store.fill(filled);
});

after(async () => {
  await pg?.stop();
  rmSync(root, { recursive: true, force: true });
});

test('every SQLite file, table and column of a node is copied, and every PostgreSQL column is filled', async () => {
  const { dataDir } = copyOfFilled();
  const stores = storesOf(dataDir);
  const sqliteFiles = readdirSync(dataDir).filter((f) => f.endsWith('.sqlite'));
  assert.deepEqual(sqliteFiles.map((f) => join(dataDir, f)).sort(), stores.map((s) => s.file).sort());
  const url = await pg.freshDatabase();
  await migrateToPostgres({ dataDir, url });
  const db = await PgDatabase.open({ url, what: 'check' });
  try {
    for (const s of stores) {
      const sqlite = new Database(s.file, { readonly: true });
      try {
        const tables = sqlite
          .prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
          .pluck()
          .all() as string[];
        assert.deepEqual([...s.tables.map((t) => t.from)].sort(), tables, `${s.what}: every SQLite table`);
        for (const t of s.tables) {
          const columns = sqlite.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(t.from) as string[];
          assert.deepEqual(
            [...new Set(t.columns.map(fromName))].sort(),
            columns.sort(),
            `${t.from}: every column read`,
          );
          const pgColumns = await db.rows<{ column_name: string }>(
            `SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1`,
            [t.to],
          );
          const written = t.columns.map((c) => (typeof c === 'string' ? c : c.to)).sort();
          assert.deepEqual(written, pgColumns.map((c) => c.column_name).sort(), `${t.to}: every column written`);
        }
      } finally {
        sqlite.close();
      }
    }
    // The computed column: the SHA-256 of the offered note, as PgWitnessStorage keys conflicts by.
    const digests = await db.row<{ ok: boolean; n: number }>(
      `SELECT bool_and(offered_digest = sha256(convert_to(offered_note, 'UTF8'))) AS ok, count(*)::bigint AS n
         FROM witness_conflicts`,
    );
    assert.deepEqual(digests, { ok: true, n: 3 });
  } finally {
    await db.close();
  }
});

test('a stopped node is copied whole: the report lists every table, and every storage answers as in SQLite', async () => {
  const identity = copyOfFilled();
  const { dataDir } = identity;
  const url = await pg.freshDatabase();
  const progress = new Set<string>();
  const report = await migrateToPostgres({ dataDir, url, onProgress: ({ table }) => progress.add(table) });

  const tables = expectedTables(dataDir);
  assert.deepEqual(report.tables, tables);
  assert.deepEqual(
    tables.filter((t) => t.rows < 2).map((t) => `${t.from} ${t.rows}`),
    [],
    'the fixture fills several rows of every table',
  );
  assert.deepEqual(await targetRows(url, dataDir), Object.fromEntries(tables.map((t) => [t.to, t.rows])));
  assert.deepEqual(progress, new Set(tables.map((t) => t.to)));
  assert.deepEqual(
    report.namespaces.map((n) => n.id),
    [BIG, ...SMALL],
  );

  assert.deepEqual(await logAnswers(await postgresLog(identity, url)), await logAnswers(sqliteLog(identity)));
  for (const store of STORES_UNDER_MIGRATION)
    assert.deepEqual(
      await store.answers({ url }, false),
      await store.answers({ dataDir }, false),
      `${store.what}: every read`,
    );
  // The next id, cursor or conflict each side hands out is the same: identities continue past SQLite's.
  for (const store of STORES_UNDER_MIGRATION)
    assert.deepEqual(
      await store.answers({ url }, true),
      await store.answers({ dataDir }, true),
      `${store.what}: a write after the copy`,
    );
  // A node serving from the copy gives the same roots, proofs and checkpoints for receipts.
  assert.deepEqual(
    await servedAnswers(identity, await postgresLog(identity, url)),
    await servedAnswers(identity, sqliteLog(identity)),
  );
});

test("identities continue past every key SQLite's AUTOINCREMENT handed out, not only past the rows left", async () => {
  const { dataDir } = copyOfFilled();
  const inboxFile = storesOf(dataDir).find((s) => s.what === 'inbox')!.file;
  const db = new Database(inboxFile);
  // The newest item gone (SQLite still remembers its cursor): a consumer may hold that cursor.
  assert.equal(
    db.prepare('DELETE FROM inbox_items WHERE cursor = (SELECT max(cursor) FROM inbox_items)').run().changes,
    1,
  );
  db.close();
  const url = await pg.freshDatabase();
  await migrateToPostgres({ dataDir, url });
  const inbox = STORES_UNDER_MIGRATION.find((s) => s.what === 'inbox')!;
  assert.deepEqual(await inbox.answers({ url }, true), await inbox.answers({ dataDir }, true));
});

test('a node that answers at its listen address is refused, and nothing is copied', async () => {
  const identity = copyOfFilled();
  const [host, port] = identity.config.listen.split(':') as [string, string];
  const server: Server = createServer((req, res) => res.end(req.url === '/healthz' ? 'ok' : ''));
  await new Promise<void>((resolve) => server.listen(Number(port), host, resolve));
  const url = await pg.freshDatabase();
  try {
    await assert.rejects(migrateToPostgres({ dataDir: identity.dataDir, url }), (e: unknown) => {
      assert.ok(code('CONFIG_INVALID')(e));
      assert.match((e as Error).message, /stop it before migrating/);
      return true;
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  assert.equal(await publicTables(url), 0, 'the target is not touched');
});

test('a database that already holds data is refused', async () => {
  const { dataDir } = copyOfFilled();
  const url = await pg.freshDatabase();
  await migrateToPostgres({ dataDir, url });
  const before = await targetRows(url, dataDir);
  await assert.rejects(migrateToPostgres({ dataDir, url }), (e: unknown) => {
    assert.ok(code('CONFIG_INVALID')(e));
    assert.match((e as Error).message, /already holds data \(log_namespaces\)/);
    return true;
  });
  assert.deepEqual(await targetRows(url, dataDir), before);
});

test('a copy that fails midway keeps nothing and runs again once the row is fixed', async () => {
  const { dataDir } = copyOfFilled();
  const anchoring = storesOf(dataDir).find((s) => s.what === 'anchoring')!;
  const edit = (sql: string) => {
    const db = new Database(anchoring.file);
    try {
      return db.prepare(sql).run().changes;
    } finally {
      db.close();
    }
  };
  // SQLite keeps text in an INTEGER column without a word; PostgreSQL's BIGINT refuses it. The
  // anchoring tables come after the log's, the witness's, the federation's and the cadence's.
  assert.equal(
    edit(`UPDATE anchor_counters SET value = 'many' WHERE name = 'anchors_total' AND label = 'other-target'`),
    1,
  );
  const url = await pg.freshDatabase();
  await assert.rejects(migrateToPostgres({ dataDir, url }), (e: unknown) => {
    assert.ok(code('STORAGE_FAILURE')(e));
    assert.match(
      (e as Error).message,
      /anchoring: copying anchor_counters into anchor_counters failed, nothing was kept/,
    );
    return true;
  });
  const empty = await targetRows(url, dataDir);
  assert.deepEqual(
    Object.values(empty).filter((n) => n !== 0),
    [],
    'no table keeps a row',
  );

  assert.equal(edit(`UPDATE anchor_counters SET value = 3 WHERE name = 'anchors_total' AND label = 'other-target'`), 1);
  const report = await migrateToPostgres({ dataDir, url });
  assert.deepEqual(report.tables, expectedTables(dataDir));
});

test('a SQLite file of an older build is refused before the target is touched', async () => {
  const { dataDir } = copyOfFilled();
  const cadence = storesOf(dataDir).find((s) => s.what === 'cadence')!;
  const db = new Database(cadence.file);
  db.pragma('user_version = 0');
  db.close();
  const url = await pg.freshDatabase();
  await assert.rejects(migrateToPostgres({ dataDir, url }), (e: unknown) => {
    assert.ok(code('STORAGE_FAILURE')(e));
    assert.match((e as Error).message, /older build \(cadence schema 0 of 1\); start the node once with this build/);
    return true;
  });
  assert.equal(await publicTables(url), 0, 'the target is not touched');
});

test('a node that never used a store gets its tables, empty, answering as a new SQLite store does', async () => {
  const dataDir = join(root, 'bare');
  initNode(dataDir, 'bare.vaultmesh.test', { listen: await freeAddress() });
  const url = await pg.freshDatabase();
  const report = await migrateToPostgres({ dataDir, url });
  const all = storesOf(dataDir).flatMap((s) =>
    s.tables.map((t) => ({ store: s.what, from: t.from, to: t.to, rows: 0 })),
  );
  assert.deepEqual(report, { tables: all, namespaces: [] });
  const fresh = join(root, 'fresh');
  mkdirSync(fresh);
  for (const store of STORES_UNDER_MIGRATION)
    assert.deepEqual(await store.answers({ url }, false), await store.answers({ dataDir: fresh }, false), store.what);
});
