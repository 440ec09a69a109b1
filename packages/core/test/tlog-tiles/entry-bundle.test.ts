// C2SP tlog-tiles entry bundles (https://c2sp.org/tlog-tiles#log-entries); each test quotes the
// sentence of the spec it checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MAX_ENTRY_BYTES,
  encodeEntryBundle,
  isRemembrancerError,
  parseEntryBundle,
  utf8Encode,
} from '../../src/index.js';
import { MAX_BUNDLE_ENTRY_BYTES } from '../../src/tlog-tiles/index.js';

const invalid = (e: unknown) => isRemembrancerError(e, 'INVALID_ARGUMENT');

test('"Entry bundles are sequences of big-endian uint16 length-prefixed log entries"', () => {
  const a = utf8Encode('{"a":1}');
  const b = new Uint8Array(300).fill(7);
  const bundle = encodeEntryBundle([a, new Uint8Array(0), b]);
  assert.deepEqual([...bundle.subarray(0, 2)], [0, 7]);
  assert.deepEqual(bundle.subarray(2, 9), a);
  assert.deepEqual([...bundle.subarray(9, 11)], [0, 0]);
  assert.deepEqual([...bundle.subarray(11, 13)], [0x01, 0x2c]);
  assert.equal(bundle.length, 2 + 7 + 2 + 2 + 300);
  assert.deepEqual(parseEntryBundle(bundle, 3), [a, new Uint8Array(0), b]);
});

test('a uint16 length bounds an entry at 65,535 bytes, the limit every entry of ours obeys', () => {
  assert.equal(MAX_BUNDLE_ENTRY_BYTES, 65_535);
  assert.equal(MAX_ENTRY_BYTES, MAX_BUNDLE_ENTRY_BYTES);
  const biggest = new Uint8Array(MAX_BUNDLE_ENTRY_BYTES).fill(1);
  assert.deepEqual(parseEntryBundle(encodeEntryBundle([biggest])), [biggest]);
  assert.throws(
    () => encodeEntryBundle([new Uint8Array(MAX_BUNDLE_ENTRY_BYTES + 1)]),
    (e) => isRemembrancerError(e, 'ENTRY_TOO_LARGE'),
  );
});

test('"Empty tiles MUST NOT be served": a bundle holds 1..256 entries, one per hash of its level-0 tile', () => {
  assert.throws(() => encodeEntryBundle([]), invalid);
  assert.throws(() => encodeEntryBundle(Array.from({ length: 257 }, () => new Uint8Array(1))), invalid);
  const full = Array.from({ length: 256 }, (_, i) => Uint8Array.of(i));
  assert.equal(parseEntryBundle(encodeEntryBundle(full), 256).length, 256);
  assert.throws(() => parseEntryBundle(new Uint8Array(0)), invalid);
  // 257 one-byte entries: more than any bundle holds, whatever the path says.
  const over = new Uint8Array(257 * 3).map((_, i) => (i % 3 === 1 ? 1 : 0));
  assert.throws(() => parseEntryBundle(over), invalid);
});

test('"Each entry in a bundle hashes to the corresponding entry in the corresponding level 0 Merkle Tree tile": the count must match the width', () => {
  const bundle = encodeEntryBundle([Uint8Array.of(1), Uint8Array.of(2)]);
  assert.equal(parseEntryBundle(bundle, 2).length, 2);
  assert.throws(() => parseEntryBundle(bundle, 1), invalid);
  assert.throws(() => parseEntryBundle(bundle, 3), invalid);
  for (const w of [0, 257, 1.5]) assert.throws(() => parseEntryBundle(bundle, w), invalid);
});

test('truncated prefixes, truncated entries and trailing bytes are refused', () => {
  assert.throws(() => parseEntryBundle(Uint8Array.of(0)), invalid);
  assert.throws(() => parseEntryBundle(Uint8Array.of(0, 3, 1, 2)), invalid);
  assert.throws(() => parseEntryBundle(Uint8Array.of(0, 1, 9, 0)), invalid);
});

test('property: parse inverts encode; arbitrary bytes parse or fail with the typed error only', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 600 }), { minLength: 1, maxLength: 256 }), (entries) => {
      assert.deepEqual(parseEntryBundle(encodeEntryBundle(entries), entries.length), entries);
    }),
    { numRuns: 200 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        const parsed = parseEntryBundle(bytes);
        assert.deepEqual(encodeEntryBundle(parsed), bytes);
      } catch (e) {
        assert.ok(invalid(e));
      }
    }),
  );
});
