import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  RemembrancerError,
  doubleSha256,
  parseTransaction,
  toDisplayHex,
  toHex,
  bitcoinTxid,
} from '../../src/index.js';
import { concatBytes } from '../../src/encoding/index.js';
import {
  GENESIS,
  SEED,
  anchorTx,
  codeOf,
  hashOf,
  hex,
  serializeLegacy,
  serializeSegwit,
  u32le,
  type TxSpec,
} from './fixtures.js';

const coinbase = hex(GENESIS.coinbase);
const root = hashOf('epoch root');
const spec = anchorTx(root);
const segwit = serializeSegwit(spec);
const legacy = serializeLegacy(spec);

function onlyMalformed(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof RemembrancerError && e.code === 'BITCOIN_MALFORMED', `threw ${String(e)}`);
  }
}

test('the genesis coinbase: legacy form, its txid is the genesis merkle root', () => {
  const tx = parseTransaction(coinbase);
  assert.equal(tx.version, 1);
  assert.equal(tx.hasWitness, false);
  assert.equal(tx.inputs.length, 1);
  const [input] = tx.inputs;
  assert.deepEqual(input?.prevTxid, new Uint8Array(32));
  assert.equal(input?.prevIndex, 0xffffffff);
  assert.equal(input?.script.length, 0x4d);
  assert.match(new TextDecoder().decode(input?.script), /The Times 03\/Jan\/2009 Chancellor on brink/);
  assert.equal(input?.sequence, 0xffffffff);
  assert.deepEqual(input?.witness, []);
  assert.equal(tx.outputs.length, 1);
  assert.equal(tx.outputs[0]?.value, 5_000_000_000n);
  assert.equal(tx.outputs[0]?.script.length, 67);
  assert.equal(tx.locktime, 0);
  assert.deepEqual(tx.stripped, coinbase);
  assert.equal(toDisplayHex(bitcoinTxid(tx)), GENESIS.merkleRoot);
  assert.equal(toDisplayHex(bitcoinTxid(coinbase)), GENESIS.merkleRoot);
});

test('a segwit transaction serialized by hand: witnesses parsed, the txid ignores them', () => {
  const tx = parseTransaction(segwit);
  assert.equal(tx.hasWitness, true);
  assert.equal(tx.version, 2);
  assert.equal(tx.locktime, 870_000);
  assert.deepEqual(tx.inputs[0]?.prevTxid, spec.inputs[0]?.prevTxid);
  assert.equal(tx.inputs[0]?.prevIndex, 1);
  assert.equal(tx.inputs[0]?.sequence, 0xfffffffd);
  assert.deepEqual(tx.inputs[0]?.script, new Uint8Array(0));
  assert.deepEqual(tx.inputs[0]?.witness, spec.inputs[0]?.witness);
  assert.deepEqual(
    tx.outputs.map((o) => [o.value, toHex(o.script)]),
    spec.outputs.map((o) => [o.value, toHex(o.script)]),
  );
  assert.equal(toHex(tx.outputs[0]!.script), '6a20' + toHex(root));
  // The stripped form is the legacy serialization, byte for byte.
  assert.deepEqual(tx.stripped, legacy);
  assert.deepEqual(bitcoinTxid(tx), doubleSha256(legacy));
  assert.notDeepEqual(bitcoinTxid(segwit), doubleSha256(segwit));
  // Another witness (a malleated signature) leaves the txid alone.
  const other = serializeSegwit({
    ...spec,
    inputs: spec.inputs.map((i) => ({ ...i, witness: [hashOf('other signature'), ...i.witness.slice(1)] })),
  });
  assert.notDeepEqual(other, segwit);
  assert.deepEqual(bitcoinTxid(other), bitcoinTxid(segwit));
  // The same transaction without witnesses is the legacy form, with the same txid.
  assert.deepEqual(bitcoinTxid(legacy), bitcoinTxid(segwit));
  assert.equal(parseTransaction(legacy).hasWitness, false);
});

test('every truncation and every trailing byte is refused', () => {
  for (const bytes of [coinbase, segwit, legacy]) {
    for (let n = 0; n < bytes.length; n++) {
      assert.equal(
        codeOf(() => parseTransaction(bytes.subarray(0, n))),
        'BITCOIN_MALFORMED',
        `prefix ${n}`,
      );
    }
    assert.equal(
      codeOf(() => parseTransaction(concatBytes(bytes, Uint8Array.of(0)))),
      'BITCOIN_MALFORMED',
    );
  }
});

