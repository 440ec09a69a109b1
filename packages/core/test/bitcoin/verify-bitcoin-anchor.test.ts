import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BITCOIN_ANCHOR_CHECKS,
  bitcoinBlockHash,
  bitcoinMerkleBranch,
  bitcoinMerkleRoot,
  toDisplayHex,
  toHex,
  bitcoinTxid,
  verifyBitcoinAnchor,
  type BitcoinAnchorCheckName,
  type BitcoinAnchorEvidence,
  type BitcoinAnchorVerification,
} from '../../src/index.js';
import { concatBytes } from '../../src/encoding/index.js';
import { GENESIS, SEED, anchorTx, hashOf, hex, serializeLegacy, serializeSegwit, u32le } from './fixtures.js';

const root = hashOf('epoch 480000 root');
const anchor = serializeSegwit(anchorTx(root));
const anchorId = bitcoinTxid(anchor);
const rootAt = indexOf(anchor, root);

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  const h = toHex(haystack);
  const at = h.indexOf(toHex(needle));
  assert.ok(at >= 0 && at % 2 === 0);
  return at / 2;
}

/** A block of `count` transactions with the anchor at `index`, and the evidence for it. */
function block(count = 7, index = 5, tx = anchor) {
  const ids = Array.from({ length: count }, (_, i) => (i === index ? bitcoinTxid(tx) : hashOf(`tx ${i}`)));
  const header = concatBytes(
    u32le(0x20000000),
    hashOf('previous block'),
    bitcoinMerkleRoot(ids),
    u32le(1_730_000_000),
    u32le(0x17034219),
    u32le(123_456_789),
  );
  const evidence: BitcoinAnchorEvidence = {
    header: toHex(header),
    tx: toHex(tx),
    index,
    branch: bitcoinMerkleBranch(ids, index).map(toHex),
    height: 870_000,
  };
  return { header, evidence };
}

const good = block();

/** The shape every answer has: the checks in order, up to and including the first failure. */
function wellFormed(v: BitcoinAnchorVerification): void {
  const names = v.checks.map((c) => c.name);
  assert.ok(names.length >= 1);
  assert.deepEqual(names, BITCOIN_ANCHOR_CHECKS.slice(0, names.length));
  for (const c of v.checks) assert.equal(typeof c.detail, 'string');
  if (v.ok) assert.ok(names.length === 4 && v.checks.every((c) => c.ok));
  else
    assert.deepEqual(
      v.checks.map((c) => c.ok),
      [...names.slice(0, -1).map(() => true), false],
    );
}

/** Fails at `name` (with the checks before it passed), its detail matching `detail`. */
function failsAt(v: BitcoinAnchorVerification, name: BitcoinAnchorCheckName, detail?: RegExp): void {
  wellFormed(v);
  assert.equal(v.ok, false);
  const last = v.checks.at(-1)!;
  assert.equal(last.name, name, JSON.stringify(v.checks));
  if (detail) assert.match(last.detail, detail);
}

function hexWith(h: string, byteIndex: number, xor = 0x01): string {
  const bytes = hex(h);
  bytes[byteIndex]! ^= xor;
  return toHex(bytes);
}

test('a root committed by a segwit OP_RETURN in a block verifies, check by check', () => {
  const v = verifyBitcoinAnchor(good.evidence, root);
  wellFormed(v);
  assert.equal(v.ok, true);
  assert.deepEqual(
    v.checks.map((c) => c.name),
    ['header', 'transaction', 'op-return', 'merkle-branch'],
  );
  const [header, transaction, opReturn, branch] = v.checks.map((c) => c.detail);
  assert.match(header!, new RegExp(`^block ${toDisplayHex(bitcoinBlockHash(good.header))}, claimed height 870000 `));
  assert.match(transaction!, new RegExp(`^txid ${toDisplayHex(anchorId)} \\(segwit, 1 inputs, 2 outputs\\)`));
  assert.equal(opReturn, `output 0 is OP_RETURN ${toHex(root)}`);
  assert.match(branch!, /^index 5 and 3 branch hashes lead to the merkle root /);
});

test('the anchor verifies at every position of blocks of 1 to 9 transactions, legacy or segwit', () => {
  for (let count = 1; count <= 9; count++) {
    for (let index = 0; index < count; index++) {
      for (const tx of [anchor, serializeLegacy(anchorTx(root))]) {
        const v = verifyBitcoinAnchor(block(count, index, tx).evidence, root);
        assert.equal(v.ok, true, `${count} ${index} ${JSON.stringify(v.checks)}`);
      }
    }
  }
});

