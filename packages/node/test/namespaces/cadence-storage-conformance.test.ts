import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { RemembrancerError } from '@vaultmesh/core';
import { CADENCE_DB_FILE } from '../../src/namespaces/cadence-store.js';
import { SqliteCadenceStorage } from '../../src/namespaces/sqlite-cadence-storage.js';
import { PgCadenceStorage } from '../../src/namespaces/pg-cadence-storage.js';
import type { CadenceRow } from '../../src/namespaces/cadence-records.js';
import type { CadenceChange, CadenceStorage } from '../../src/namespaces/cadence-storage.js';
import type { WriteFence } from '../../src/storage/postgres/write-fence.js';
import { forEachBackend, type StorePlace } from '../storage/backend-suite.js';
import { cadenceRow as row } from './cadence-fixtures.js';
import { code, LOST_LEASE } from '../storage/conformance-checks.js';

/** The cadence storage of the place's backend; the same place opens the same state again. */
async function openAt(place: StorePlace, fence?: WriteFence): Promise<CadenceStorage> {
  if (place.kind === 'sqlite') return SqliteCadenceStorage.open(join(place.dir, CADENCE_DB_FILE));
  return PgCadenceStorage.open({ db: place.url, ...(fence === undefined ? {} : { fence }) });
}

const cold = (over: Partial<CadenceRow> = {}): CadenceRow =>
  row({
    level: 'cold',
    target: 'btc:mainnet',
    every: '1d',
    periodMs: 86_400_000,
    confirmations: 6,
    nextDueMs: 86_401_000,
    ...over,
  });

/** What CadenceScheduler.tick does to a due level: the passed due times counted, next due after now. */
const tickAt =
  (nowMs: number) =>
  (due: CadenceRow): CadenceRow => {
    const periods = Math.floor((nowMs - due.nextDueMs) / due.periodMs) + 1;
    const nextDueMs = due.nextDueMs + periods * due.periodMs;
    return { ...due, nextDueMs, lastDueMs: nextDueMs - due.periodMs, dueCount: due.dueCount + periods };
  };

const NO_CHANGE: CadenceChange = { put: [], remove: [] };

