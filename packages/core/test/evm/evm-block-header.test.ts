import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RLP } from '@ethereumjs/rlp';
import fc from 'fast-check';
import { MAX_EVM_HEADER_BYTES, decodeEvmBlockHeader, evmBlockHash, toHex } from '../../src/index.js';
import {
  EMPTY_TRIE_ROOT,
  HEADER_FORKS,
  MAINNET,
  SEED,
  codeOf,
  hashOf,
  headerRlp,
  keccak,
  rlpBytesArbitrary,
  uint,
} from './fixtures.js';

test('mainnet genesis and block 1 hash to their known block hashes', () => {
  for (const block of [MAINNET.genesis, MAINNET.block1]) {
    assert.equal(toHex(evmBlockHash(block.rlp)), block.hash);
    const header = decodeEvmBlockHeader(block.rlp);
    assert.equal(header.number, block.number);
    assert.equal(header.timestamp, block.timestamp);
    assert.equal(header.fieldCount, 15);
    assert.equal(toHex(header.transactionsRoot), EMPTY_TRIE_ROOT);
    assert.equal(toHex(header.receiptsRoot), EMPTY_TRIE_ROOT);
  }
  assert.equal(toHex(decodeEvmBlockHeader(MAINNET.genesis.rlp).stateRoot), MAINNET.genesis.stateRoot);
  assert.equal(toHex(decodeEvmBlockHeader(MAINNET.block1.rlp).parentHash), MAINNET.block1.parentHash);
  // The hash is Keccak-256 of the bytes as given, nothing else.
  assert.deepEqual(evmBlockHash(MAINNET.block1.rlp), keccak(MAINNET.block1.rlp));
});

test('headers of every fork layout decode, fields taken by position', () => {
  const txRoot = hashOf('transactions');
  for (const [fork, fields] of Object.entries(HEADER_FORKS)) {
    const rlp = headerRlp(txRoot, 22_000_000, fields);
    const header = decodeEvmBlockHeader(rlp);
    assert.equal(header.fieldCount, fields, fork);
    assert.equal(header.number, 22_000_000);
    assert.equal(header.timestamp, 1_730_000_000);
    assert.deepEqual(header.transactionsRoot, txRoot);
    assert.deepEqual(header.parentHash, hashOf('parent'));
    assert.deepEqual(header.stateRoot, hashOf('state'));
    assert.deepEqual(header.receiptsRoot, hashOf('receipts'));
    assert.deepEqual(evmBlockHash(rlp), keccak(rlp));
  }
  // A later fork appending a field still decodes; the extra field is not interpreted.
  const fields = RLP.decode(headerRlp(txRoot)) as Uint8Array[];
  assert.equal(decodeEvmBlockHeader(RLP.encode([...fields, hashOf('future')])).fieldCount, 22);
  // Block number 0 is the empty string, as in the genesis header.
  assert.equal(decodeEvmBlockHeader(headerRlp(txRoot, 0)).number, 0);
  assert.equal(decodeEvmBlockHeader(headerRlp(txRoot, Number.MAX_SAFE_INTEGER)).number, Number.MAX_SAFE_INTEGER);
});

test('malformed headers throw EVM_MALFORMED', () => {
  const fields = RLP.decode(headerRlp(hashOf('transactions'))) as Uint8Array[];
  const withField = (i: number, value: Uint8Array | Uint8Array[]) =>
    RLP.encode(fields.map((f, j) => (j === i ? value : f)));
  const good = headerRlp(hashOf('transactions'));
  const cases: Array<[string, unknown]> = [
    ['14 fields', RLP.encode(fields.slice(0, 14))],
    ['not a list', RLP.encode(hashOf('x'))],
    ['empty', new Uint8Array(0)],
    ['trailing byte', new Uint8Array([...good, 0])],
    ['truncated', good.subarray(0, good.length - 1)],
    ['parentHash of 31 bytes', withField(0, hashOf('p').subarray(0, 31))],
    ['ommersHash of 33 bytes', withField(1, new Uint8Array(33))],
    ['beneficiary of 32 bytes', withField(2, hashOf('b'))],
    ['transactionsRoot empty', withField(4, new Uint8Array(0))],
    ['bloom of 255 bytes', withField(6, new Uint8Array(255))],
    ['number with a leading zero', withField(8, new Uint8Array([0, 1]))],
    ['number beyond 2^53', withField(8, uint(2n ** 53n))],
    ['timestamp of 9 bytes', withField(11, uint(2n ** 64n))],
    ['nonce of 7 bytes', withField(14, new Uint8Array(7))],
    ['a list field', withField(12, [new Uint8Array(1)])],
    ['a list field after the 15th', withField(20, [hashOf('r')])],
    ['over the bound', RLP.encode([...fields, new Uint8Array(MAX_EVM_HEADER_BYTES)])],
    ['a hex string', toHex(good)],
    ['undefined', undefined],
  ];
  for (const [what, bytes] of cases) {
    assert.equal(
      codeOf(() => decodeEvmBlockHeader(bytes as Uint8Array)),
      'EVM_MALFORMED',
      what,
    );
    assert.equal(
      codeOf(() => evmBlockHash(bytes as Uint8Array)),
      'EVM_MALFORMED',
      what,
    );
  }
});

test('decoding random bytes or random RLP throws nothing but EVM_MALFORMED (property)', () => {
  const input = fc.oneof(fc.uint8Array({ maxLength: 600 }), rlpBytesArbitrary);
  fc.assert(
    fc.property(input, (bytes) => {
      const code = codeOf(() => decodeEvmBlockHeader(bytes));
      assert.ok(code === undefined || code === 'EVM_MALFORMED', code);
    }),
    { seed: SEED, numRuns: 2000 },
  );
});

test('one changed byte of a header never throws anything else, and always changes the hash (property)', () => {
  const good = headerRlp(hashOf('transactions'));
  const hash = toHex(keccak(good));
  fc.assert(
    fc.property(fc.nat({ max: good.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, xor) => {
      const changed = good.slice();
      changed[at]! ^= xor;
      const code = codeOf(() => decodeEvmBlockHeader(changed));
      assert.ok(code === undefined || code === 'EVM_MALFORMED');
      if (code === undefined) assert.notEqual(toHex(evmBlockHash(changed)), hash);
    }),
    { seed: SEED, numRuns: 1000 },
  );
});
