import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { leafHash, nodeHash, toHex } from '@vaultmesh/core';
import {
  JsBatchHasher,
  loadBatchHasher,
  loadNativeAddon,
  NativeBatchHasher,
  packEntries,
  packRuns,
  type BatchHasher,
} from '../../src/hashing/index.ts';

const addon = loadNativeAddon();
const skipNative = addon ? false : 'native addon not built (npm run build:native)';
const js = new JsBatchHasher();

/** Runs fn once per SIMD flavour the CPU has, so every lane width is checked, then restores. */
function forEachImplementation(fn: (hasher: BatchHasher, name: string) => void): void {
  assert.ok(addon);
  const before = addon.implementation();
  try {
    for (const name of addon.implementations()) {
      assert.equal(addon.setImplementation(name), true);
      fn(new NativeBatchHasher(addon), name);
    }
  } finally {
    addon.setImplementation(before);
  }
}

function hexAll(hashes: readonly Uint8Array[]): string[] {
  return hashes.map((h) => toHex(h));
}

test('JS hasher matches core leafHash/nodeHash', () => {
  const datas = [new Uint8Array(0), Uint8Array.of(0), randomBytes(64), randomBytes(1000)];
  assert.deepEqual(hexAll(js.leafHashes(datas)), hexAll(datas.map((d) => leafHash(d))));
  const l = randomBytes(32);
  const r = randomBytes(32);
  const children = new Uint8Array(64);
  children.set(l, 0);
  children.set(r, 32);
  assert.equal(toHex(js.nodeHashesPacked(children)), toHex(nodeHash(l, r)));
  // RFC 6962 leaf hash of the empty entry.
  assert.equal(
    toHex(js.leafHashes([new Uint8Array(0)])[0]!),
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  );
});

test('loadBatchHasher picks the addon when built, and JS when asked', () => {
  const h = loadBatchHasher();
  assert.equal(h.kind, addon ? 'native' : 'js');
  assert.equal(loadBatchHasher(), h, 'default hasher is cached');
  const forced = loadBatchHasher({ prefer: 'js' });
  assert.equal(forced.kind, 'js');
  assert.equal(forced.implementation, 'node:crypto');
  assert.equal(loadBatchHasher({ addonPath: '/nonexistent/sha256_batch.node' }).kind, 'js');
});

test('native leaf hashes equal JS for random entries, every SIMD flavour', { skip: skipNative }, () => {
  forEachImplementation((native, name) => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 70 }), (datas) => {
        assert.deepEqual(hexAll(native.leafHashes(datas)), hexAll(js.leafHashes(datas)), name);
      }),
      { numRuns: 150 },
    );
  });
});

test('native packed leaf hashes honour arbitrary offsets', { skip: skipNative }, () => {
  forEachImplementation((native, name) => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 2000 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 60 }),
        (data, cuts) => {
          const offsets = Uint32Array.from(cuts.map((c) => c % (data.length + 1)).sort((a, b) => a - b));
          const a = native.leafHashesPacked(data, offsets);
          const b = js.leafHashesPacked(data, offsets);
          assert.equal(a.length, 32 * (offsets.length - 1));
          assert.equal(toHex(a), toHex(b), name);
        },
      ),
      { numRuns: 150 },
    );
  });
});

test('native node hashes equal JS, every SIMD flavour', { skip: skipNative }, () => {
  forEachImplementation((native, name) => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), fc.integer(), (pairs, seed) => {
        const children = new Uint8Array(64 * pairs);
        let x = seed | 0;
        for (let i = 0; i < children.length; i++) {
          x = (Math.imul(x, 1103515245) + 12345) | 0;
          children[i] = x >>> 24;
        }
        assert.equal(toHex(native.nodeHashesPacked(children)), toHex(js.nodeHashesPacked(children)), name);
      }),
      { numRuns: 100 },
    );
  });
});

