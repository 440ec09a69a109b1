import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RemembrancerError, rangeDecomposition, type SubtreeId } from '../../src/index.js';

const MAX = Number.MAX_SAFE_INTEGER;

function span(id: SubtreeId): [bigint, bigint] {
  const w = 1n << BigInt(id.level);
  return [BigInt(id.index) * w, (BigInt(id.index) + 1n) * w];
}

/** Independent reference in BigInt: the left part grows by the low bits of begin, the right part shrinks by the bits of end. */
function reference(begin: bigint, end: bigint): [number, bigint][] {
  const left: [number, bigint][] = [];
  const right: [number, bigint][] = [];
  let b = begin;
  let e = end;
  for (let level = 0; b < e; level++) {
    const w = 1n << BigInt(level);
    if ((b >> BigInt(level)) & 1n && b + w <= e) {
      left.push([level, b >> BigInt(level)]);
      b += w;
    }
    if ((e >> BigInt(level)) & 1n && e - w >= b) {
      e -= w;
      right.unshift([level, e >> BigInt(level)]);
    }
  }
  return [...left, ...right];
}

test('small ranges', () => {
  assert.deepEqual(rangeDecomposition(0, 0), []);
  assert.deepEqual(rangeDecomposition(5, 5), []);
  assert.deepEqual(rangeDecomposition(0, 1), [{ level: 0, index: 0 }]);
  assert.deepEqual(rangeDecomposition(0, 7), [
    { level: 2, index: 0 },
    { level: 1, index: 2 },
    { level: 0, index: 6 },
  ]);
  assert.deepEqual(rangeDecomposition(3, 13), [
    { level: 0, index: 3 },
    { level: 2, index: 1 },
    { level: 2, index: 2 },
    { level: 0, index: 12 },
  ]);
  assert.deepEqual(rangeDecomposition(0, 2 ** 40), [{ level: 40, index: 0 }]);
  assert.deepEqual(rangeDecomposition(0, MAX).length, 53);
});

test('invalid arguments', () => {
  for (const [b, e] of [
    [-1, 2],
    [0, 1.5],
    [0, MAX + 1],
    [NaN, 3],
    [0, Infinity],
  ] as const) {
    assert.throws(
      () => rangeDecomposition(b, e),
      (err: unknown) => err instanceof RemembrancerError && err.code === 'INVALID_ARGUMENT',
    );
  }
  assert.throws(
    () => rangeDecomposition(3, 2),
    (err: unknown) => err instanceof RemembrancerError && err.code === 'INVALID_RANGE',
  );
});

test('property: contiguous aligned cover, equal to a BigInt reference, for any safe range', () => {
  const bound = fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 2 ** 41 }), fc.maxSafeNat());
  fc.assert(
    fc.property(bound, bound, (x, y) => {
      const [begin, end] = x <= y ? [x, y] : [y, x];
      const ids = rangeDecomposition(begin, end);
      let at = BigInt(begin);
      for (const id of ids) {
        const [a, b] = span(id);
        assert.equal(a, at);
        at = b;
      }
      assert.equal(at, BigInt(end));
      assert.deepEqual(
        ids.map((id) => [id.level, BigInt(id.index)]),
        reference(BigInt(begin), BigInt(end)),
      );
    }),
    { numRuns: 2000 },
  );
});
