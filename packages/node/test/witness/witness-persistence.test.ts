import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import {
  collectCosignatures,
  formatSignatureLine,
  openCheckpoint,
  parseCosignatureResponse,
  witnessOriginHash,
} from '@vaultmesh/core';
import { TestLog, WITNESS_NAME, openWitness, tempDirs } from './witness-fixture.js';
import { SqliteWitnessStorage } from '../../src/witness/sqlite-witness-storage.js';
import { killAfterAcks } from '../fixtures/kill-after-acks.js';

const dirs = tempDirs('vm-witness-db-');
after(async () => dirs.cleanup());

test('state survives close and reopen: stored checkpoint, served note, conflicts, and the 409 size', async () => {
  const dir = dirs.make();
  const log = new TestLog('alpha.vaultmesh.test/ns:persist', 11);
  const w1 = openWitness(dir, [log]);
  assert.equal((await w1.addCheckpoint(log.request(0, 7))).status, 200);
  const r = await w1.addCheckpoint(log.request(7, 19));
  assert.equal(r.status, 200);
  const cosig = parseCosignatureResponse(r.body)[0]!;
  assert.equal(
    (await w1.addCheckpoint(`old 19\n\n${log.forkedCheckpoint(19, new Uint8Array(32).fill(3))}`)).status,
    422,
  );
  const before = (await w1.checkpointFor(log.origin))!;
  await w1.close();
  await assert.rejects(w1.checkpointFor(log.origin), { code: 'SHUTTING_DOWN' });

  const w2 = openWitness(dir, [log]);
  try {
    assert.deepEqual(await w2.checkpointFor(log.origin), before);
    assert.equal((await w2.conflicts(log.origin)).length, 1);
    const served = await w2.latestCheckpoint(witnessOriginHash(log.origin));
    assert.equal(served.status, 200);
    assert.equal(openCheckpoint(served.body, log.signer.verifier()).checkpoint.size, 19);
    assert.deepEqual(
      collectCosignatures(served.body, [w2.verifier()]).map((c) => c.name),
      [WITNESS_NAME],
    );
    assert.ok(
      served.body.endsWith(formatSignatureLine(cosig)),
      'the cosignature add-checkpoint returned is the one served',
    );
    assert.equal((await w2.addCheckpoint(log.request(7, 25))).body, '19\n');
    assert.equal((await w2.addCheckpoint(log.request(19, 25))).status, 200);
  } finally {
    await w2.close();
  }
});

test('the database is a WAL file marked as a witness database, and foreign files are refused', async () => {
  const dir = dirs.make();
  const w = openWitness(dir, [new TestLog('a.test/x', 1)]);
  await w.close();
  const db = new Database(join(dir, 'witness.sqlite'), { readonly: true });
  try {
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('application_id', { simple: true }), 0x564d5731);
  } finally {
    db.close();
  }
  const foreign = dirs.make();
  const other = new Database(join(foreign + '.sqlite'));
  other.exec('CREATE TABLE t (x)');
  other.close();
  assert.throws(() => SqliteWitnessStorage.open(foreign + '.sqlite'), { code: 'STORAGE_FAILURE' });
});

const writer = fileURLToPath(new URL('./fixtures/witness-crash-writer.ts', import.meta.url));

/** Runs the writer until it acknowledged `minAcks` cosignatures (and a random bit longer), then SIGKILLs it. */
async function runAndKill(dir: string, origin: string, minAcks: number): Promise<number> {
  let acked = 0;
  await killAfterAcks({
    script: writer,
    args: [dir, origin],
    ack: /^ack (\d+)$/,
    onAck: (m) => (acked = Math.max(acked, Number(m[1]))),
    minAcks,
    jitterMs: 20,
  });
  return acked;
}

test('after kill -9 at random moments, every acknowledged cosignature is on disk and the state is whole', async () => {
  const dir = dirs.make();
  const log = new TestLog('alpha.vaultmesh.test/ns:crash', 21);
  let previous = 0;
  for (const minAcks of [30, 300, 1000]) {
    const acked = await runAndKill(dir, log.origin, minAcks);
    const w = openWitness(dir, [log]);
    try {
      const cp = (await w.checkpointFor(log.origin))!;
      // The witness persists before answering: nothing acknowledged may be lost.
      assert.ok(cp.size >= acked, `stored ${cp.size} < acknowledged ${acked}`);
      assert.ok(cp.size >= previous);
      log.growTo(cp.size);
      assert.deepEqual(cp.root, log.tree.rootAt(cp.size));
      const opened = openCheckpoint(cp.note, log.signer.verifier());
      assert.equal(opened.checkpoint.size, cp.size);
      assert.equal(collectCosignatures(cp.note, [w.verifier()]).length, 1);
      previous = cp.size;
    } finally {
      await w.close();
    }
  }
});

const RACERS = 4;
const ATTEMPTS = 400;
const racer = fileURLToPath(new URL('./fixtures/witness-racer.ts', import.meta.url));

test('racing processes on one file: the cosigned sizes form one chain, nothing is rolled back', async () => {
  const dir = dirs.make();
  const origin = 'alpha.vaultmesh.test/ns:race';
  const start = Date.now() + 3000;
  const results = await Promise.all(
    Array.from({ length: RACERS }, (_, id) => {
      return new Promise<{ wins: { old: number; size: number; worker: number }[]; conflicts: number }>(
        (resolve, reject) => {
          const child = spawn(
            process.execPath,
            [
              '--conditions=vaultmesh-src',
              '--import',
              'tsx',
              racer,
              dir,
              origin,
              String(ATTEMPTS),
              String(id),
              String(start),
            ],
            {
              stdio: ['ignore', 'pipe', 'pipe'],
            },
          );
          let out = '';
          let err = '';
          child.stdout.on('data', (d: Buffer) => (out += d.toString()));
          child.stderr.on('data', (d: Buffer) => (err += d.toString()));
          child.on('exit', (code) =>
            code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`racer ${id} exited with ${code}: ${err}`)),
          );
        },
      );
    }),
  );
  const wins = results.flatMap((r) => r.wins).sort((a, b) => a.size - b.size);
  const conflicts = results.reduce((n, r) => n + r.conflicts, 0);
  assert.ok(wins.length > 0);
  // Each cosignature extended exactly the previous one: no two wins from the same old size, no
  // win from a size that was not the latest.
  let size = 0;
  for (const win of wins) {
    assert.equal(win.old, size, `win ${JSON.stringify(win)} did not extend ${size}`);
    assert.ok(win.size > size);
    size = win.size;
  }
  assert.equal(wins.length + conflicts, RACERS * ATTEMPTS);
  const w = openWitness(dir, [new TestLog(origin, 31)]);
  try {
    assert.equal((await w.checkpointFor(origin))!.size, size);
  } finally {
    await w.close();
  }
  // More than one process won, so the race really happened across connections.
  assert.ok(new Set(wins.map((x) => x.worker)).size > 1, 'only one process ever won');
});
