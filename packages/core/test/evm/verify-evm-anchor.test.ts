import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  EVM_ANCHOR_CHECKS,
  buildEvmTxProof,
  encodeEvmAnchorData,
  toHex,
  verifyEvmAnchor,
  type EvmAnchorCheckName,
  type EvmAnchorEvidence,
  type EvmAnchorExpectation,
  type EvmAnchorVerification,
} from '../../src/index.js';
import { HEADER_FORKS, MAINNET, SEED, hashOf, headerRlp, hex, keccak, offsetOf, rawTx } from './fixtures.js';

const expected: EvmAnchorExpectation = {
  root: hashOf('epoch 480000 root'),
  federationId: 'vaultmesh-test',
  epoch: 480_000,
};
const anchorData = encodeEvmAnchorData(expected);

/** A block of `count` transactions with the anchor (of form `type`) at `index`, and the evidence for it. */
function block(count = 7, index = 5, type: 0 | 1 | 2 | 3 | 4 = 2, fields = 21, data = anchorData) {
  const txs = Array.from({ length: count }, (_, i) =>
    i === index
      ? rawTx(type, { data, nonce: 3 })
      : rawTx(((i % 4) + 1) as 1 | 2 | 3 | 4, { nonce: i, data: hashOf(`${i}`) }),
  );
  const { root, proof } = buildEvmTxProof(txs, index);
  const header = headerRlp(root, 21_500_000, fields);
  const evidence: EvmAnchorEvidence = {
    header: '0x' + toHex(header),
    tx_index: index,
    proof: proof.map((p) => '0x' + toHex(p)),
    tx: '0x' + toHex(txs[index]!),
  };
  return { header, txs, txRoot: root, evidence };
}

const good = block();

/** The shape every answer has: the checks in order, up to and including the first failure. */
function wellFormed(v: EvmAnchorVerification): void {
  const names = v.checks.map((c) => c.name);
  assert.ok(names.length >= 1);
  assert.deepEqual(names, EVM_ANCHOR_CHECKS.slice(0, names.length));
  for (const c of v.checks) assert.equal(typeof c.detail, 'string');
  if (v.ok) assert.ok(names.length === 3 && v.checks.every((c) => c.ok));
  else
    assert.deepEqual(
      v.checks.map((c) => c.ok),
      [...names.slice(0, -1).map(() => true), false],
    );
}

/** Fails at `name` (with the checks before it passed), its detail matching `detail`. */
function failsAt(v: EvmAnchorVerification, name: EvmAnchorCheckName, detail?: RegExp): void {
  wellFormed(v);
  assert.equal(v.ok, false);
  const last = v.checks.at(-1)!;
  assert.equal(last.name, name, JSON.stringify(v.checks));
  if (detail) assert.match(last.detail, detail);
}

/** The 0x hex `h` with the byte at `byteIndex` xored. */
function hexWith(h: string, byteIndex: number, xor = 0x01): string {
  const bytes = hex(h);
  bytes[byteIndex]! ^= xor;
  return '0x' + toHex(bytes);
}

test('an anchor in a block verifies, check by check', () => {
  const v = verifyEvmAnchor(good.evidence, expected);
  wellFormed(v);
  assert.equal(v.ok, true);
  assert.deepEqual(
    v.checks.map((c) => c.name),
    ['header', 'tx-proof', 'data'],
  );
  const [header, txProof, data] = v.checks.map((c) => c.detail);
  assert.match(header!, new RegExp(`^block 21500000 hash 0x${toHex(keccak(good.header))} \\(21 header fields; `));
  assert.match(header!, /canonical chain and confirmations not checked/);
  const txHash = toHex(keccak(good.txs[5]!));
  assert.match(txProof!, new RegExp(`^transaction 5 \\(hash 0x${txHash}\\) is in the block: \\d proof nodes lead to `));
  assert.match(
    data!,
    new RegExp(
      `^type-2 transaction to 0x0{35}a4c40 carries epoch 480000 root 0x${toHex(expected.root)} of vaultmesh-test$`,
    ),
  );
  // Hex with or without 0x.
  const bare = {
    ...good.evidence,
    header: good.evidence.header.slice(2),
    tx: good.evidence.tx.slice(2),
    proof: good.evidence.proof.map((p) => p.slice(2)),
  };
  assert.equal(verifyEvmAnchor(bare, expected).ok, true);
});

