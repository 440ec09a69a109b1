// Issue 11, item 4: "The node also exports the anchor as an OpenTimestamps .ots proof (file digest
// = the epoch root, the ops to the transaction and up the block's merkle tree, a Bitcoin
// block-header attestation at the height)". Real anchors sent by the BitcoinSender to a bcoin
// regtest node (a child process on 127.0.0.1), their evidence exported by epoch-ots.ts and read by
// Debian's python3-opentimestamps (the reference implementation) against the real block header.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  RemembrancerError,
  base64Encode,
  bitcoinOtsProof,
  crypto,
  fromDisplayHex,
  parseBlockHeader,
  toHex,
  utf8Encode,
  type BitcoinChainEvidence,
  type EpochStatement,
} from '@vaultmesh/core';
import { startBitcoinRegtest, type BitcoinRegtest } from '../../../../test/e2e/harness/bitcoin-regtest.js';
import { BitcoinSender, bitcoinRpc } from '../../src/anchoring/bitcoin/index.js';
import type { EpochRecord } from '../../src/anchoring/anchor-store.js';
import {
  epochOtsFile,
  epochOtsFilename,
  epochOtsProof,
  otsNodeParam,
  otsTargetParam,
} from '../../src/anchoring/chain/epoch-ots.js';
import { syntheticBtcEpoch } from './btc-epoch-fixture.js';

const fromHex = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));

// Debian's interpreter: the reference library is a Debian package, not on a pyenv python's path.
const PYTHON = '/usr/bin/python3';
/** Anchors mined in one block, so that the block's merkle tree has several levels. */
const ANCHORS = 3;
const WAIT_MS = 15_000;

/** Per attestation: its kind, height, the message the operations lead to, and the header check. */
const REFERENCE_CHECK = `
import json, sys
from bitcoin.core import CBlockHeader
from opentimestamps.core.notary import BitcoinBlockHeaderAttestation
from opentimestamps.core.serialize import BytesDeserializationContext
from opentimestamps.core.timestamp import DetachedTimestampFile
f = DetachedTimestampFile.deserialize(BytesDeserializationContext(open(sys.argv[1], 'rb').read()))
header = CBlockHeader.deserialize(open(sys.argv[2], 'rb').read())
out = {'hash_op': f.file_hash_op.TAG_NAME, 'digest': f.file_digest.hex(), 'attestations': []}
for msg, att in f.timestamp.all_attestations():
    entry = {'type': type(att).__name__, 'msg': msg.hex()}
    if isinstance(att, BitcoinBlockHeaderAttestation):
        entry['height'] = att.height
        try:
            entry['time'] = att.verify_against_blockheader(msg, header)
        except Exception as e:
            entry['error'] = str(e)
    out['attestations'].append(entry)
print(json.dumps(out))
`;

interface Reference {
  hash_op: string;
  digest: string;
  attestations: { type: string; msg: string; height?: number; time?: number; error?: string }[];
}