test('the real genesis block: header and coinbase check out, but it commits no root', () => {
  const evidence = { header: GENESIS.header, tx: GENESIS.coinbase, index: 0, branch: [], height: 0 };
  const v = verifyBitcoinAnchor(evidence, root);
  failsAt(v, 'op-return', /no output is OP_RETURN/);
  assert.match(v.checks[0]!.detail, new RegExp(`^block ${GENESIS.hash}, claimed height 0`));
  assert.match(v.checks[1]!.detail, new RegExp(`^txid ${GENESIS.merkleRoot} \\(legacy`));
});

test('a tampered header byte: the merkle root fails merkle-branch; elsewhere only the block hash changes', () => {
  for (let at = 36; at < 68; at += 7) {
    failsAt(
      verifyBitcoinAnchor({ ...good.evidence, header: hexWith(good.evidence.header, at) }, root),
      'merkle-branch',
    );
  }
  // Proof of work and the chain are not checked here: another nonce still verifies, under another
  // block hash, which the verifier holding a trusted header will not recognize.
  const nonce = verifyBitcoinAnchor({ ...good.evidence, header: hexWith(good.evidence.header, 79) }, root);
  assert.equal(nonce.ok, true);
  assert.notEqual(nonce.checks[0]!.detail, verifyBitcoinAnchor(good.evidence, root).checks[0]!.detail);
  failsAt(verifyBitcoinAnchor({ ...good.evidence, header: good.evidence.header.slice(2) }, root), 'header', /80 bytes/);
  failsAt(verifyBitcoinAnchor({ ...good.evidence, header: good.evidence.header + '00' }, root), 'header');
});

test('a tampered branch hash, or a wrong index, fails merkle-branch', () => {
  for (let level = 0; level < good.evidence.branch.length; level++) {
    const branch = good.evidence.branch.map((h, i) => (i === level ? hexWith(h, 31, 0x80) : h));
    failsAt(verifyBitcoinAnchor({ ...good.evidence, branch }, root), 'merkle-branch', /the branch leads to /);
  }
  for (const index of [0, 1, 2, 3, 4, 6, 7]) {
    failsAt(verifyBitcoinAnchor({ ...good.evidence, index }, root), 'merkle-branch', /the branch leads to /);
  }
  failsAt(verifyBitcoinAnchor({ ...good.evidence, index: 8 }, root), 'merkle-branch', /out of range/);
  failsAt(verifyBitcoinAnchor({ ...good.evidence, branch: good.evidence.branch.slice(1) }, root), 'merkle-branch');
  failsAt(
    verifyBitcoinAnchor({ ...good.evidence, branch: [...good.evidence.branch, toHex(root)] }, root),
    'merkle-branch',
  );
});

test('a tampered OP_RETURN byte, or another expected root, fails op-return', () => {
  for (const at of [rootAt - 2, rootAt - 1, rootAt, rootAt + 17, rootAt + 31]) {
    failsAt(verifyBitcoinAnchor({ ...good.evidence, tx: hexWith(good.evidence.tx, at) }, root), 'op-return');
  }
  failsAt(verifyBitcoinAnchor(good.evidence, hashOf('another root')), 'op-return', /no output is OP_RETURN/);
  failsAt(verifyBitcoinAnchor(good.evidence, root.subarray(0, 31)), 'op-return', /32 bytes/);
  failsAt(verifyBitcoinAnchor(good.evidence, 'not bytes' as unknown as Uint8Array), 'op-return', /32 bytes/);
});

test('the transaction: other bytes change the bitcoinTxid (merkle-branch), witnesses do not, broken ones fail', () => {
  // The previous output index (after version 4, marker and flag 2, count 1, previous txid 32).
  failsAt(verifyBitcoinAnchor({ ...good.evidence, tx: hexWith(good.evidence.tx, 39) }, root), 'merkle-branch');
  // The last byte of the witness public key, just before the locktime.
  const witness = verifyBitcoinAnchor({ ...good.evidence, tx: hexWith(good.evidence.tx, anchor.length - 5) }, root);
  assert.equal(witness.ok, true);
  failsAt(
    verifyBitcoinAnchor({ ...good.evidence, tx: good.evidence.tx.slice(0, -2) }, root),
    'transaction',
    /truncated/,
  );
  failsAt(verifyBitcoinAnchor({ ...good.evidence, tx: good.evidence.tx + '00' }, root), 'transaction', /trailing/);
  failsAt(verifyBitcoinAnchor({ ...good.evidence, tx: '' }, root), 'transaction');
});

