import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CadenceSpec } from '@vaultmesh/core';
import { CadenceStore } from '../../src/namespaces/cadence-store.js';
import { CadenceScheduler, type CadenceDueEvent } from '../../src/namespaces/cadence-scheduler.js';
import { openCadenceStorage } from '../../src/namespaces/open-cadence-storage.js';
import { PgCadenceStorage } from '../../src/namespaces/pg-cadence-storage.js';
import { SqliteCadenceStorage } from '../../src/namespaces/sqlite-cadence-storage.js';
import type { CadenceStorage } from '../../src/namespaces/cadence-storage.js';
import { forEachBackend, type StorePlace } from '../storage/backend-suite.js';

const MIN = 60_000;
const T0 = Date.UTC(2025, 0, 1);
const iso = (ms: number): string => new Date(ms).toISOString();

/** The cadence storage at the place (the same place opens the same schedules again). */
function storageAt(place: StorePlace): Promise<CadenceStorage> {
  return place.kind === 'sqlite'
    ? openCadenceStorage({ kind: 'sqlite', dataDir: place.dir })
    : PgCadenceStorage.open({ db: place.url });
}

/** An injected clock, and a scheduler that can be closed and reopened on the same storage place. */
class Fixture {
  nowMs = T0;
  events: CadenceDueEvent[] = [];
  errors: unknown[] = [];
  scheduler!: CadenceScheduler;

  constructor(readonly place: StorePlace) {}

  async open(): Promise<CadenceScheduler> {
    const s = new CadenceScheduler({
      storage: await storageAt(this.place),
      now: () => this.nowMs,
      onError: (e) => this.errors.push(e),
    });
    s.onDue((e) => this.events.push(e));
    this.scheduler = s;
    return s;
  }

  async reopen(): Promise<CadenceScheduler> {
    await this.scheduler.close();
    return this.open();
  }

  /** Sets the clock, ticks, and returns the events of that tick as [namespace/level, dueAt offset from T0, periods]. */
  async tickAt(ms: number): Promise<[string, number, number][]> {
    this.nowMs = ms;
    this.events = [];
    const returned = await this.scheduler.tick();
    assert.deepEqual(returned, this.events);
    return this.events.map((e) => [`${e.namespace}/${e.level}`, e.dueAtMs - T0, e.periods]);
  }

  async dispose(): Promise<void> {
    await this.scheduler.close();
  }
}

const fast = { target: 'rfc3161:freetsa', every: '5m', confirmations: 0 };
const strong = { target: 'eip155:1', every: '12*fast', confirmations: 12 };
const cold = { target: 'btc:mainnet', every: '1d', confirmations: 6 };