function referenceCheck(ots: Uint8Array, header: Uint8Array): Reference {
  const dir = mkdtempSync(join(tmpdir(), 'remembrancer-epoch-ots-'));
  try {
    writeFileSync(join(dir, 'epoch.ots'), ots);
    writeFileSync(join(dir, 'header.bin'), header);
    const out = execFileSync(PYTHON, ['-c', REFERENCE_CHECK, join(dir, 'epoch.ots'), join(dir, 'header.bin')], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    return JSON.parse(out) as Reference;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const code = (c: string, message?: RegExp) => (e: unknown) =>
  e instanceof RemembrancerError && e.code === c && (message === undefined || message.test(e.message));

/** The statement a federation finalizes for `root` at btc:regtest (what epoch-finalization stores). */
function statementFor(root: Uint8Array, epoch: number): EpochStatement {
  return {
    format: 'vaultmesh.epoch@1',
    federation_id: 'fed-ots',
    registry_version: 1,
    target: 'btc:regtest',
    epoch,
    mode: 'collaborative',
    node: null,
    tree_size: 3,
    root: base64Encode(root),
  };
}

let chain: BitcoinRegtest | undefined;
/** Real anchors: the finalization-shaped statement, the sender's evidence, the block header from the node. */
const anchors: { statement: EpochStatement; evidence: BitcoinChainEvidence; header: Uint8Array; merkle: string }[] = [];

before(
  async () => {
    chain = await startBitcoinRegtest();
    const rpc = bitcoinRpc({ url: chain.rpcUrl, password: chain.apiKey, timeoutMs: WAIT_MS });
    const wallet = bitcoinRpc({ url: chain.walletUrl, password: chain.apiKey, timeoutMs: WAIT_MS });
    await chain.fund();
    const sender = new BitcoinSender({
      network: 'regtest',
      rpc,
      wallet,
      fallbackFeeRateSatVb: 2,
      maxFeeRateSatVb: 50,
      acceptTimeoutMs: 1_500,
    });
    const payloads = Array.from({ length: ANCHORS }, (_, i) => ({
      root: crypto.sha256(utf8Encode(`epoch-ots root ${i}`)),
      federationId: 'fed-ots',
      epoch: i + 1,
    }));
    // Prepared together, they spend different coins and all go into the next block.
    const attempts = await Promise.all(payloads.map((p) => sender.prepare(p)));
    for (const a of attempts) await sender.broadcast(a!);
    const [block] = await chain.mine(1);
    const rawHeader = (await chain.call('getblockheader', [block, false])) as string;
    const { merkleroot } = (await chain.call('getblockheader', [block, true])) as { merkleroot: string };
    for (const [i, a] of attempts.entries()) {
      const proof = await sender.evidence(a!, block!);
      anchors.push({
        statement: statementFor(payloads[i]!.root, payloads[i]!.epoch),
        evidence: proof.evidence as unknown as BitcoinChainEvidence,
        header: fromHex(rawHeader),
        merkle: merkleroot,
      });
    }
  },
  { timeout: 60_000 },
);

after(
  async () => {
    await chain?.stop();
  },
  { timeout: 15_000 },
);

test('the reference implementation is where these tests read it', () => {
  const r = spawnSync(PYTHON, ['-c', 'import opentimestamps, bitcoin'], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 0, `${PYTHON} needs Debian's python3-opentimestamps (.ci/run installs it): ${r.stderr}`);
});

test('a real regtest anchor exports as an .ots proof that python-opentimestamps verifies against the block header', () => {
  assert.equal(anchors.length, ANCHORS);
  // Coinbase and three anchors: two levels of branch, and at least one anchor not at index 0 or 1.
  assert.ok(anchors.every((a) => a.evidence.branch.length === 2));
  assert.ok(anchors.some((a) => a.evidence.index >= 2));
  for (const a of anchors) {
    const where = `epoch ${a.statement.epoch} at index ${a.evidence.index}`;
    assert.equal(a.evidence.header, toHex(a.header), 'the evidence holds the header the node serves');
    const ots = epochOtsProof(a.statement, a.evidence);
    const seen = referenceCheck(ots, a.header);
    // "file digest = the epoch root"
    assert.equal(seen.hash_op, 'sha256', where);
    assert.equal(seen.digest, toHex(Buffer.from(a.statement.root, 'base64')), where);
    // One attestation: Bitcoin at the block's height, over the header's merkle root (the node's
    // getblockheader `merkleroot` is display order, the header holds it reversed).
    const merkle = toHex(parseBlockHeader(a.header).merkleRoot);
    assert.equal(merkle, toHex(fromDisplayHex(a.merkle)));
    assert.deepEqual(
      seen.attestations,
      [
        {
          type: 'BitcoinBlockHeaderAttestation',
          msg: merkle,
          height: a.evidence.height,
          time: parseBlockHeader(a.header).time,
        },
      ],
      where,
    );
  }
});

test('against another header, or with a sibling hash tampered, the reference refuses the proof', () => {
  const a = anchors[0]!;
  // One bit of the header's merkle root (bytes 36-67) changed: another block.
  const header = a.header.slice();
  header[40] = header[40]! ^ 0x01;
  const seen = referenceCheck(epochOtsProof(a.statement, a.evidence), header);
  assert.equal(seen.attestations.length, 1);
  assert.match(String(seen.attestations[0]!.error), /merkleroot/i);

  const ots = epochOtsProof(a.statement, a.evidence);
  const sibling = fromHex(a.evidence.branch[1]!);
  const at = ots.findIndex((_, i) => sibling.every((x, j) => ots[i + j] === x));
  assert.ok(at > 0, 'the sibling is in the proof');
  const tampered = ots.slice();
  tampered[at] = tampered[at]! ^ 0x01;
  assert.match(String(referenceCheck(tampered, a.header).attestations[0]!.error), /merkleroot/i);
});

test('the operations rebuild the transaction without its witness: the txid the merkle tree commits to', () => {
  const e = syntheticBtcEpoch();
  const seen = referenceCheck(epochOtsProof(e.statement, e.evidence), e.header);
  assert.deepEqual(seen.attestations, [
    {
      type: 'BitcoinBlockHeaderAttestation',
      msg: toHex(e.merkleRoot),
      height: e.evidence.height,
      time: parseBlockHeader(e.header).time,
    },
  ]);
  // Hashing the witness serialization (marker, flag, signature) would lead somewhere else.
  const withWitness = bitcoinOtsProof({
    root: e.root,
    txStripped: e.tx,
    index: e.evidence.index,
    branch: e.evidence.branch.map((h) => fromHex(h)),
    height: e.evidence.height,
  });
  assert.notDeepEqual(withWitness.commitment, e.merkleRoot);
});

test('stored evidence is checked again before it is exported, and each refusal has its code', () => {
  const a = anchors[0]!;
  const other = anchors[1]!;
  // Another epoch's root: this transaction does not carry it.
  assert.throws(
    () => epochOtsProof({ ...a.statement, root: other.statement.root }, a.evidence),
    code('ANCHOR_EVIDENCE_INVALID', /op-return/),
  );
  // The evidence is of regtest; a statement naming testnet is not what it proves.
  assert.throws(
    () => epochOtsProof({ ...a.statement, target: 'btc:testnet' }, a.evidence),
    code('ANCHOR_EVIDENCE_INVALID', /target/),
  );
  const flipped = fromHex(a.evidence.branch[0]!);
  flipped[0] = flipped[0]! ^ 0x01;
  assert.throws(
    () => epochOtsProof(a.statement, { ...a.evidence, branch: [toHex(flipped), a.evidence.branch[1]!] }),
    code('ANCHOR_EVIDENCE_INVALID', /merkle-branch/),
  );
  assert.throws(
    () => epochOtsProof(a.statement, { ...a.evidence, header: a.evidence.header.slice(0, -2) }),
    code('ANCHOR_EVIDENCE_INVALID', /header/),
  );
  // Evidence of another kind under a btc statement (a store that does not hold what it should).
  assert.throws(
    () => epochOtsProof(a.statement, { type: 'rfc3161', policy: 'any', tokens: [] } as never),
    code('ANCHOR_EVIDENCE_INVALID', /rfc3161 evidence/),
  );
  // The reference refuses operation arguments over 4096 bytes: such an anchor has no .ots proof.
  const long = syntheticBtcEpoch({ scriptSigBytes: 5_000 });
  assert.throws(() => epochOtsProof(long.statement, long.evidence), code('NOT_FOUND', /no OpenTimestamps proof/));
});

test('epochOtsFile finds the finalized epoch under its key, and NOT_FOUND otherwise', async () => {
  const collaborative = syntheticBtcEpoch({ epoch: 9 });
  const independent = syntheticBtcEpoch({ epoch: 9, node: 'beta.ots.test' });
  const records: EpochRecord[] = [
    { ...key(collaborative.finalization.statement), status: 'finalized', finalization: collaborative.finalization },
    { ...key(independent.finalization.statement), status: 'finalized', finalization: independent.finalization },
    { target: 'btc:regtest', epoch: 10, mode: 'collaborative', node: '', status: 'abandoned', updatedAtMs: 0 },
  ];
  const asked: string[] = [];
  const lookup = async (target: string, epoch: number, mode: string, node: string) => {
    asked.push(`${target}|${epoch}|${mode}|${node}`);
    return records.find((r) => r.target === target && r.epoch === epoch && r.mode === mode && r.node === node);
  };

  const c = await epochOtsFile(lookup, { target: 'btc:regtest', epoch: 9 });
  assert.deepEqual(c.ots, epochOtsProof(collaborative.statement, collaborative.evidence));
  assert.equal(c.filename, 'btc-regtest-9.ots');
  const i = await epochOtsFile(lookup, { target: 'btc:regtest', epoch: 9, node: 'beta.ots.test' });
  assert.deepEqual(i.ots, epochOtsProof(independent.statement, independent.evidence));
  assert.notDeepEqual(i.ots, c.ots);
  assert.equal(i.filename, 'btc-regtest-9-beta.ots.test.ots');
  assert.deepEqual(asked, ['btc:regtest|9|collaborative|', 'btc:regtest|9|independent|beta.ots.test']);

  await assert.rejects(epochOtsFile(lookup, { target: 'btc:regtest', epoch: 10 }), code('NOT_FOUND', /abandoned/));
  await assert.rejects(epochOtsFile(lookup, { target: 'btc:regtest', epoch: 11 }), code('NOT_FOUND'));
  await assert.rejects(
    epochOtsFile(lookup, { target: 'btc:regtest', epoch: 9, node: 'gamma.ots.test' }),
    code('NOT_FOUND', /independent epoch of gamma/),
  );
  assert.equal(epochOtsFilename({ target: 'btc:mainnet', epoch: 0 }), 'btc-mainnet-0.ots');
});

test('request parameters: a malformed target or node is INVALID_ARGUMENT, a target of another kind NOT_FOUND', () => {
  assert.equal(otsTargetParam('btc:regtest'), 'btc:regtest');
  assert.equal(otsTargetParam('btc:mainnet'), 'btc:mainnet');
  for (const t of ['rfc3161:local', 'eip155:1']) assert.throws(() => otsTargetParam(t), code('NOT_FOUND'));
  for (const t of ['btc:nowhere', 'btc', '', 'BTC:regtest', `btc:${'x'.repeat(200)}`, 7, undefined])
    assert.throws(() => otsTargetParam(t), code('INVALID_ARGUMENT'), String(t));
  assert.equal(otsNodeParam(undefined), undefined);
  assert.equal(otsNodeParam('alpha.vaultmesh.local'), 'alpha.vaultmesh.local');
  for (const n of ['', 'Alpha', 'a b', 'a/b', '-a', ['a']])
    assert.throws(() => otsNodeParam(n), code('INVALID_ARGUMENT'), String(n));
});

function key(s: EpochStatement): Omit<EpochRecord, 'status' | 'finalization'> {
  return { target: s.target, epoch: s.epoch, mode: s.mode, node: s.node ?? '', updatedAtMs: 0 };
}