test('the anchor verifies in every transaction form, header layout and position', () => {
  for (const type of [0, 1, 2, 3, 4] as const) {
    for (const fields of Object.values(HEADER_FORKS)) {
      const v = verifyEvmAnchor(block(7, 5, type, fields).evidence, expected);
      assert.equal(v.ok, true, `${type} ${fields} ${JSON.stringify(v.checks)}`);
    }
  }
  for (const count of [1, 2, 3, 17, 130]) {
    for (const index of new Set([0, count - 1, Math.floor(count / 2), 127 % count, 128 % count])) {
      const v = verifyEvmAnchor(block(count, index).evidence, expected);
      assert.equal(v.ok, true, `${count} ${index} ${JSON.stringify(v.checks)}`);
    }
  }
});

test('a tampered header: the transactionsRoot fails tx-proof; elsewhere only the block hash changes', () => {
  const root = offsetOf(good.header, good.txRoot);
  for (const at of [root, root + 13, root + 31]) {
    const v = verifyEvmAnchor({ ...good.evidence, header: hexWith(good.evidence.header, at) }, expected);
    failsAt(v, 'tx-proof', /does not hash to /);
    assert.notEqual(v.checks[0]!.detail, verifyEvmAnchor(good.evidence, expected).checks[0]!.detail);
  }
  // The state root: the block is another block (another hash), the anchor still in it. A verifier
  // holding a trusted header will not recognize that hash: the chain is not checked here.
  const state = offsetOf(good.header, hashOf('state'));
  const other = verifyEvmAnchor({ ...good.evidence, header: hexWith(good.evidence.header, state) }, expected);
  assert.equal(other.ok, true);
  assert.notEqual(other.checks[0]!.detail, verifyEvmAnchor(good.evidence, expected).checks[0]!.detail);
  // Structure: the list prefix, a field's length, a truncated or extended header.
  failsAt(verifyEvmAnchor({ ...good.evidence, header: hexWith(good.evidence.header, 0, 0x3f) }, expected), 'header');
  failsAt(verifyEvmAnchor({ ...good.evidence, header: hexWith(good.evidence.header, 3) }, expected), 'header');
  failsAt(verifyEvmAnchor({ ...good.evidence, header: good.evidence.header.slice(0, -2) }, expected), 'header');
  failsAt(verifyEvmAnchor({ ...good.evidence, header: good.evidence.header + '00' }, expected), 'header');
  // A real header that is not this block's: mainnet genesis has the empty transaction trie.
  const genesis = { ...good.evidence, header: toHex(MAINNET.genesis.rlp) };
  const v = verifyEvmAnchor(genesis, expected);
  failsAt(v, 'tx-proof', /does not hash to 0x56e81f17/);
  assert.match(v.checks[0]!.detail, new RegExp(`^block 0 hash 0x${MAINNET.genesis.hash} \\(15 header fields`));
});

test('a tampered proof node, index or transaction fails tx-proof', () => {
  for (const [n, node] of good.evidence.proof.entries()) {
    const length = hex(node).length;
    for (const at of [0, 1, Math.floor(length / 2), length - 1]) {
      const proof = good.evidence.proof.map((p, j) => (j === n ? hexWith(p, at) : p));
      failsAt(
        verifyEvmAnchor({ ...good.evidence, proof }, expected),
        'tx-proof',
        /proof node|not in the trie|proof has/,
      );
    }
  }
  for (const tx_index of [0, 4, 6, 7, 128]) {
    failsAt(verifyEvmAnchor({ ...good.evidence, tx_index }, expected), 'tx-proof');
  }
  failsAt(verifyEvmAnchor({ ...good.evidence, proof: good.evidence.proof.slice(1) }, expected), 'tx-proof');
  failsAt(verifyEvmAnchor({ ...good.evidence, proof: [] }, expected), 'tx-proof', /proof ends after 0 nodes/);
  // A changed byte of the transaction as given (its data, its nonce): not what the trie holds.
  const dataAt = offsetOf(good.txs[5]!, anchorData);
  for (const at of [dataAt, dataAt + 40, dataAt + 80, 5]) {
    failsAt(
      verifyEvmAnchor({ ...good.evidence, tx: hexWith(good.evidence.tx, at) }, expected),
      'tx-proof',
      /the proof shows another transaction at index 5/,
    );
  }
  // Another transaction of the block with its own valid proof is included, but carries no anchor.
  const other = block();
  const proof = buildEvmTxProof(other.txs, 2).proof.map((p) => toHex(p));
  failsAt(
    verifyEvmAnchor({ ...other.evidence, tx_index: 2, proof, tx: toHex(other.txs[2]!) }, expected),
    'data',
    /anchor data is 81 bytes, got 32/,
  );
});