test('empty entries, zero leaves and views into larger buffers', { skip: skipNative }, () => {
  forEachImplementation((native) => {
    assert.deepEqual(native.leafHashes([]), []);
    assert.equal(native.leafHashesPacked(new Uint8Array(0), Uint32Array.of(0)).length, 0);
    assert.equal(native.nodeHashesPacked(new Uint8Array(0)).length, 0);
    const empties = Array.from({ length: 33 }, () => new Uint8Array(0));
    assert.deepEqual(hexAll(native.leafHashes(empties)), hexAll(js.leafHashes(empties)));
    // Subarrays: the addon must respect byteOffset.
    const big = randomBytes(4096);
    const view = big.subarray(77, 77 + 128 * 3);
    assert.equal(toHex(native.nodeHashesPacked(view)), toHex(js.nodeHashesPacked(view)));
    const data = big.subarray(1000, 3000);
    const offsets = Uint32Array.from([5, 5, 70, 1999, 2000]);
    assert.equal(toHex(native.leafHashesPacked(data, offsets)), toHex(js.leafHashesPacked(data, offsets)));
  });
});

test('large entries: the 65,535-byte limit and beyond', { skip: skipNative }, () => {
  const datas = [randomBytes(65_535), randomBytes(65_536), randomBytes(1 << 20), randomBytes(3), randomBytes(100_001)];
  forEachImplementation((native, name) => {
    assert.deepEqual(hexAll(native.leafHashes(datas)), hexAll(datas.map((d) => leafHash(d))), name);
  });
});

test('every padding boundary length, mixed in one batch', { skip: skipNative }, () => {
  const datas: Uint8Array[] = [];
  for (let len = 0; len <= 260; len++) datas.push(randomBytes(len));
  datas.reverse();
  forEachImplementation((native, name) => {
    assert.deepEqual(hexAll(native.leafHashes(datas)), hexAll(js.leafHashes(datas)), name);
  });
});

test('both hashers reject malformed input the same way', () => {
  const hashers: BatchHasher[] = [js];
  if (addon) hashers.push(new NativeBatchHasher(addon));
  for (const h of hashers) {
    const data = new Uint8Array(10);
    assert.throws(() => h.leafHashesPacked(data, new Uint32Array(0)), RangeError, h.kind);
    assert.throws(() => h.leafHashesPacked(data, Uint32Array.of(0, 11)), RangeError, h.kind);
    assert.throws(() => h.leafHashesPacked(data, Uint32Array.of(5, 4)), RangeError, h.kind);
    assert.throws(() => h.leafHashesPacked(data, Uint32Array.of(0, 0xffff_ffff)), RangeError, h.kind);
    assert.throws(() => h.leafHashesPacked(data, [0, 1] as unknown as Uint32Array), TypeError, h.kind);
    assert.throws(() => h.leafHashesPacked([1, 2] as unknown as Uint8Array, Uint32Array.of(0)), TypeError, h.kind);
    assert.throws(() => h.nodeHashesPacked(new Uint8Array(63)), RangeError, h.kind);
    assert.throws(() => h.leafHashes([Uint8Array.of(1), [1, 2] as unknown as Uint8Array]), TypeError, h.kind);
    assert.throws(() => h.nodeHashesPacked(new Uint16Array(32) as unknown as Uint8Array), TypeError, h.kind);
  }
});

test('packing: offsets, and runs cut to a byte budget', () => {
  const datas = [Uint8Array.of(1, 2), new Uint8Array(0), Uint8Array.of(3)];
  const { data, offsets } = packEntries(datas);
  assert.deepEqual([...data], [1, 2, 3]);
  assert.deepEqual([...offsets], [0, 2, 2, 3]);
  const many = Array.from({ length: 50 }, (_, i) => randomBytes(i % 7));
  const runs = [...packRuns(many, 20)];
  assert.ok(runs.length > 1);
  assert.equal(
    runs.reduce((s, r) => s + r.offsets.length - 1, 0),
    many.length,
  );
  for (const r of runs) assert.ok(r.data.length <= 20);
  const hashes = runs.flatMap((r) => {
    const packed = js.leafHashesPacked(r.data, r.offsets);
    return Array.from({ length: r.offsets.length - 1 }, (_, i) => packed.subarray(32 * i, 32 * i + 32));
  });
  assert.deepEqual(hexAll(hashes), hexAll(js.leafHashes(many)));
});
