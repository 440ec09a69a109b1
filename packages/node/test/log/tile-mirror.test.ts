import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, openSync, readdirSync, rmSync, writeSync, closeSync, cpSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryTree, leafHash, verifyInclusion } from '@vaultmesh/core';
import { LOG_DB_FILE, fromStratified, stratifiedOffset, toStratified, type EngineBatchHasher } from '@vaultmesh/node';
import { entry, open, tempDirs } from './engine-fixture.js';

const dirs = tempDirs('vm-mirror-');
after(() => dirs.cleanup());

const NS = 'm:tiles';
const SIZE = 256 * 40 + 17;

/** Writes SIZE entries in uneven calls and returns the reference tree. */
async function fill(dir: string, extra: Parameters<typeof open>[1] = {}): Promise<MemoryTree> {
  const e = open(dir, { batchMaxEntries: 1500, ...extra });
  e.createNamespace(NS);
  const tree = new MemoryTree();
  for (let at = 0; at < SIZE; ) {
    const k = Math.min(SIZE - at, 700 + (at % 333));
    const datas = Array.from({ length: k }, (_, i) => entry(NS, at + i));
    for (const d of datas) tree.append(d);
    await e.append(NS, datas);
    at += k;
  }
  await e.close();
  return tree;
}

function checkProofs(e: ReturnType<typeof open>, tree: MemoryTree): void {
  const root = tree.root();
  assert.deepEqual(e.rootAt(NS, SIZE), root);
  for (let i = 0; i < SIZE; i += 97) {
    const proof = e.inclusionProof(NS, i, SIZE);
    assert.deepEqual(proof, tree.inclusionProof(i, SIZE));
    verifyInclusion(i, SIZE, leafHash(entry(NS, i)), proof, root);
  }
  for (const idx of [0, 7, 39]) assert.deepEqual(e.readTile(NS, 0, idx, 256), tileRow(tree, idx));
}

function tileRow(tree: MemoryTree, tileIndex: number): Uint8Array {
  const out = new Uint8Array(256 * 32);
  for (let i = 0; i < 256; i++) out.set(tree.subtreeHash({ level: 0, index: tileIndex * 256 + i }), i * 32);
  return out;
}

describe('tile mirror', () => {
  test('the stratified slot layout is a permutation of the 510 tile hashes', () => {
    const seen = new Set<number>();
    for (let row = 0; row < 8; row++) for (let p = 0; p < 256 >>> row; p++) seen.add(stratifiedOffset(row, p));
    assert.equal(seen.size, 510);
    assert.equal(Math.min(...seen), 0);
    assert.equal(Math.max(...seen), 509);
    const tile = Uint8Array.from({ length: 510 * 32 }, (_, i) => (i * 7 + (i >> 5)) & 0xff);
    const s = toStratified(tile, new Uint8Array(tile.length));
    assert.notDeepEqual(s, tile);
    assert.deepEqual(fromStratified(s, new Uint8Array(tile.length)), tile);
  });

  test('proofs and tiles served through the mirror equal the in-memory tree', async () => {
    const dir = dirs.make();
    const tree = await fill(dir);
    const mirrorDir = join(dir, `${LOG_DB_FILE}.tiles`);
    assert.ok(readdirSync(mirrorDir).includes('ns-1-level-0.tiles'));
    assert.equal(statSync(join(mirrorDir, 'ns-1-level-0.tiles')).size, 40 * 16320);
    // A tiny memory cache, so reads go to the mirror.
    const e = open(dir, { tileCacheTiles: 16 });
    checkProofs(e, tree);
    assert.ok(e.stats().tileCache.mirrorReads > 0);
    await e.close();
  });

  test('a mirror that does not match the database is discarded and rebuilt', async () => {
    const dir = dirs.make();
    const tree = await fill(dir);
    const file = join(dir, `${LOG_DB_FILE}.tiles`, 'ns-1-level-0.tiles');
    // Damage the last durable tile: validation on open compares exactly that one.
    const fd = openSync(file, 'r+');
    writeSync(fd, new Uint8Array(64).fill(0xee), 0, 64, 39 * 16320 + 100);
    closeSync(fd);
    const e = open(dir, { tileCacheTiles: 16 });
    checkProofs(e, tree);
    await e.close();

    // A mirror copied from a different log of the same shape is refused as well.
    const other = dirs.make();
    await fill(other, { logSeed: new Uint8Array(32).fill(3), nodeName: 'other.test' });
    const a = open(other, { logSeed: new Uint8Array(32).fill(3), nodeName: 'other.test' });
    await a.close();
    rmSync(join(dir, `${LOG_DB_FILE}.tiles`), { recursive: true });
    cpSync(join(other, `${LOG_DB_FILE}.tiles`), join(dir, `${LOG_DB_FILE}.tiles`), { recursive: true });
    const b = open(dir, { tileCacheTiles: 16 });
    checkProofs(b, tree);
    await b.close();
  });

  test('an unusable mirror is switched off and the database serves everything', async () => {
    const dir = dirs.make();
    const tree = await fill(dir);
    const mirrorDir = join(dir, `${LOG_DB_FILE}.tiles`);
    rmSync(join(mirrorDir, 'ns-1-level-0.tiles'));
    mkdirSync(join(mirrorDir, 'ns-1-level-0.tiles')); // opening it read-write fails
    const warnings: string[] = [];
    const e = open(dir, { tileCacheTiles: 16, logger: { info() {}, warn: (_o, m) => warnings.push(m), error() {} } });
    checkProofs(e, tree);
    assert.ok(warnings.some((w) => /mirror/.test(w)), warnings.join('; '));
    await e.close();
  });

  test('tileMirrorDir: false runs without a mirror', async () => {
    const dir = dirs.make();
    const tree = await fill(dir, { tileMirrorDir: false });
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tiles')), []);
    const e = open(dir, { tileCacheTiles: 16, tileMirrorDir: false });
    checkProofs(e, tree);
    assert.equal(e.stats().tileCache.mirrorReads, 0);
    await e.close();
  });

  test('a batch hasher with nodeHashesPacked builds the same tree', async () => {
    const sha = (prefix: number, b: Uint8Array) => new Uint8Array(createHash('sha256').update(Uint8Array.of(prefix)).update(b).digest());
    let packedCalls = 0;
    const hasher: EngineBatchHasher = {
      leafHashes: (datas) => datas.map((d) => sha(0, d)),
      nodeHashesPacked: (children) => {
        packedCalls++;
        const out = new Uint8Array(children.length / 2);
        for (let i = 0; i < children.length / 64; i++) out.set(sha(1, children.subarray(i * 64, i * 64 + 64)), i * 32);
        return out;
      },
    };
    const dir = dirs.make();
    const tree = await fill(dir, { batchHasher: hasher });
    assert.ok(packedCalls > 0);
    const e = open(dir, { tileCacheTiles: 16 });
    checkProofs(e, tree);
    await e.close();
  });
});
