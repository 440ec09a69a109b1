import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  RemembrancerError,
  base64Encode,
  bitcoinBlockHash,
  bitcoinMerkleBranch,
  bitcoinMerkleRoot,
  bitcoinTxid,
  buildEvmTxProof,
  chainEvidenceAttestation,
  chainEvidenceMembers,
  encodeEvmAnchorData,
  parseFederationReceipt,
  toDisplayHex,
  toHex,
  verifyChainEvidence,
  type BitcoinChainEvidence,
  type EpochStatement,
  type EvmChainEvidence,
} from '../../src/index.js';
import { concatBytes } from '../../src/encoding/index.js';
import * as btc from '../bitcoin/fixtures.js';
import * as evm from '../evm/fixtures.js';

// Chain anchor evidence in federation receipts (issue 11, items 2 and 4): verified offline against
// the epoch statement, each failure named by the check that caught it, and the receipt's anchor
// fields derived from the evidence (tx id, block hash, header time).

const root = evm.hashOf('epoch 480000 root');
function statement(target: string): EpochStatement {
  return {
    format: 'vaultmesh.epoch@1',
    federation_id: 'vaultmesh-test',
    registry_version: 1,
    target,
    epoch: 480_000,
    mode: 'collaborative',
    node: null,
    tree_size: 3,
    root: base64Encode(root),
  };
}

function evmEvidence(chainId = 31337): { evidence: EvmChainEvidence; header: Uint8Array; tx: Uint8Array } {
  const data = encodeEvmAnchorData({ root, federationId: 'vaultmesh-test', epoch: 480_000 });
  const txs = [evm.rawTx(2, { nonce: 1 }), evm.rawTx(2, { data, nonce: 2, chainId }), evm.rawTx(1, { nonce: 3 })];
  const { root: txRoot, proof } = buildEvmTxProof(txs, 1);
  const header = evm.headerRlp(txRoot, 1234);
  return {
    evidence: {
      type: 'eip155',
      chain_id: 31337,
      header: `0x${toHex(header)}`,
      tx_index: 1,
      proof: proof.map((p) => `0x${toHex(p)}`),
      tx: `0x${toHex(txs[1]!)}`,
    },
    header,
    tx: txs[1]!,
  };
}

function bitcoinEvidence(): { evidence: BitcoinChainEvidence; header: Uint8Array; tx: Uint8Array } {
  const tx = btc.serializeSegwit(btc.anchorTx(root));
  const ids = [btc.hashOf('coinbase'), bitcoinTxid(tx), btc.hashOf('other')];
  const header = concatBytes(
    btc.u32le(0x20000000),
    btc.hashOf('previous'),
    bitcoinMerkleRoot(ids),
    btc.u32le(1_730_000_000),
    btc.u32le(0x207fffff),
    btc.u32le(7),
  );
  return {
    evidence: {
      type: 'btc',
      network: 'regtest',
      header: toHex(header),
      tx: toHex(tx),
      index: 1,
      branch: bitcoinMerkleBranch(ids, 1).map(toHex),
      height: 150,
    },
    header,
    tx,
  };
}

function failsAt(v: ReturnType<typeof verifyChainEvidence>, name: string): void {
  assert.equal(v.ok, false);
  assert.equal(v.checks.at(-1)!.name, name, JSON.stringify(v.checks));
  assert.ok(v.checks.slice(0, -1).every((c) => c.ok));
  assert.equal(v.attests, undefined);
}