test('an included transaction whose data is not this anchor fails data', () => {
  const changed = (at: number) => anchorData.map((b, i) => (i === at ? b ^ 0x01 : b));
  const cases: Array<[Uint8Array, RegExp]> = [
    [changed(0), /VMANCHOR/],
    [changed(8), /version/],
    [changed(9), /federation id hash/],
    [changed(48), /epoch 480001, expected 480000/],
    [changed(49), /carries root /],
    [changed(80), /carries root /],
    [anchorData.subarray(0, 80), /81 bytes/],
  ];
  for (const [data, detail] of cases)
    failsAt(verifyEvmAnchor(block(7, 5, 2, 21, data).evidence, expected), 'data', detail);
  // The right data, other expectations.
  failsAt(verifyEvmAnchor(good.evidence, { ...expected, epoch: 480_001 }), 'data', /epoch/);
  failsAt(verifyEvmAnchor(good.evidence, { ...expected, federationId: 'other' }), 'data', /federation id hash/);
  failsAt(verifyEvmAnchor(good.evidence, { ...expected, root: hashOf('other') }), 'data', /carries root/);
  // Expectations that are not of the right kinds.
  failsAt(verifyEvmAnchor(good.evidence, { ...expected, root: expected.root.subarray(1) }), 'data', /32 bytes/);
  failsAt(verifyEvmAnchor(good.evidence, { ...expected, epoch: -1 }), 'data', /epoch/);
  failsAt(verifyEvmAnchor(good.evidence, { ...expected, federationId: '' }), 'data', /federation id/);
  failsAt(verifyEvmAnchor(good.evidence, null as never), 'data', /expectation/);
  // An included transaction that does not decode.
  const broken = block(3, 1, 2, 21, anchorData);
  const txs = [...broken.txs];
  txs[1] = new Uint8Array([...txs[1]!, 0]);
  const { root, proof } = buildEvmTxProof(txs, 1);
  const evidence = {
    header: toHex(headerRlp(root)),
    tx_index: 1,
    proof: proof.map((p) => toHex(p)),
    tx: toHex(txs[1]!),
  };
  failsAt(verifyEvmAnchor(evidence, expected), 'data', /not one RLP item/);
});

