import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
  closeSync,
  cpSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { MemoryTree, leafHash, verifyInclusion } from '@vaultmesh/core';
import { LOG_DB_FILE } from '../../src/log/index.js';
import type { EngineBatchHasher } from '../../src/hashing/index.js';
import {
  FULL_TILE_BYTES,
  MIRROR_SLOT_BYTES,
  fromMirrorSlot,
  pathSiblingOffset,
  toMirrorSlot,
} from '../../src/log/mirror-slot.js';
import { rowOffset } from '../../src/log/stored-tile-layout.js';
import { entry, open, tempDirs } from './engine-fixture.js';

const dirs = tempDirs('vm-mirror-');
after(() => dirs.cleanup());

const NS = 'm:tiles';
const SIZE = 256 * 40 + 17;

/** Writes SIZE entries in uneven calls and returns the reference tree. */
async function fill(dir: string, extra: Parameters<typeof open>[1] = {}): Promise<MemoryTree> {
  const e = await open(dir, { batchMaxEntries: 1500, ...extra });
  await e.createNamespace(NS);
  const tree = new MemoryTree();
  for (let at = 0; at < SIZE;) {
    const k = Math.min(SIZE - at, 700 + (at % 333));
    const datas = Array.from({ length: k }, (_, i) => entry(NS, at + i));
    for (const d of datas) tree.append(d);
    await e.append(NS, datas);
    at += k;
  }
  await e.close();
  return tree;
}

async function checkProofs(e: Awaited<ReturnType<typeof open>>, tree: MemoryTree): Promise<void> {
  const root = tree.root();
  assert.deepEqual(await e.rootAt(NS, SIZE), root);
  for (let i = 0; i < SIZE; i += 97) {
    const proof = await e.inclusionProof(NS, i, SIZE);
    assert.deepEqual(proof, tree.inclusionProof(i, SIZE));
    verifyInclusion(i, SIZE, leafHash(entry(NS, i)), proof, root);
  }
  for (const idx of [0, 7, 39]) assert.deepEqual(await e.readTile(NS, 0, idx, 256), tileRow(tree, idx));
}

function tileRow(tree: MemoryTree, tileIndex: number): Uint8Array {
  const out = new Uint8Array(256 * 32);
  for (let i = 0; i < 256; i++) out.set(tree.subtreeHash({ level: 0, index: tileIndex * 256 + i }), i * 32);
  return out;
}