forEachBackend('CadenceStorage conformance', (freshPlace) => {
  test('rows persist across reopen; levels in level order, due rows earliest first, namespaces in byte order', async () => {
    const place = await freshPlace();
    let s = await openAt(place);
    await s.put(cold());
    await s.put(row());
    await s.put(row({ namespace: 'fin:clearing', nextDueMs: 50 }));
    await s.put(row({ namespace: 'Zed:ns', nextDueMs: 301_000, level: 'strong' }));
    await s.setAppliedAt('dao:vaultmesh', 1_000);
    await s.setAppliedAt('Zed:ns', 2_000);
    assert.deepEqual(
      (await s.levels('dao:vaultmesh')).map((r) => r.level),
      ['fast', 'cold'],
    );
    // Equal due times order by namespace in bytes ('Z' before 'd').
    assert.deepEqual(
      (await s.due(301_000)).map((r) => [r.namespace, r.level]),
      [
        ['fin:clearing', 'fast'],
        ['Zed:ns', 'strong'],
        ['dao:vaultmesh', 'fast'],
      ],
    );
    assert.deepEqual(await s.due(49), []);
    await s.put(row({ nextDueMs: 601_000, lastDueMs: 301_000, dueCount: 1 }));
    await s.close();

    s = await openAt(place);
    assert.deepEqual(
      (await s.levels('dao:vaultmesh'))[0],
      row({ nextDueMs: 601_000, lastDueMs: 301_000, dueCount: 1 }),
    );
    assert.deepEqual((await s.levels('dao:vaultmesh'))[1], cold());
    assert.equal(await s.appliedAt('dao:vaultmesh'), 1_000);
    assert.equal(await s.appliedAt('fin:clearing'), undefined);
    assert.deepEqual(await s.namespaces(), ['Zed:ns', 'dao:vaultmesh']);
    await s.setAppliedAt('dao:vaultmesh', 3_000);
    assert.equal(await s.appliedAt('dao:vaultmesh'), 3_000);
    await s.remove('dao:vaultmesh', 'cold');
    await s.remove('dao:vaultmesh', 'strong');
    assert.deepEqual(
      (await s.levels('dao:vaultmesh')).map((r) => r.level),
      ['fast'],
    );
    assert.deepEqual(await s.levels('nobody'), []);
    await s.close();
  });

  test('updateNamespace gives decide the stored state and writes its change in one transaction', async () => {
    const s = await openAt(await freshPlace());
    await s.updateNamespace('dao:vaultmesh', (state) => {
      assert.deepEqual(state, { appliedAt: undefined, levels: [] });
      return { put: [cold(), row()], remove: [], appliedAt: 1_000 };
    });
    await s.updateNamespace('dao:vaultmesh', (state) => {
      assert.deepEqual(state, { appliedAt: 1_000, levels: [row(), cold()] });
      return { put: [row({ every: '10m', periodMs: 600_000 })], remove: ['cold'] };
    });
    assert.deepEqual(await s.levels('dao:vaultmesh'), [row({ every: '10m', periodMs: 600_000 })]);
    // No appliedAt in the change leaves it as it was; an empty change writes nothing.
    assert.equal(await s.appliedAt('dao:vaultmesh'), 1_000);
    await s.updateNamespace('dao:vaultmesh', () => NO_CHANGE);
    assert.deepEqual(await s.namespaces(), ['dao:vaultmesh']);
    await s.close();
  });

  test('a decision that throws, or names another namespace or level, writes nothing', async () => {
    const s = await openAt(await freshPlace());
    await s.put(row({ nextDueMs: 10 }));
    await assert.rejects(
      s.updateNamespace('dao:vaultmesh', () => {
        throw new RemembrancerError('INVALID_ARGUMENT', 'refused');
      }),
      code('INVALID_ARGUMENT'),
    );
    await assert.rejects(
      s.updateNamespace('dao:vaultmesh', () => {
        throw new Error('a bug');
      }),
      code('STORAGE_FAILURE'),
    );
    await assert.rejects(
      s.updateNamespace('dao:vaultmesh', () => ({
        put: [cold(), row({ namespace: 'fin:clearing' })],
        remove: ['fast'],
        appliedAt: 5,
      })),
      code('INVALID_ARGUMENT'),
    );
    await assert.rejects(
      s.advanceDue(20, (due) => ({ ...tickAt(20)(due), level: 'cold' })),
      code('INVALID_ARGUMENT'),
    );
    assert.deepEqual(await s.levels('dao:vaultmesh'), [row({ nextDueMs: 10 })]);
    assert.equal(await s.appliedAt('dao:vaultmesh'), undefined);
    await s.close();
  });

  test('advanceDue replaces each due level by its advance, earliest first, and leaves the others', async () => {
    const s = await openAt(await freshPlace());
    await s.put(row({ namespace: 'b:ns', nextDueMs: 301_000 }));
    await s.put(row({ namespace: 'a:ns', nextDueMs: 200_000 }));
    await s.put(cold({ namespace: 'a:ns' }));
    assert.deepEqual(await s.advanceDue(100, tickAt(100)), []);
    const advanced = await s.advanceDue(700_000, tickAt(700_000));
    assert.deepEqual(advanced, [
      {
        before: row({ namespace: 'a:ns', nextDueMs: 200_000 }),
        after: row({ namespace: 'a:ns', nextDueMs: 800_000, lastDueMs: 500_000, dueCount: 2 }),
      },
      {
        before: row({ namespace: 'b:ns', nextDueMs: 301_000 }),
        after: row({ namespace: 'b:ns', nextDueMs: 901_000, lastDueMs: 601_000, dueCount: 2 }),
      },
    ]);
    assert.deepEqual(await s.levels('a:ns'), [advanced[0]!.after, cold({ namespace: 'a:ns' })]);
    assert.deepEqual(await s.due(700_000), []);
    await s.close();
  });

  test('two instances on the same place: concurrent ticks advance each due level once between them', async () => {
    const place = await freshPlace();
    const first = await openAt(place);
    const second = await openAt(place);
    const namespaces = Array.from({ length: 6 }, (_, i) => `ns:${i}`);
    for (const namespace of namespaces) {
      await first.put(row({ namespace, nextDueMs: 1_000 }));
      await first.put(cold({ namespace, nextDueMs: 2_000 }));
    }
    const now = 5_000;
    const ticks = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? first : second).advanceDue(now, tickAt(now))),
    );
    const advanced = ticks.flat().map((a) => `${a.before.namespace}/${a.before.level}`);
    assert.equal(advanced.length, namespaces.length * 2, 'every due level advanced, none twice');
    assert.equal(new Set(advanced).size, advanced.length);
    for (const r of await second.levels('ns:0')) assert.equal(r.dueCount, 1);

    // Read-check-writes of one namespace from both instances: none is lost.
    const updates = Array.from({ length: 10 }, (_, i) =>
      (i % 2 === 0 ? first : second).updateNamespace('ns:0', (state) => ({
        put: [],
        remove: [],
        appliedAt: (state.appliedAt ?? 0) + 1,
      })),
    );
    await Promise.all(updates);
    assert.equal(await first.appliedAt('ns:0'), 10);
    await first.close();
    await second.close();
  });

  test('a closed storage answers SHUTTING_DOWN; close is idempotent', async () => {
    const s = await openAt(await freshPlace());
    await s.put(row());
    await s.close();
    await s.close();
    await assert.rejects(s.levels('dao:vaultmesh'), code('SHUTTING_DOWN'));
    await assert.rejects(s.due(0), code('SHUTTING_DOWN'));
    await assert.rejects(s.put(row()), code('SHUTTING_DOWN'));
    await assert.rejects(s.remove('dao:vaultmesh', 'fast'), code('SHUTTING_DOWN'));
    await assert.rejects(s.appliedAt('dao:vaultmesh'), code('SHUTTING_DOWN'));
    await assert.rejects(s.setAppliedAt('dao:vaultmesh', 1), code('SHUTTING_DOWN'));
    await assert.rejects(s.namespaces(), code('SHUTTING_DOWN'));
    await assert.rejects(
      s.updateNamespace('dao:vaultmesh', () => NO_CHANGE),
      code('SHUTTING_DOWN'),
    );
    await assert.rejects(s.advanceDue(0, tickAt(0)), code('SHUTTING_DOWN'));
  });

  test('(PostgreSQL) a fence that throws LEASE_LOST stops every write; reads and no-op updates pass', async (t) => {
    const place = await freshPlace();
    if (place.kind === 'sqlite') {
      t.skip('a SQLite file has one writer per node: nothing to fence');
      return;
    }
    const open = await openAt(place);
    await open.put(row({ nextDueMs: 10 }));
    await open.setAppliedAt('dao:vaultmesh', 1_000);
    await open.close();

    const s = await openAt(place, LOST_LEASE);
    await assert.rejects(s.put(cold()), code('LEASE_LOST'));
    await assert.rejects(s.remove('dao:vaultmesh', 'fast'), code('LEASE_LOST'));
    await assert.rejects(s.setAppliedAt('dao:vaultmesh', 2_000), code('LEASE_LOST'));
    await assert.rejects(
      s.updateNamespace('dao:vaultmesh', () => ({ put: [], remove: ['fast'] })),
      code('LEASE_LOST'),
    );
    await assert.rejects(s.advanceDue(20, tickAt(20)), code('LEASE_LOST'));
    await s.updateNamespace('dao:vaultmesh', () => NO_CHANGE);
    assert.deepEqual(await s.advanceDue(5, tickAt(5)), []);
    assert.deepEqual(await s.levels('dao:vaultmesh'), [row({ nextDueMs: 10 })]);
    assert.equal(await s.appliedAt('dao:vaultmesh'), 1_000);
    await s.close();
  });
});
