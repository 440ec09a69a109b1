import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { RemembrancerError, witnessOriginHash } from '@vaultmesh/core';
import { SqliteWitnessStorage } from '../../src/witness/sqlite-witness-storage.js';
import { PgWitnessStorage } from '../../src/witness/pg-witness-storage.js';
import {
  MAX_CONFLICTS_PER_ORIGIN,
  type WitnessConflict,
  type WitnessedCheckpoint,
} from '../../src/witness/witness-records.js';
import type { WitnessStorage } from '../../src/witness/witness-storage.js';
import type { WriteFence } from '../../src/storage/postgres/write-fence.js';
import { forEachBackend, type StorePlace } from '../storage/backend-suite.js';
import { code, LOST_LEASE } from '../storage/conformance-checks.js';

/** The witness storage of the place's backend; the same place opens the same state again. */
async function openAt(place: StorePlace, fence?: WriteFence): Promise<WitnessStorage> {
  if (place.kind === 'sqlite') return SqliteWitnessStorage.open(join(place.dir, 'witness.sqlite'));
  return PgWitnessStorage.open({ db: place.url, ...(fence === undefined ? {} : { fence }) });
}

const hash = (fill: number): Uint8Array => new Uint8Array(32).fill(fill);

function checkpoint(origin: string, size: number, over: Partial<WitnessedCheckpoint> = {}): WitnessedCheckpoint {
  return {
    origin,
    originHash: witnessOriginHash(origin),
    size,
    root: hash(size % 256),
    note: `${origin}\n${size}\nroot\n\n— witness cosignature\n`,
    cosignedAt: 1_700_000_000 + size,
    updatedAt: new Date(1_700_000_000_000 + size).toISOString(),
    ...over,
  };
}

function conflict(origin: string, n: number, proofLength = 2): WitnessConflict {
  return {
    origin,
    reason: proofLength === 0 ? 'same-size-different-root' : 'inconsistent-proof',
    storedNote: `${origin}\n5\nstored\n`,
    offeredNote: `${origin}\n${n}\noffered ${n}\n`,
    oldSize: 5,
    proof: Array.from({ length: proofLength }, (_, i) => hash(n + i)),
    observedAt: new Date(1_700_000_000_000 + n).toISOString(),
  };
}

/** Writes `next` over whatever is stored for its origin; resolves to the size it replaced. */
async function advance(s: WitnessStorage, next: WitnessedCheckpoint): Promise<number | undefined> {
  const { result } = await s.updateCheckpoints([next.origin], (stored) => ({
    checkpoints: [next],
    conflicts: [],
    result: stored.get(next.origin)?.size,
  }));
  return result;
}

async function record(s: WitnessStorage, conflicts: WitnessConflict[]): Promise<readonly boolean[]> {
  return (await s.updateCheckpoints([], () => ({ checkpoints: [], conflicts, result: undefined }))).newConflicts;
}

function assertPlainBytes(c: WitnessedCheckpoint | WitnessConflict): void {
  const all = 'root' in c ? [c.root] : [...c.proof];
  for (const b of all) assert.equal(Object.getPrototypeOf(b), Uint8Array.prototype, 'a plain Uint8Array, not a Buffer');
}

