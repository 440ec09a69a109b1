import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { EVM_ANCHOR_DATA_BYTES, decodeEvmAnchorData, encodeEvmAnchorData, toHex } from '../../src/index.js';
import { SEED, codeOf, hashOf, hex } from './fixtures.js';

const root = hashOf('epoch root');
const federationId = 'vaultmesh-test';

test('the layout, byte by byte: VMANCHOR, 0x01, SHA-256 of the id, uint64 BE epoch, root', () => {
  const data = encodeEvmAnchorData({ federationId, epoch: 0x01020304050607, root });
  assert.equal(EVM_ANCHOR_DATA_BYTES, 81);
  assert.equal(data.length, 81);
  const idHash = createHash('sha256').update(federationId, 'utf8').digest('hex');
  assert.equal(toHex(data), '564d414e43484f52' + '01' + idHash + '0001020304050607' + toHex(root));
  assert.equal(toHex(encodeEvmAnchorData({ federationId, epoch: 480_000, root })).slice(82, 98), '0000000000075300');
  assert.equal(
    toHex(encodeEvmAnchorData({ federationId, epoch: Number.MAX_SAFE_INTEGER, root })).slice(82, 98),
    '001fffffffffffff',
  );
});

test('decode reads back what encode wrote', () => {
  for (const epoch of [0, 1, 255, 256, 480_000, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
    const data = encodeEvmAnchorData({ federationId, epoch, root });
    const decoded = decodeEvmAnchorData(data);
    assert.equal(decoded.version, 1);
    assert.equal(decoded.epoch, epoch);
    assert.deepEqual(decoded.root, root);
    assert.equal(toHex(decoded.federationIdHash), createHash('sha256').update(federationId).digest('hex'));
  }
  // A view into a larger buffer decodes the same.
  const data = encodeEvmAnchorData({ federationId, epoch: 9, root });
  const padded = new Uint8Array(100);
  padded.set(data, 7);
  assert.equal(decodeEvmAnchorData(padded.subarray(7, 88)).epoch, 9);
});

test('decode is strict: length, tag, version and a safe epoch, else EVM_MALFORMED', () => {
  const data = encodeEvmAnchorData({ federationId, epoch: 480_000, root });
  const changed = (at: number, value: number) => {
    const c = data.slice();
    c[at] = value;
    return c;
  };
  assert.equal(
    codeOf(() => decodeEvmAnchorData(data.subarray(0, 80))),
    'EVM_MALFORMED',
  );
  assert.equal(
    codeOf(() => decodeEvmAnchorData(new Uint8Array([...data, 0]))),
    'EVM_MALFORMED',
  );
  assert.equal(
    codeOf(() => decodeEvmAnchorData(new Uint8Array(0))),
    'EVM_MALFORMED',
  );
  assert.equal(
    codeOf(() => decodeEvmAnchorData(changed(0, 0x76))),
    'EVM_MALFORMED',
  ); // "vMANCHOR"
  assert.equal(
    codeOf(() => decodeEvmAnchorData(changed(7, 0x53))),
    'EVM_MALFORMED',
  );
  assert.equal(
    codeOf(() => decodeEvmAnchorData(changed(8, 0x00))),
    'EVM_MALFORMED',
  );
  assert.equal(
    codeOf(() => decodeEvmAnchorData(changed(8, 0x02))),
    'EVM_MALFORMED',
  );
  // 2^53 in the epoch field: a valid uint64 no JavaScript number holds exactly.
  assert.equal(
    codeOf(() => decodeEvmAnchorData(changed(42, 0x20))),
    'EVM_MALFORMED',
  );
  assert.equal(
    codeOf(() => decodeEvmAnchorData(changed(41, 0x80))),
    'EVM_MALFORMED',
  );
  assert.equal(
    codeOf(() => decodeEvmAnchorData('00' as unknown as Uint8Array)),
    'EVM_MALFORMED',
  );
  assert.equal(
    codeOf(() => decodeEvmAnchorData(undefined as unknown as Uint8Array)),
    'EVM_MALFORMED',
  );
  // Any id hash and root decode: the bytes there are data, not structure.
  assert.equal(decodeEvmAnchorData(changed(9, 0xff)).epoch, 480_000);
  assert.equal(decodeEvmAnchorData(changed(80, 0xff)).root[31], 0xff);
});

test('encode refuses what the layout cannot carry: INVALID_ARGUMENT', () => {
  const bad: unknown[] = [
    { federationId, epoch: -1, root },
    { federationId, epoch: 1.5, root },
    { federationId, epoch: 2 ** 53, root },
    { federationId, epoch: '1', root },
    { federationId, epoch: 1, root: root.subarray(0, 31) },
    { federationId, epoch: 1, root: toHex(root) },
    { federationId: '', epoch: 1, root },
    { federationId: 42, epoch: 1, root },
    { federationId: 'fed\ud800', epoch: 1, root },
    null,
    'input',
  ];
  for (const input of bad) {
    assert.equal(
      codeOf(() => encodeEvmAnchorData(input as never)),
      'INVALID_ARGUMENT',
      JSON.stringify(input),
    );
  }
  // Different ids, different hashes; the same id, the same bytes.
  const a = encodeEvmAnchorData({ federationId: 'a', epoch: 1, root });
  assert.notDeepEqual(a, encodeEvmAnchorData({ federationId: 'b', epoch: 1, root }));
  assert.deepEqual(a, encodeEvmAnchorData({ federationId: 'a', epoch: 1, root }));
  assert.deepEqual(
    encodeEvmAnchorData({ federationId: 'ünï', epoch: 1, root }).subarray(9, 41),
    hex(createHash('sha256').update('ünï', 'utf8').digest('hex')),
  );
});

test('encode and decode round-trip on any input (property)', () => {
  fc.assert(
    fc.property(
      fc.string({ minLength: 1, unit: 'grapheme' }),
      fc.maxSafeNat(),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      (id, epoch, r) => {
        const decoded = decodeEvmAnchorData(encodeEvmAnchorData({ federationId: id, epoch, root: r }));
        assert.equal(decoded.epoch, epoch);
        assert.deepEqual(decoded.root, r);
        assert.equal(toHex(decoded.federationIdHash), createHash('sha256').update(id, 'utf8').digest('hex'));
      },
    ),
    { seed: SEED, numRuns: 300 },
  );
});

test('decode of random bytes throws nothing but EVM_MALFORMED (property)', () => {
  const prefix = hex('564d414e43484f5201');
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 100 }),
    fc.uint8Array({ minLength: 72, maxLength: 72 }).map((rest) => new Uint8Array([...prefix, ...rest])),
  );
  fc.assert(
    fc.property(bytes, (b) => {
      const code = codeOf(() => decodeEvmAnchorData(b));
      assert.ok(code === undefined || code === 'EVM_MALFORMED');
      if (code === undefined) assert.equal(b.length, 81);
    }),
    { seed: SEED, numRuns: 1000 },
  );
});
