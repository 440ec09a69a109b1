import { after, before, describe } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestPostgres, type TestPostgres } from './postgres/test-databases.js';

/** Where a store under test keeps its state: a fresh directory for SQLite, a fresh database for PostgreSQL. */
export type StorePlace = { kind: 'sqlite'; dir: string } | { kind: 'postgres'; url: string };

/**
 * The conformance pattern of issue 14: the same tests, once per backend. `suite` declares its
 * tests (test()/it()) and gets a function giving each test a fresh, empty place; the SQLite
 * directories and the PostgreSQL cluster are removed after the suite.
 */
export function forEachBackend(title: string, suite: (freshPlace: () => Promise<StorePlace>) => void): void {
  describe(`${title} (SQLite)`, () => {
    const dirs: string[] = [];
    after(() => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });
    suite(() => {
      const dir = mkdtempSync(join(tmpdir(), 'remembrancer-conformance-'));
      dirs.push(dir);
      return Promise.resolve({ kind: 'sqlite', dir });
    });
  });
  describe(`${title} (PostgreSQL)`, () => {
    let pg: TestPostgres | undefined;
    before(async () => {
      pg = await startTestPostgres();
    });
    after(async () => {
      await pg?.stop();
    });
    suite(async () => {
      if (pg === undefined) throw new Error('the PostgreSQL cluster did not start');
      return { kind: 'postgres', url: await pg.freshDatabase() };
    });
  });
}
