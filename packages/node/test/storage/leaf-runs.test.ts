import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crypto } from '@vaultmesh/core';
import { LEAF_CHUNK, buildLeafRun, runCandidates } from '../../src/storage/leaf-runs.js';

// A run answers, for any hash, exactly the offsets whose hash has the same first 48 bits.

function chunkOfHashes(): Uint8Array {
  const h = new Uint8Array(crypto.randomBytes(LEAF_CHUNK * 32));
  // Duplicates: offset 7's hash again at 70, 9000 and 65535.
  for (const at of [70, 9000, LEAF_CHUNK - 1]) h.copyWithin(at * 32, 7 * 32, 8 * 32);
  // Same bytes 0..4 as offset 100 but another fifth byte (not a candidate), and same 0..5 but
  // another tail (a candidate: the key is 48 bits).
  h.copyWithin(200 * 32, 100 * 32, 101 * 32);
  h[200 * 32 + 5] = h[100 * 32 + 5]! ^ 0x80;
  h.copyWithin(300 * 32, 100 * 32, 101 * 32);
  h[300 * 32 + 31] = h[100 * 32 + 31]! ^ 1;
  return h;
}

function lookup(run: ReturnType<typeof buildLeafRun>, hash: Uint8Array): number[] {
  return runCandidates(run[hash[0]!]!.records, hash);
}

test('every hash of the chunk is found at its offsets, ascending, and only there', () => {
  const hashes = chunkOfHashes();
  const run = buildLeafRun(hashes);
  assert.equal(run.length, 256);
  assert.deepEqual(
    run.map((b) => b.bucket),
    Array.from({ length: 256 }, (_, i) => i),
  );
  assert.equal(
    run.reduce((n, b) => n + b.records.length, 0),
    LEAF_CHUNK * 7,
  );
  const at = (i: number) => hashes.subarray(i * 32, i * 32 + 32);
  assert.deepEqual(lookup(run, at(7)), [7, 70, 9000, LEAF_CHUNK - 1]);
  assert.deepEqual(lookup(run, at(100)), [100, 300]);
  assert.deepEqual(lookup(run, at(200)), [200]);
  const expected = (i: number): number[] => {
    const key = Buffer.from(at(i).subarray(0, 6)).toString('hex');
    const out: number[] = [];
    for (let j = 0; j < LEAF_CHUNK; j++) if (Buffer.from(at(j).subarray(0, 6)).toString('hex') === key) out.push(j);
    return out;
  };
  for (let i = 0; i < LEAF_CHUNK; i += 997) assert.deepEqual(lookup(run, at(i)), expected(i), `offset ${i}`);
  for (let k = 0; k < 200; k++) {
    const stranger = new Uint8Array(crypto.randomBytes(32));
    assert.deepEqual(lookup(run, stranger), []);
  }
});

test('a run needs exactly one chunk of hashes; a corrupt bucket is refused', () => {
  assert.throws(() => buildLeafRun(new Uint8Array(32)), /65536/);
  assert.throws(() => runCandidates(new Uint8Array(8), new Uint8Array(32)), /corrupt/);
});