test('non-canonical CompactSizes are refused', () => {
  // The coinbase script length 0x4d, written as 0xfd 0x4d 0x00 (offset 41: version 4, count 1, outpoint 36).
  assert.equal(coinbase[41], 0x4d);
  const three = concatBytes(coinbase.subarray(0, 41), Uint8Array.of(0xfd, 0x4d, 0x00), coinbase.subarray(42));
  assert.equal(
    codeOf(() => parseTransaction(three)),
    'BITCOIN_MALFORMED',
  );
  const five = concatBytes(coinbase.subarray(0, 41), Uint8Array.of(0xfe, 0x4d, 0, 0, 0), coinbase.subarray(42));
  assert.equal(
    codeOf(() => parseTransaction(five)),
    'BITCOIN_MALFORMED',
  );
  const nine = concatBytes(
    coinbase.subarray(0, 41),
    Uint8Array.of(0xff, 0x4d, 0, 0, 0, 0, 0, 0, 0),
    coinbase.subarray(42),
  );
  assert.equal(
    codeOf(() => parseTransaction(nine)),
    'BITCOIN_MALFORMED',
  );
  // An input count of 1 as 0xfd 0x01 0x00.
  const count = concatBytes(coinbase.subarray(0, 4), Uint8Array.of(0xfd, 0x01, 0x00), coinbase.subarray(5));
  assert.match(String(codeOf(() => parseTransaction(count))), /BITCOIN_MALFORMED/);
});

test('counts and lengths larger than what remains are refused before allocation', () => {
  const version = u32le(1);
  for (const count of [
    Uint8Array.of(0x02), // two inputs, one present
    Uint8Array.of(0xfd, 0xff, 0xff),
    Uint8Array.of(0xfe, 0xff, 0xff, 0xff, 0xff),
    Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
    Uint8Array.of(0xff, 0, 0, 0, 0, 1, 0, 0, 0),
  ]) {
    const bytes = concatBytes(version, count, coinbase.subarray(5));
    assert.equal(
      codeOf(() => parseTransaction(bytes)),
      'BITCOIN_MALFORMED',
      toHex(count),
    );
  }
  // A script length past the end.
  const long = concatBytes(
    coinbase.subarray(0, 41),
    Uint8Array.of(0xfe, 0xff, 0xff, 0xff, 0x0f),
    coinbase.subarray(42),
  );
  assert.equal(
    codeOf(() => parseTransaction(long)),
    'BITCOIN_MALFORMED',
  );
  // An output count of 2^32-1 with one output's bytes.
  const outputs = concatBytes(segwit.subarray(0, 48), Uint8Array.of(0xfe, 0xff, 0xff, 0xff, 0xff), segwit.subarray(49));
  assert.equal(segwit[48], 2, 'the output count of the anchor transaction');
  assert.equal(
    codeOf(() => parseTransaction(outputs)),
    'BITCOIN_MALFORMED',
  );
});

test('zero inputs: legacy form is the segwit marker, and segwit needs flag 0x01, inputs and a witness', () => {
  const noInputs = concatBytes(u32le(1), Uint8Array.of(0x00), legacy.subarray(5 + 41));
  assert.equal(
    codeOf(() => parseTransaction(noInputs)),
    'BITCOIN_MALFORMED',
  );
  const flag2 = segwit.slice();
  flag2[5] = 0x02;
  assert.equal(
    codeOf(() => parseTransaction(flag2)),
    'BITCOIN_MALFORMED',
  );
  const flag0 = segwit.slice();
  flag0[5] = 0x00;
  assert.equal(
    codeOf(() => parseTransaction(flag0)),
    'BITCOIN_MALFORMED',
  );
  // Marker, flag, then zero inputs.
  const empty = concatBytes(u32le(2), Uint8Array.of(0x00, 0x01, 0x00, 0x00), u32le(0));
  assert.equal(
    codeOf(() => parseTransaction(empty)),
    'BITCOIN_MALFORMED',
  );
  // The witness form with every witness empty is not this transaction's one serialization.
  const bare: TxSpec = { ...spec, inputs: spec.inputs.map((i) => ({ ...i, witness: [] })) };
  assert.equal(
    codeOf(() => parseTransaction(serializeSegwit(bare))),
    'BITCOIN_MALFORMED',
  );
  assert.equal(parseTransaction(serializeLegacy(bare)).hasWitness, false);
});