test('malformed evidence fails the check its member belongs to, and never throws', () => {
  const e = good.evidence;
  const cases: Array<[unknown, BitcoinAnchorCheckName]> = [
    [undefined, 'header'],
    [null, 'header'],
    ['evidence', 'header'],
    [[e], 'header'],
    [{}, 'header'],
    [{ ...e, height: undefined }, 'header'],
    [{ ...e, height: -1 }, 'header'],
    [{ ...e, height: 1.5 }, 'header'],
    [{ ...e, height: '870000' }, 'header'],
    [{ ...e, header: 42 }, 'header'],
    [{ ...e, header: e.header.replace(/^../, 'zz') }, 'header'],
    [{ ...e, header: e.header.repeat(1000) }, 'header'],
    [{ ...e, tx: undefined }, 'transaction'],
    [{ ...e, tx: e.tx.slice(1) }, 'transaction'],
    [{ ...e, tx: [e.tx] }, 'transaction'],
    [{ ...e, index: undefined }, 'merkle-branch'],
    [{ ...e, index: '5' }, 'merkle-branch'],
    [{ ...e, index: -1 }, 'merkle-branch'],
    [{ ...e, index: 5.5 }, 'merkle-branch'],
    [{ ...e, index: Number.POSITIVE_INFINITY }, 'merkle-branch'],
    [{ ...e, branch: undefined }, 'merkle-branch'],
    [{ ...e, branch: e.branch.join('') }, 'merkle-branch'],
    [{ ...e, branch: [...e.branch.slice(1), 7] }, 'merkle-branch'],
    [{ ...e, branch: [...e.branch.slice(1), e.branch[0]!.slice(2)] }, 'merkle-branch'],
    [{ ...e, branch: [...e.branch.slice(1), e.branch[0]! + '00'] }, 'merkle-branch'],
    [{ ...e, branch: Array.from({ length: 33 }, () => e.branch[0]) }, 'merkle-branch'],
    [{ ...e, branch: Array.from({ length: 1e6 }, () => 'zz') }, 'merkle-branch'],
  ];
  for (const [evidence, name] of cases) failsAt(verifyBitcoinAnchor(evidence, root), name);
  // Members inherited from a prototype are not the evidence's.
  failsAt(verifyBitcoinAnchor(Object.create(e) as unknown, root), 'header');
  // Extra members are ignored: the evidence may travel inside a larger document.
  assert.equal(verifyBitcoinAnchor({ ...e, type: 'bitcoin', note: 1 }, root).ok, true);
});

test('random evidence never throws and always answers in shape (property)', () => {
  const hexOf = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map(toHex);
  const evidence = fc.oneof(
    fc.anything(),
    fc.record(
      {
        header: fc.oneof(hexOf(80, 80), hexOf(0, 90), fc.string(), fc.anything()),
        tx: fc.oneof(hexOf(0, 200), fc.constant(good.evidence.tx), fc.string(), fc.anything()),
        index: fc.oneof(fc.nat({ max: 10 }), fc.integer(), fc.double(), fc.anything()),
        branch: fc.oneof(fc.array(hexOf(32, 32), { maxLength: 5 }), fc.array(fc.anything(), { maxLength: 40 })),
        height: fc.oneof(fc.nat(), fc.anything()),
      },
      { requiredKeys: [] },
    ),
  );
  fc.assert(
    fc.property(evidence, fc.oneof(fc.constant(root), fc.uint8Array({ maxLength: 40 })), (ev, expected) => {
      wellFormed(verifyBitcoinAnchor(ev, expected));
    }),
    { seed: SEED, numRuns: 1000 },
  );
});

test('one changed hex digit of the header, transaction or branch never throws (property)', () => {
  const members = ['header', 'tx', 'branch'] as const;
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
          member === 'branch'
            ? { ...e, branch: e.branch.map((h, i) => (i === at % e.branch.length ? change(h) : h)) }
            : { ...e, [member]: change(e[member]) };
        const v = verifyBitcoinAnchor(evidence, root);
        wellFormed(v);
        // A changed branch hash can never still lead to the root.
        if (member === 'branch' && JSON.stringify(evidence) !== JSON.stringify(e)) assert.equal(v.ok, false);
      },
    ),
    { seed: SEED, numRuns: 500 },
  );
});