forEachBackend('WitnessStorage conformance', (freshPlace) => {
  test('checkpoints round-trip across reopen, by origin and by origin hash, listed in byte order', async () => {
    const place = await freshPlace();
    let s = await openAt(place);
    // Byte order puts 'Z' before 'a' (a locale's collation would not).
    for (const origin of ['example.com/b', 'Zeta/log', 'example.com/a'])
      assert.equal(await advance(s, checkpoint(origin, 1)), undefined);
    assert.equal(await advance(s, checkpoint('example.com/a', 7)), 1);
    await s.close();

    s = await openAt(place);
    const a = await s.get('example.com/a');
    assert.deepEqual(a, checkpoint('example.com/a', 7));
    assertPlainBytes(a!);
    assert.deepEqual(await s.getByOriginHash(witnessOriginHash('Zeta/log')), checkpoint('Zeta/log', 1));
    assert.equal(await s.get('unknown'), undefined);
    assert.equal(await s.getByOriginHash(witnessOriginHash('unknown')), undefined);
    assert.deepEqual(
      (await s.list()).map((c) => [c.origin, c.size]),
      [
        ['Zeta/log', 1],
        ['example.com/a', 7],
        ['example.com/b', 1],
      ],
    );
    await s.close();
  });

  test('updateCheckpoints gives decide the stored checkpoints of the origins asked, and commits several origins at once', async () => {
    const s = await openAt(await freshPlace());
    await advance(s, checkpoint('log/a', 3));
    let seen: string[] = [];
    const commit = await s.updateCheckpoints(['log/a', 'log/b', 'log/a'], (stored) => {
      seen = [...stored.keys()];
      assert.deepEqual(stored.get('log/a'), checkpoint('log/a', 3));
      return { checkpoints: [checkpoint('log/a', 4), checkpoint('log/b', 2)], conflicts: [], result: 'done' };
    });
    assert.deepEqual(seen, ['log/a']);
    assert.deepEqual(commit, { result: 'done', newConflicts: [] });
    assert.deepEqual(
      (await s.list()).map((c) => [c.origin, c.size]),
      [
        ['log/a', 4],
        ['log/b', 2],
      ],
    );
    await s.close();
  });

  test('a decision that throws, or writes over a checkpoint it was not given, writes nothing', async () => {
    const s = await openAt(await freshPlace());
    await advance(s, checkpoint('log/a', 3));
    await assert.rejects(
      s.updateCheckpoints(['log/b'], () => {
        throw new RemembrancerError('INVALID_ARGUMENT', 'refused');
      }),
      code('INVALID_ARGUMENT'),
    );
    await assert.rejects(
      s.updateCheckpoints(['log/b'], () => {
        throw new Error('a bug');
      }),
      code('STORAGE_FAILURE'),
    );
    // log/a was not read, so its write is an insert where a row exists: the compare-and-set fails.
    await assert.rejects(
      s.updateCheckpoints(['log/b'], () => ({
        checkpoints: [checkpoint('log/b', 1), checkpoint('log/a', 9)],
        conflicts: [conflict('log/b', 1)],
        result: undefined,
      })),
      code('STORAGE_FAILURE'),
    );
    await assert.rejects(advance(s, checkpoint('log/c', 1, { root: new Uint8Array(31) })), code('STORAGE_FAILURE'));
    assert.deepEqual(
      (await s.list()).map((c) => [c.origin, c.size]),
      [['log/a', 3]],
    );
    assert.deepEqual(await s.conflicts(), []);
    await s.close();
  });

  test('conflicts are kept once per origin and offered note, newest first, with their proofs', async () => {
    const place = await freshPlace();
    let s = await openAt(place);
    assert.deepEqual(await record(s, [conflict('log/a', 1), conflict('log/b', 2, 0), conflict('log/a', 1)]), [
      true,
      true,
      false,
    ]);
    assert.deepEqual(await record(s, [conflict('log/a', 3), conflict('log/b', 2, 0)]), [true, false]);
    // The same offered note under another origin is another conflict.
    assert.deepEqual(await record(s, [{ ...conflict('log/a', 3), origin: 'log/c' }]), [true]);
    await s.close();

    s = await openAt(place);
    assert.deepEqual(await s.conflicts('log/a'), [conflict('log/a', 3), conflict('log/a', 1)]);
    assert.deepEqual(await s.conflicts('log/b'), [conflict('log/b', 2, 0)]);
    assert.deepEqual(
      (await s.conflicts()).map((c) => [c.origin, c.offeredNote]),
      [
        ['log/c', conflict('log/a', 3).offeredNote],
        ['log/a', conflict('log/a', 3).offeredNote],
        ['log/b', conflict('log/b', 2).offeredNote],
        ['log/a', conflict('log/a', 1).offeredNote],
      ],
    );
    assert.deepEqual(
      (await s.conflicts(undefined, 2)).map((c) => c.origin),
      ['log/c', 'log/a'],
    );
    assert.deepEqual(await s.conflicts('nobody'), []);
    for (const c of await s.conflicts()) assertPlainBytes(c);
    await s.close();
  });

  test(`an origin keeps its newest ${MAX_CONFLICTS_PER_ORIGIN} conflicts; other origins keep theirs`, async () => {
    const s = await openAt(await freshPlace());
    await record(s, [conflict('log/b', 0)]);
    const many = Array.from({ length: MAX_CONFLICTS_PER_ORIGIN + 5 }, (_, n) => conflict('log/a', n + 1));
    assert.ok((await record(s, many)).every((isNew) => isNew));
    const kept = await s.conflicts('log/a', 1_000);
    assert.equal(kept.length, MAX_CONFLICTS_PER_ORIGIN);
    assert.deepEqual(kept[0], conflict('log/a', MAX_CONFLICTS_PER_ORIGIN + 5));
    assert.deepEqual(kept.at(-1), conflict('log/a', 6));
    assert.deepEqual(await s.conflicts('log/b'), [conflict('log/b', 0)]);
    await s.close();
  });

  test('two instances on the same place: their updates serialise, each decision sees the one before', async () => {
    const place = await freshPlace();
    const first = await openAt(place);
    const second = await openAt(place);
    const origin = 'log/raced';
    // Each update writes one more than it read: a lost update would leave the size short.
    const racers = Array.from({ length: 16 }, (_, i) =>
      (i % 2 === 0 ? first : second).updateCheckpoints([origin], (stored) => {
        const size = (stored.get(origin)?.size ?? 0) + 1;
        return { checkpoints: [checkpoint(origin, size)], conflicts: [], result: size };
      }),
    );
    const sizes = (await Promise.all(racers)).map((c) => c.result).sort((x, y) => x - y);
    assert.deepEqual(
      sizes,
      Array.from({ length: 16 }, (_, i) => i + 1),
    );
    assert.equal((await second.get(origin))?.size, 16);

    // Both offer the first checkpoint of a new origin: exactly one finds none stored and writes it.
    const claims = await Promise.all(
      [first, second].map((s, i) =>
        s.updateCheckpoints(['log/new'], (stored) =>
          stored.has('log/new')
            ? { checkpoints: [], conflicts: [], result: false }
            : { checkpoints: [checkpoint('log/new', i + 1)], conflicts: [], result: true },
        ),
      ),
    );
    assert.deepEqual(claims.map((c) => c.result).sort(), [false, true]);
    await first.close();
    await second.close();
  });

  test('a closed storage answers SHUTTING_DOWN; close is idempotent', async () => {
    const s = await openAt(await freshPlace());
    await advance(s, checkpoint('log/a', 1));
    await s.close();
    await s.close();
    await assert.rejects(s.get('log/a'), code('SHUTTING_DOWN'));
    await assert.rejects(s.getByOriginHash(witnessOriginHash('log/a')), code('SHUTTING_DOWN'));
    await assert.rejects(s.list(), code('SHUTTING_DOWN'));
    await assert.rejects(s.conflicts(), code('SHUTTING_DOWN'));
    await assert.rejects(advance(s, checkpoint('log/a', 2)), code('SHUTTING_DOWN'));
  });

  test('(PostgreSQL) a fence that throws LEASE_LOST stops every write', async (t) => {
    const place = await freshPlace();
    if (place.kind === 'sqlite') {
      t.skip('a SQLite file has one writer per node: nothing to fence');
      return;
    }
    const fenced = await openAt(place, LOST_LEASE);
    await assert.rejects(advance(fenced, checkpoint('log/a', 1)), code('LEASE_LOST'));
    await assert.rejects(record(fenced, [conflict('log/a', 1)]), code('LEASE_LOST'));
    assert.deepEqual(await fenced.list(), []);
    assert.deepEqual(await fenced.conflicts(), []);
    await fenced.close();
  });
});