test('several inputs, some without witness items, and no outputs parse', () => {
  const tx: TxSpec = {
    version: 0xffffffff,
    inputs: [
      { prevTxid: hashOf('a'), prevIndex: 0, script: Uint8Array.of(0x51), sequence: 0, witness: [] },
      {
        prevTxid: hashOf('b'),
        prevIndex: 7,
        script: new Uint8Array(0),
        sequence: 1,
        witness: [new Uint8Array(0), hashOf('w')],
      },
    ],
    outputs: [],
    locktime: 0xffffffff,
  };
  const parsed = parseTransaction(serializeSegwit(tx));
  assert.equal(parsed.version, 0xffffffff);
  assert.equal(parsed.locktime, 0xffffffff);
  assert.deepEqual(parsed.inputs[0]?.witness, []);
  assert.deepEqual(parsed.inputs[1]?.witness, [new Uint8Array(0), hashOf('w')]);
  assert.deepEqual(parsed.stripped, serializeLegacy(tx));
});

const txSpec: fc.Arbitrary<TxSpec> = fc.record({
  version: fc.nat({ max: 0xffffffff }),
  inputs: fc.array(
    fc.record({
      prevTxid: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      prevIndex: fc.nat({ max: 0xffffffff }),
      script: fc.uint8Array({ maxLength: 300 }),
      sequence: fc.nat({ max: 0xffffffff }),
      witness: fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 3 }),
    }),
    { minLength: 1, maxLength: 4 },
  ),
  outputs: fc.array(
    fc.record({
      value: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      script: fc.uint8Array({ maxLength: 260 }),
    }),
    { maxLength: 4 },
  ),
  locktime: fc.nat({ max: 0xffffffff }),
});

test('well-formed transactions round-trip in both forms; the txid hashes the legacy form (property)', () => {
  fc.assert(
    fc.property(txSpec, (tx) => {
      const withWitness = tx.inputs.some((i) => i.witness.length > 0);
      const forms = withWitness ? [serializeLegacy(tx), serializeSegwit(tx)] : [serializeLegacy(tx)];
      for (const bytes of forms) {
        const parsed = parseTransaction(bytes);
        assert.equal(parsed.version, tx.version);
        assert.equal(parsed.locktime, tx.locktime);
        assert.deepEqual(
          parsed.outputs.map((o) => [o.value, toHex(o.script)]),
          tx.outputs.map((o) => [o.value, toHex(o.script)]),
        );
        assert.deepEqual(
          parsed.inputs.map((i) => [toHex(i.prevTxid), i.prevIndex, toHex(i.script), i.sequence]),
          tx.inputs.map((i) => [toHex(i.prevTxid), i.prevIndex, toHex(i.script), i.sequence]),
        );
        assert.deepEqual(parsed.stripped, serializeLegacy(tx));
        assert.deepEqual(bitcoinTxid(parsed), doubleSha256(serializeLegacy(tx)));
      }
      if (withWitness) {
        assert.deepEqual(
          parseTransaction(serializeSegwit(tx)).inputs.map((i) => i.witness),
          tx.inputs.map((i) => i.witness),
        );
      }
    }),
    { seed: SEED, numRuns: 300 },
  );
});

test('random bytes, and mutations of real transactions, fail only with BITCOIN_MALFORMED (property)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => onlyMalformed(() => parseTransaction(bytes))),
    { seed: SEED, numRuns: 1000 },
  );
  const mutation = fc.record({
    base: fc.constantFrom(coinbase, segwit, legacy),
    at: fc.nat(),
    byte: fc.nat({ max: 255 }),
    kind: fc.constantFrom('set', 'insert', 'delete'),
  });
  fc.assert(
    fc.property(mutation, ({ base, at, byte, kind }) => {
      const i = at % base.length;
      const bytes =
        kind === 'set'
          ? Uint8Array.from(base, (b, j) => (j === i ? byte : b))
          : kind === 'insert'
            ? concatBytes(base.subarray(0, i), Uint8Array.of(byte), base.subarray(i))
            : concatBytes(base.subarray(0, i), base.subarray(i + 1));
      onlyMalformed(() => parseTransaction(bytes));
    }),
    { seed: SEED, numRuns: 1000 },
  );
});