test('EVM evidence: header, tx-proof, data, target pass; the anchor fields are derived from it', () => {
  const { evidence, header, tx } = evmEvidence();
  const v = verifyChainEvidence(evidence, statement('eip155:31337'));
  assert.equal(v.ok, true, JSON.stringify(v.checks));
  assert.deepEqual(
    v.checks.map((c) => c.name),
    ['header', 'tx-proof', 'data', 'target'],
  );
  assert.deepEqual(v.attests, {
    tx_hash: `0x${toHex(evm.keccak(tx))}`,
    block: `0x${toHex(evm.keccak(header))}`,
    timestamp: chainEvidenceAttestation(evidence, statement('eip155:31337')).timestamp,
    height: 1234,
  });
  assert.match(v.attests!.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});

test('EVM evidence of another chain, or a transaction signed for another chain, fails at target', () => {
  failsAt(verifyChainEvidence(evmEvidence().evidence, statement('eip155:1')), 'target');
  failsAt(verifyChainEvidence(evmEvidence(5).evidence, statement('eip155:31337')), 'target');
  failsAt(verifyChainEvidence(evmEvidence().evidence, statement('btc:regtest')), 'target');
});

test('EVM evidence tampered fails at the check it breaks', () => {
  const { evidence } = evmEvidence();
  const s = statement('eip155:31337');
  failsAt(verifyChainEvidence({ ...evidence, header: evidence.header.slice(0, -2) }, s), 'header');
  failsAt(verifyChainEvidence({ ...evidence, tx_index: 2 }, s), 'tx-proof');
  failsAt(verifyChainEvidence(evidence, { ...s, epoch: 480_001 }), 'data');
  failsAt(verifyChainEvidence(evidence, { ...s, root: base64Encode(evm.hashOf('another root')) }), 'data');
  assert.throws(
    () => chainEvidenceAttestation(evidence, { ...s, epoch: 1 }),
    (e: unknown) =>
      e instanceof RemembrancerError && e.code === 'ANCHOR_EVIDENCE_INVALID' && /check data/.test(e.message),
  );
});

test('Bitcoin evidence: header, transaction, op-return, merkle-branch, target; fields derived', () => {
  const { evidence, header, tx } = bitcoinEvidence();
  const v = verifyChainEvidence(evidence, statement('btc:regtest'));
  assert.equal(v.ok, true, JSON.stringify(v.checks));
  assert.deepEqual(
    v.checks.map((c) => c.name),
    ['header', 'transaction', 'op-return', 'merkle-branch', 'target'],
  );
  assert.deepEqual(v.attests, {
    tx_hash: toDisplayHex(bitcoinTxid(tx)),
    block: toDisplayHex(bitcoinBlockHash(header)),
    timestamp: new Date(1_730_000_000_000).toISOString().replace('.000Z', 'Z'),
    height: 150,
  });
  failsAt(verifyChainEvidence(evidence, statement('btc:main')), 'target');
  failsAt(verifyChainEvidence({ ...evidence, index: 0 }, statement('btc:regtest')), 'merkle-branch');
  failsAt(
    verifyChainEvidence(evidence, { ...statement('btc:regtest'), root: base64Encode(root.map((b) => b ^ 1)) }),
    'op-return',
  );
});

test('a federation receipt carries eip155 and btc evidence; malformed chain evidence is refused with its pointer', () => {
  const receipt = JSON.parse(
    JSON.stringify(
      // The evidence member only: parseFederationReceipt's other members are tested elsewhere.
      { evm: evmEvidence().evidence, btc: bitcoinEvidence().evidence },
    ),
  ) as { evm: unknown; btc: unknown };
  assert.deepEqual(
    chainEvidenceMembers('FEDERATION_RECEIPT_MALFORMED', receipt.evm, '/evidence', 'eip155'),
    receipt.evm,
  );
  assert.deepEqual(chainEvidenceMembers('FEDERATION_RECEIPT_MALFORMED', receipt.btc, '/evidence', 'btc'), receipt.btc);
  const bad: [unknown, 'eip155' | 'btc', RegExp][] = [
    [{ ...(receipt.evm as object), header: '0xABCD' }, 'eip155', /\/evidence\/header/],
    [{ ...(receipt.evm as object), chain_id: 0 }, 'eip155', /\/evidence\/chain_id/],
    [{ ...(receipt.evm as object), extra: 1 }, 'eip155', /extra/],
    [{ ...(receipt.btc as object), header: '00' }, 'btc', /\/evidence\/header/],
    [{ ...(receipt.btc as object), branch: ['zz'] }, 'btc', /\/evidence\/branch\/0/],
    [{ ...(receipt.btc as object), network: 'Main Net' }, 'btc', /\/evidence\/network/],
  ];
  for (const [value, type, where] of bad) {
    assert.throws(
      () => chainEvidenceMembers('FEDERATION_RECEIPT_MALFORMED', value, '/evidence', type),
      (e: unknown) =>
        e instanceof RemembrancerError && e.code === 'FEDERATION_RECEIPT_MALFORMED' && where.test(e.message),
    );
  }
  // parseFederationReceipt dispatches on the type; an unknown one names the three.
  assert.throws(
    () => parseFederationReceipt({ evidence: { type: 'ots' } }),
    (e: unknown) => e instanceof RemembrancerError && e.code === 'FEDERATION_RECEIPT_MALFORMED',
  );
});

test('property: chain evidence parsing and verification never throw anything but their typed errors', () => {
  const s = statement('eip155:31337');
  const good = evmEvidence().evidence as unknown as Record<string, unknown>;
  fc.assert(
    fc.property(
      fc.constantFrom('eip155' as const, 'btc' as const),
      fc.oneof(
        fc.anything(),
        fc.record({ ...Object.fromEntries(Object.keys(good).map((k) => [k, fc.anything()])) }),
        fc.dictionary(
          fc.constantFrom(...Object.keys(good)),
          fc.oneof(fc.string(), fc.integer(), fc.array(fc.string())),
        ),
      ),
      (type, value) => {
        let parsed;
        try {
          parsed = chainEvidenceMembers('FEDERATION_RECEIPT_MALFORMED', value, '/evidence', type);
        } catch (e) {
          assert.ok(e instanceof RemembrancerError && e.code === 'FEDERATION_RECEIPT_MALFORMED', String(e));
          return;
        }
        const v = verifyChainEvidence(parsed, s);
        assert.equal(typeof v.ok, 'boolean');
      },
    ),
    { seed: evm.SEED, numRuns: 300 },
  );
});