forEachBackend('CadenceScheduler', (freshPlace) => {
  function withFixture(fn: (f: Fixture) => Promise<void>): () => Promise<void> {
    return async () => {
      const f = new Fixture(await freshPlace());
      await f.open();
      try {
        await fn(f);
        assert.deepEqual(f.errors, []);
      } finally {
        await f.dispose();
      }
    };
  }

  test(
    'apply schedules every level from the effective time; tick reports each due level once',
    withFixture(async (f) => {
      await f.scheduler.apply('dao:vaultmesh', { fast, strong }, T0);
      assert.deepEqual(await f.scheduler.view('dao:vaultmesh'), {
        fast: { ...fast, period_ms: 5 * MIN, next_due: iso(T0 + 5 * MIN), last_due: null, due_count: 0 },
        strong: { ...strong, period_ms: 60 * MIN, next_due: iso(T0 + 60 * MIN), last_due: null, due_count: 0 },
      });
      assert.deepEqual(await f.tickAt(T0), []);
      assert.deepEqual(await f.tickAt(T0 + 5 * MIN - 1), []);
      assert.deepEqual(await f.tickAt(T0 + 5 * MIN), [['dao:vaultmesh/fast', 5 * MIN, 1]]);
      assert.deepEqual(await f.tickAt(T0 + 5 * MIN), []);
      assert.deepEqual(await f.tickAt(T0 + 10 * MIN + 1), [['dao:vaultmesh/fast', 10 * MIN, 1]]);
      // 15m, 20m, ..., 60m passed for fast (10 slots), strong's first slot at 60m
      assert.deepEqual(await f.tickAt(T0 + 60 * MIN), [
        ['dao:vaultmesh/fast', 60 * MIN, 10],
        ['dao:vaultmesh/strong', 60 * MIN, 1],
      ]);
      const v = await f.scheduler.view('dao:vaultmesh');
      assert.deepEqual(v.fast, {
        ...fast,
        period_ms: 5 * MIN,
        next_due: iso(T0 + 65 * MIN),
        last_due: iso(T0 + 60 * MIN),
        due_count: 12,
      });
      assert.deepEqual(v.strong, {
        ...strong,
        period_ms: 60 * MIN,
        next_due: iso(T0 + 120 * MIN),
        last_due: iso(T0 + 60 * MIN),
        due_count: 1,
      });
    }),
  );

  test(
    'events carry target and confirmations; missed periods are counted, not replayed',
    withFixture(async (f) => {
      await f.scheduler.apply('dao:vaultmesh', { cold }, T0);
      await f.scheduler.apply('fin:clearing', { fast }, T0 + 1);
      f.nowMs = T0 + 3 * 86_400_000 + 7;
      const events = await f.scheduler.tick();
      assert.deepEqual(events, [
        {
          namespace: 'fin:clearing',
          level: 'fast',
          target: fast.target,
          confirmations: 0,
          dueAtMs: T0 + 1 + 864 * 5 * MIN,
          periods: 864,
        },
        {
          namespace: 'dao:vaultmesh',
          level: 'cold',
          target: cold.target,
          confirmations: 6,
          dueAtMs: T0 + 3 * 86_400_000,
          periods: 3,
        },
      ]);
      assert.equal((await f.scheduler.view('dao:vaultmesh')).cold!.next_due, iso(T0 + 4 * 86_400_000));
      assert.equal((await f.scheduler.view('fin:clearing')).fast!.next_due, iso(T0 + 1 + 865 * 5 * MIN));
      assert.equal((await f.scheduler.view('fin:clearing')).fast!.due_count, 864);
    }),
  );

  test(
    'a level taking effect in the past starts at its first slot after now; in the future, one period after it',
    withFixture(async (f) => {
      f.nowMs = T0 + 7 * MIN;
      await f.scheduler.apply('dao:vaultmesh', { fast }, T0);
      assert.equal((await f.scheduler.view('dao:vaultmesh')).fast!.next_due, iso(T0 + 10 * MIN));
      assert.deepEqual(await f.tickAt(T0 + 7 * MIN), []);
      await f.scheduler.apply('dao:other', { fast }, T0 + 60 * MIN);
      assert.equal((await f.scheduler.view('dao:other')).fast!.next_due, iso(T0 + 65 * MIN));
    }),
  );

  test(
    'a change keeps untouched levels, restarts changed ones, adds and removes levels',
    withFixture(async (f) => {
      await f.scheduler.apply('dao:vaultmesh', { fast, strong: { ...strong, every: '1h' } }, T0);
      await f.tickAt(T0 + 62 * MIN);
      const before = await f.scheduler.view('dao:vaultmesh');
      assert.equal(before.fast!.due_count, 12);

      const T1 = T0 + 63 * MIN;
      f.nowMs = T1;
      await f.scheduler.apply(
        'dao:vaultmesh',
        { fast, strong: { ...strong, every: '1h', target: 'eip155:10' }, cold },
        T1,
      );
      const after = await f.scheduler.view('dao:vaultmesh');
      assert.deepEqual(after.fast, before.fast);
      assert.deepEqual(after.strong, {
        ...strong,
        every: '1h',
        target: 'eip155:10',
        period_ms: 60 * MIN,
        next_due: iso(T1 + 60 * MIN),
        last_due: null,
        due_count: 0,
      });
      assert.deepEqual(after.cold, {
        ...cold,
        period_ms: 86_400_000,
        next_due: iso(T1 + 86_400_000),
        last_due: null,
        due_count: 0,
      });

      // confirmations alone is a change too
      const T2 = T1 + MIN;
      f.nowMs = T2;
      await f.scheduler.apply(
        'dao:vaultmesh',
        { fast, strong: { ...strong, every: '1h', target: 'eip155:10' }, cold: { ...cold, confirmations: 3 } },
        T2,
      );
      assert.equal((await f.scheduler.view('dao:vaultmesh')).cold!.next_due, iso(T2 + 86_400_000));
      assert.deepEqual((await f.scheduler.view('dao:vaultmesh')).strong, after.strong);

      // removing strong and cold
      await f.scheduler.apply('dao:vaultmesh', { fast }, T2 + 1);
      assert.deepEqual(Object.keys(await f.scheduler.view('dao:vaultmesh')), ['fast']);
      assert.deepEqual((await f.scheduler.view('dao:vaultmesh')).fast, before.fast);
      await f.scheduler.apply('dao:vaultmesh', {}, T2 + 2);
      assert.deepEqual(await f.scheduler.view('dao:vaultmesh'), {});
      assert.deepEqual(await f.tickAt(T0 + 30 * 86_400_000), []);
    }),
  );

  test(
    'a multiple whose base level changed is restarted even though its every string did not change',
    withFixture(async (f) => {
      await f.scheduler.apply('dao:vaultmesh', { fast, strong }, T0);
      const T1 = T0 + MIN;
      f.nowMs = T1;
      await f.scheduler.apply('dao:vaultmesh', { fast: { ...fast, every: '10m' }, strong }, T1);
      const v = await f.scheduler.view('dao:vaultmesh');
      assert.deepEqual(v.fast!.next_due, iso(T1 + 10 * MIN));
      assert.deepEqual(v.strong, {
        ...strong,
        period_ms: 120 * MIN,
        next_due: iso(T1 + 120 * MIN),
        last_due: null,
        due_count: 0,
      });
    }),
  );

  test(
    'schedules survive close and reopen; re-applying the same spec at start-up does not reset them',
    withFixture(async (f) => {
      const spec: CadenceSpec = { fast, strong, cold };
      await f.scheduler.apply('dao:vaultmesh', spec, T0);
      await f.tickAt(T0 + 17 * MIN);
      const before = await f.scheduler.view('dao:vaultmesh');
      assert.equal(before.fast!.next_due, iso(T0 + 20 * MIN));

      f.nowMs = T0 + 18 * MIN;
      await f.reopen();
      assert.deepEqual(await f.scheduler.view('dao:vaultmesh'), before);
      await f.scheduler.apply('dao:vaultmesh', spec, T0);
      assert.deepEqual(await f.scheduler.view('dao:vaultmesh'), before);
      // a start-up replay that passes the time of the replay instead keeps them too
      await f.scheduler.apply('dao:vaultmesh', structuredClone(spec), T0 + 18 * MIN);
      assert.deepEqual(await f.scheduler.view('dao:vaultmesh'), before);

      // down for a while: the first tick after the restart reports the missed slots once
      f.nowMs = T0 + 200 * MIN;
      await f.reopen();
      await f.scheduler.apply('dao:vaultmesh', spec, T0);
      assert.deepEqual(await f.tickAt(T0 + 200 * MIN), [
        ['dao:vaultmesh/fast', 200 * MIN, 37],
        ['dao:vaultmesh/strong', 180 * MIN, 3],
      ]);
      assert.equal((await f.scheduler.view('dao:vaultmesh')).fast!.due_count, 3 + 37);
    }),
  );

  test(
    'a replay of superseded governance history does not roll schedules back',
    withFixture(async (f) => {
      const A: CadenceSpec = { fast, strong };
      const B: CadenceSpec = { fast, cold };
      const T1 = T0 + 30 * MIN;
      await f.scheduler.apply('dao:vaultmesh', A, T0);
      await f.tickAt(T1);
      await f.scheduler.apply('dao:vaultmesh', B, T1);
      await f.tickAt(T1 + 12 * MIN);
      const live = await f.scheduler.view('dao:vaultmesh');
      assert.equal(live.fast!.due_count, 8);

      f.nowMs = T1 + 14 * MIN;
      await f.reopen();
      await f.scheduler.apply('dao:vaultmesh', A, T0);
      await f.scheduler.apply('dao:vaultmesh', B, T1);
      assert.deepEqual(await f.scheduler.view('dao:vaultmesh'), live);
    }),
  );

  test(
    'apply validates its input and changes nothing on error',
    withFixture(async (f) => {
      await f.scheduler.apply('dao:vaultmesh', { fast }, T0);
      const before = await f.scheduler.view('dao:vaultmesh');
      await assert.rejects(f.scheduler.apply('dao:vaultmesh', { strong: { ...strong } }, T0 + 1), {
        code: 'POLICY_INVALID',
        pointer: '/strong/every',
      });
      await assert.rejects(f.scheduler.apply('dao:vaultmesh', { fast: { ...fast, every: '0s' } }, T0 + 1), {
        code: 'POLICY_INVALID',
      });
      await assert.rejects(f.scheduler.apply('Not A Namespace', { fast }, T0), { code: 'INVALID_NAMESPACE_ID' });
      await assert.rejects(f.scheduler.apply('dao:vaultmesh', {}, 1.5), { code: 'INVALID_ARGUMENT' });
      assert.deepEqual(await f.scheduler.view('dao:vaultmesh'), before);
      assert.deepEqual(await f.scheduler.view('dao:unknown'), {});
    }),
  );

  test(
    'ticks at once (one scheduler, or two over the same storage) report each due level once, in order',
    withFixture(async (f) => {
      await f.scheduler.apply('dao:vaultmesh', { fast, strong }, T0);
      f.nowMs = T0 + 60 * MIN;
      const [first, second] = await Promise.all([f.scheduler.tick(), f.scheduler.tick()]);
      assert.deepEqual(
        first.map((e) => e.level),
        ['fast', 'strong'],
      );
      assert.deepEqual(second, []);
      assert.deepEqual(
        f.events.map((e) => e.level),
        ['fast', 'strong'],
      );
      // A second front end over the same schedules: between them, each level comes due once.
      const other = new CadenceScheduler({ storage: await storageAt(f.place), now: () => f.nowMs });
      try {
        f.nowMs = T0 + 120 * MIN;
        const both = await Promise.all([f.scheduler.tick(), other.tick()]);
        assert.deepEqual(
          both
            .flat()
            .map((e) => `${e.level}@${e.dueAtMs - T0}`)
            .sort(),
          [`fast@${120 * MIN}`, `strong@${120 * MIN}`],
        );
      } finally {
        await other.close();
      }
    }),
  );

  test(
    'listener errors go to onError; unsubscribed listeners hear nothing',
    withFixture(async (f) => {
      const seen: string[] = [];
      const off = f.scheduler.onDue((e) => seen.push(e.level));
      f.scheduler.onDue(() => {
        throw new Error('listener failed');
      });
      await f.scheduler.apply('dao:vaultmesh', { fast }, T0);
      assert.equal((await f.tickAt(T0 + 5 * MIN)).length, 1);
      assert.deepEqual(seen, ['fast']);
      assert.equal(f.errors.length, 1);
      assert.match(String(f.errors[0]), /listener failed/);
      f.errors.length = 0;
      off();
      f.scheduler.onDue(() => undefined);
      assert.equal((await f.tickAt(T0 + 10 * MIN)).length, 1);
      assert.deepEqual(seen, ['fast']);
      assert.equal(f.errors.length, 1);
      f.errors.length = 0;
    }),
  );

  test(
    'start ticks on a timer until stop',
    withFixture(async (f) => {
      assert.throws(() => f.scheduler.start(0), { code: 'INVALID_ARGUMENT' });
      await f.scheduler.apply('dao:vaultmesh', { fast }, T0);
      f.nowMs = T0 + 5 * MIN;
      const got = new Promise<CadenceDueEvent>((resolve, reject) => {
        const timeout = setTimeout(() => reject(new Error('no due event within 5 s')), 5_000);
        f.scheduler.onDue((e) => {
          clearTimeout(timeout);
          resolve(e);
        });
      });
      f.scheduler.start(5);
      f.scheduler.start(5);
      const e = await got;
      f.scheduler.stop();
      assert.equal(e.dueAtMs, T0 + 5 * MIN);
      assert.equal((await f.scheduler.view('dao:vaultmesh')).fast!.due_count, 1);
    }),
  );

  test(
    'close stops the scheduler; further use is SHUTTING_DOWN',
    withFixture(async (f) => {
      f.scheduler.start(1000);
      await f.scheduler.close();
      await assert.rejects(f.scheduler.tick(), { code: 'SHUTTING_DOWN' });
      await assert.rejects(f.scheduler.view('dao:vaultmesh'), { code: 'SHUTTING_DOWN' });
      await f.open();
    }),
  );
});

test('re-applying an unchanged cadence writes nothing (SQLite: its store counts the writes)', async () => {
  const store = new CadenceStore(':memory:');
  const writes: string[] = [];
  for (const m of ['put', 'remove', 'setAppliedAt'] as const) {
    const original = store[m].bind(store) as (...a: unknown[]) => void;
    (store as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => {
      writes.push(m);
      original(...a);
    };
  }
  const s = new CadenceScheduler({ storage: new SqliteCadenceStorage(store), now: () => T0 });
  try {
    await s.apply('dao:vaultmesh', { fast, strong }, T0);
    assert.deepEqual(writes, ['put', 'put', 'setAppliedAt']);
    writes.length = 0;
    await s.apply('dao:vaultmesh', { fast, strong }, T0);
    assert.deepEqual(writes, []);
    await s.apply('dao:vaultmesh', { fast, strong }, T0 + 1);
    assert.deepEqual(writes, ['setAppliedAt']);
  } finally {
    await s.close();
  }
});
