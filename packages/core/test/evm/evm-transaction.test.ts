import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RLP } from '@ethereumjs/rlp';
import fc from 'fast-check';
import { MAX_EVM_TX_BYTES, decodeEvmTransaction, toHex } from '../../src/index.js';
import { concatBytes } from '../../src/encoding/index.js';
import {
  ANCHOR_ADDRESS,
  EIP155_TX,
  SEED,
  codeOf,
  hashOf,
  hex,
  keccak,
  rawTx,
  rlpBytesArbitrary,
  uint,
} from './fixtures.js';

const data = hashOf('calldata');

test('the EIP-155 example decodes: legacy, chain id 1 from v = 37', () => {
  const raw = hex(EIP155_TX.raw);
  const tx = decodeEvmTransaction(raw);
  assert.equal(tx.type, 0);
  assert.equal(toHex(tx.to!), EIP155_TX.to);
  assert.equal(tx.data.length, 0);
  assert.equal(tx.chainId, 1n);
  // The vector is the EIP's own: its fields with (chainId, 0, 0) hash to the EIP's signing hash.
  const fields = RLP.decode(raw) as Uint8Array[];
  assert.equal(toHex(keccak(RLP.encode([...fields.slice(0, 6), 1, 0, 0]))), EIP155_TX.signingHash);
});

test('every form decodes its recipient, data and chain id', () => {
  for (const type of [0, 1, 2, 3, 4] as const) {
    const tx = decodeEvmTransaction(rawTx(type, { data, chainId: 11155111 }));
    assert.equal(tx.type, type);
    assert.deepEqual(tx.to, ANCHOR_ADDRESS);
    assert.deepEqual(tx.data, data);
    assert.equal(tx.chainId, 11155111n);
  }
  // Legacy before EIP-155: v is 27 or 28 and there is no chain id.
  const fields = RLP.decode(rawTx(0, { data })) as Uint8Array[];
  for (const v of [27, 28]) {
    const tx = decodeEvmTransaction(RLP.encode([...fields.slice(0, 6), uint(v), ...fields.slice(7)]));
    assert.equal(tx.type, 0);
    assert.equal('chainId' in tx, false);
  }
  // Contract creation: an empty recipient, where the form allows one.
  for (const type of [0, 1, 2] as const) {
    assert.equal(decodeEvmTransaction(rawTx(type, { to: new Uint8Array(0) })).to, undefined);
  }
  for (const type of [3, 4] as const) {
    assert.equal(
      codeOf(() => decodeEvmTransaction(rawTx(type, { to: new Uint8Array(0) }))),
      'EVM_MALFORMED',
    );
  }
});

test('malformed transactions throw EVM_MALFORMED', () => {
  const legacy = RLP.decode(rawTx(0, { data })) as Uint8Array[];
  const eip1559 = RLP.decode(rawTx(2, { data }).subarray(1)) as (Uint8Array | unknown[])[];
  const typed = (type: number, fields: unknown[]) => concatBytes(Uint8Array.of(type), RLP.encode(fields as never));
  const cases: Array<[string, unknown]> = [
    ['empty', new Uint8Array(0)],
    ['unknown type 0x05', typed(5, eip1559)],
    ['type 0x00 as a type byte', typed(0, legacy)],
    ['a byte string, not a list', RLP.encode(data)],
    ['a type byte alone', Uint8Array.of(2)],
    ['legacy with 8 fields', RLP.encode(legacy.slice(0, 8))],
    ['legacy with 10 fields', RLP.encode([...legacy, uint(1)])],
    ['legacy v = 30', RLP.encode([...legacy.slice(0, 6), uint(30), ...legacy.slice(7)])],
    ['legacy v with a leading zero', RLP.encode([...legacy.slice(0, 6), Uint8Array.of(0, 27), ...legacy.slice(7)])],
    ['legacy data as a list', RLP.encode([...legacy.slice(0, 5), [data], ...legacy.slice(6)])],
    ['type 2 with 11 fields', typed(2, eip1559.slice(0, 11))],
    [
      'type 2 access list as bytes',
      typed(
        2,
        eip1559.map((f, i) => (i === 8 ? data : f)),
      ),
    ],
    [
      'type 2 to of 19 bytes',
      typed(
        2,
        eip1559.map((f, i) => (i === 5 ? ANCHOR_ADDRESS.subarray(1) : f)),
      ),
    ],
    [
      'type 2 chain id with a leading zero',
      typed(
        2,
        eip1559.map((f, i) => (i === 0 ? Uint8Array.of(0, 1) : f)),
      ),
    ],
    ['type 2 trailing byte', new Uint8Array([...rawTx(2, { data }), 0])],
    ['type 2 truncated', rawTx(2, { data }).subarray(0, 40)],
    ['legacy trailing byte', new Uint8Array([...rawTx(0, { data }), 0x80])],
    ['over the bound', rawTx(2, { data: new Uint8Array(MAX_EVM_TX_BYTES) })],
    ['hex', toHex(rawTx(2))],
    ['null', null],
  ];
  for (const [what, raw] of cases) {
    assert.equal(
      codeOf(() => decodeEvmTransaction(raw as Uint8Array)),
      'EVM_MALFORMED',
      what,
    );
  }
});

test('decoding random bytes or random RLP throws nothing but EVM_MALFORMED (property)', () => {
  const input = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    rlpBytesArbitrary,
    fc
      .tuple(fc.integer({ min: 0, max: 0x7f }), rlpBytesArbitrary)
      .map(([type, rest]) => new Uint8Array([type, ...rest])),
  );
  fc.assert(
    fc.property(input, (raw) => {
      const code = codeOf(() => decodeEvmTransaction(raw));
      assert.ok(code === undefined || code === 'EVM_MALFORMED', code);
    }),
    { seed: SEED, numRuns: 2000 },
  );
});