describe('tile mirror', () => {
  test('the path-block slot layout round-trips and holds every path sibling in one block', () => {
    assert.equal(FULL_TILE_BYTES, 510 * 32);
    assert.equal(MIRROR_SLOT_BYTES, 16 * 34 * 32);
    // Hash i of the row-major tile is filled with byte values derived from i, so copies are traceable.
    const tile = new Uint8Array(FULL_TILE_BYTES);
    for (let i = 0; i < 510; i++) for (let k = 0; k < 32; k++) tile[i * 32 + k] = (i * 31 + k * 7 + (i >> 8)) & 0xff;
    const hashOf = (row: number, index: number) =>
      tile.subarray((rowOffset(256, row) + index) * 32, (rowOffset(256, row) + index + 1) * 32);
    const slot = toMirrorSlot(tile);
    assert.equal(slot.length, MIRROR_SLOT_BYTES);
    assert.deepEqual(fromMirrorSlot(slot), tile);
    for (let position = 0; position < 256; position++) {
      const block = slot.subarray((position >> 4) * 34 * 32, ((position >> 4) + 1) * 34 * 32);
      for (let row = 0; row < 8; row++) {
        const o = pathSiblingOffset(position, row);
        assert.ok(o >= 0 && o + 32 <= block.length);
        assert.deepEqual(
          block.subarray(o, o + 32),
          hashOf(row, (position >> row) ^ 1),
          `position ${position} row ${row}`,
        );
      }
    }
  });

  test('proofs and tiles served through the mirror equal the in-memory tree', async () => {
    const dir = dirs.make();
    const tree = await fill(dir);
    const mirrorDir = join(dir, `${LOG_DB_FILE}.tiles`);
    assert.ok(readdirSync(mirrorDir).includes('ns-1-level-0.tiles'));
    assert.equal(statSync(join(mirrorDir, 'ns-1-level-0.tiles')).size, 40 * MIRROR_SLOT_BYTES);
    // A tiny memory cache, so reads go to the mirror.
    const e = await open(dir, { tileCacheTiles: 16 });
    await checkProofs(e, tree);
    assert.ok(e.stats().tileCache.mirrorReads > 0);
    await e.close();
  });

  test('a mirror that does not match the database is discarded and rebuilt', async () => {
    const dir = dirs.make();
    const tree = await fill(dir);
    const file = join(dir, `${LOG_DB_FILE}.tiles`, 'ns-1-level-0.tiles');
    // Damage the last durable tile: validation on open compares exactly that one.
    const fd = openSync(file, 'r+');
    writeSync(fd, new Uint8Array(64).fill(0xee), 0, 64, 39 * MIRROR_SLOT_BYTES + 100);
    closeSync(fd);
    const e = await open(dir, { tileCacheTiles: 16 });
    await checkProofs(e, tree);
    await e.close();

    // A mirror copied from a different log of the same shape is refused as well.
    const other = dirs.make();
    await fill(other, { logSeed: new Uint8Array(32).fill(3), nodeName: 'other.test' });
    const a = await open(other, { logSeed: new Uint8Array(32).fill(3), nodeName: 'other.test' });
    await a.close();
    rmSync(join(dir, `${LOG_DB_FILE}.tiles`), { recursive: true });
    cpSync(join(other, `${LOG_DB_FILE}.tiles`), join(dir, `${LOG_DB_FILE}.tiles`), { recursive: true });
    const b = await open(dir, { tileCacheTiles: 16 });
    await checkProofs(b, tree);
    await b.close();
  });

  test('a mirror of the older layout (state version 1) is not read, and is rebuilt', async () => {
    const dir = dirs.make();
    const tree = await fill(dir);
    const mirrorDir = join(dir, `${LOG_DB_FILE}.tiles`);
    // What version 1 left behind: its state file and a level file of 16,320-byte slots.
    writeFileSync(join(mirrorDir, 'mirror-state.json'), JSON.stringify({ version: 1, levels: [[1, 0, 40]] }));
    writeFileSync(join(mirrorDir, 'ns-1-level-0.tiles'), new Uint8Array(40 * 16320).fill(0x5a));
    const e = await open(dir, { tileCacheTiles: 16 });
    await checkProofs(e, tree);
    // The rebuild runs in the background (timers): let it finish, then close (which syncs).
    for (let i = 0; i < 100 && statSync(join(mirrorDir, 'ns-1-level-0.tiles')).size !== 40 * MIRROR_SLOT_BYTES; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await e.close();
    assert.equal(statSync(join(mirrorDir, 'ns-1-level-0.tiles')).size, 40 * MIRROR_SLOT_BYTES);
    assert.deepEqual(JSON.parse(readFileSync(join(mirrorDir, 'mirror-state.json'), 'utf8')), {
      version: 2,
      levels: [[1, 0, 40]],
    });
    const again = await open(dir, { tileCacheTiles: 16 });
    await checkProofs(again, tree);
    assert.ok(again.stats().tileCache.mirrorReads > 0);
    await again.close();
  });

  test('an unusable mirror is switched off and the database serves everything', async () => {
    const dir = dirs.make();
    const tree = await fill(dir);
    const mirrorDir = join(dir, `${LOG_DB_FILE}.tiles`);
    rmSync(join(mirrorDir, 'ns-1-level-0.tiles'));
    mkdirSync(join(mirrorDir, 'ns-1-level-0.tiles')); // opening it read-write fails
    const warnings: string[] = [];
    const e = await open(dir, {
      tileCacheTiles: 16,
      logger: { info() {}, warn: (_o, m) => warnings.push(m), error() {} },
    });
    await checkProofs(e, tree);
    assert.ok(
      warnings.some((w) => /mirror/.test(w)),
      warnings.join('; '),
    );
    await e.close();
  });

  test('tileMirrorDir: false runs without a mirror', async () => {
    const dir = dirs.make();
    const tree = await fill(dir, { tileMirrorDir: false });
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.tiles')),
      [],
    );
    const e = await open(dir, { tileCacheTiles: 16, tileMirrorDir: false });
    await checkProofs(e, tree);
    assert.equal(e.stats().tileCache.mirrorReads, 0);
    await e.close();
  });

  test('a batch hasher with nodeHashesPacked builds the same tree', async () => {
    const sha = (prefix: number, b: Uint8Array) =>
      new Uint8Array(createHash('sha256').update(Uint8Array.of(prefix)).update(b).digest());
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
    const e = await open(dir, { tileCacheTiles: 16 });
    await checkProofs(e, tree);
    await e.close();
  });
});