test('malformed evidence fails the check its member belongs to, and never throws', () => {
  const e = good.evidence;
  const cases: Array<[unknown, EvmAnchorCheckName]> = [
    [undefined, 'header'],
    [null, 'header'],
    ['evidence', 'header'],
    [[e], 'header'],
    [{}, 'header'],
    [{ ...e, header: 42 }, 'header'],
    [{ ...e, header: '0x' }, 'header'],
    [{ ...e, header: e.header.replace(/^0x../, '0xzz') }, 'header'],
    [{ ...e, header: '0x0x' + e.header.slice(2) }, 'header'],
    [{ ...e, header: e.header + e.header.slice(2).repeat(100) }, 'header'],
    [{ ...e, tx_index: undefined }, 'tx-proof'],
    [{ ...e, tx_index: '5' }, 'tx-proof'],
    [{ ...e, tx_index: -1 }, 'tx-proof'],
    [{ ...e, tx_index: 5.5 }, 'tx-proof'],
    [{ ...e, tx_index: Number.POSITIVE_INFINITY }, 'tx-proof'],
    [{ ...e, proof: undefined }, 'tx-proof'],
    [{ ...e, proof: e.proof.join('') }, 'tx-proof'],
    [{ ...e, proof: [...e.proof.slice(1), 7] }, 'tx-proof'],
    [{ ...e, proof: e.proof.map((p) => p.slice(0, -1)) }, 'tx-proof'],
    [{ ...e, proof: Array.from({ length: 65 }, () => e.proof[0]) }, 'tx-proof'],
    [{ ...e, proof: Array.from({ length: 1e6 }, () => 'zz') }, 'tx-proof'],
    [{ ...e, tx: undefined }, 'tx-proof'],
    [{ ...e, tx: e.tx.slice(0, -1) }, 'tx-proof'],
    [{ ...e, tx: [e.tx] }, 'tx-proof'],
    [{ ...e, tx: '0x' + '00'.repeat(200_000) }, 'tx-proof'],
  ];
  for (const [evidence, name] of cases) failsAt(verifyEvmAnchor(evidence, expected), name);
  // Members inherited from a prototype are not the evidence's.
  failsAt(verifyEvmAnchor(Object.create(e) as unknown, expected), 'header');
  // Extra members are ignored: the evidence may travel inside a larger document.
  assert.equal(verifyEvmAnchor({ ...e, type: 'evm', chain_id: 1 }, expected).ok, true);
});

test('random evidence never throws and always answers in shape (property)', () => {
  const hexOf = (min: number, max: number) =>
    fc.uint8Array({ minLength: min, maxLength: max }).map((b) => '0x' + toHex(b));
  const evidence = fc.oneof(
    fc.anything(),
    fc.record(
      {
        header: fc.oneof(fc.constant(good.evidence.header), hexOf(0, 600), fc.string(), fc.anything()),
        tx_index: fc.oneof(fc.nat({ max: 10 }), fc.integer(), fc.double(), fc.anything()),
        proof: fc.oneof(
          fc.constant(good.evidence.proof),
          fc.array(hexOf(0, 600), { maxLength: 5 }),
          fc.array(fc.anything(), { maxLength: 70 }),
        ),
        tx: fc.oneof(fc.constant(good.evidence.tx), hexOf(0, 200), fc.string(), fc.anything()),
      },
      { requiredKeys: [] },
    ),
  );
  const expectation = fc.oneof(
    fc.constant(expected),
    fc.record({ root: fc.uint8Array({ maxLength: 40 }), federationId: fc.string(), epoch: fc.integer() }),
    fc.anything(),
  );
  fc.assert(
    fc.property(evidence, expectation, (ev, exp) => {
      wellFormed(verifyEvmAnchor(ev, exp as EvmAnchorExpectation));
    }),
    { seed: SEED, numRuns: 1000 },
  );
});

test('one changed hex digit of the header, proof or transaction never throws (property)', () => {
  const members = ['header', 'proof', 'tx'] as const;
  fc.assert(
    fc.property(
      fc.constantFrom(...members),
      fc.nat(),
      fc.constantFrom(...'0123456789abcdefxX '),
      (member, at, digit) => {
        const change = (s: string) => {
          const i = at % s.length;
          return s.slice(0, i) + digit + s.slice(i + 1);
        };
        const e = good.evidence;
        const evidence =
          member === 'proof'
            ? { ...e, proof: e.proof.map((p, i) => (i === at % e.proof.length ? change(p) : p)) }
            : { ...e, [member]: change(e[member]) };
        const v = verifyEvmAnchor(evidence, expected);
        wellFormed(v);
        // A changed proof node or transaction can never still be proven.
        if (member !== 'header' && JSON.stringify(evidence) !== JSON.stringify(e)) {
          const same = (a: string, b: string) =>
            a.replace(/^0x/, '').toLowerCase() === b.replace(/^0x/, '').toLowerCase();
          const unchanged =
            member === 'tx' ? same(evidence.tx, e.tx) : evidence.proof.every((p, i) => same(p, e.proof[i]!));
          if (!unchanged) assert.equal(v.ok, false);
        }
      },
    ),
    { seed: SEED, numRuns: 500 },
  );
});
