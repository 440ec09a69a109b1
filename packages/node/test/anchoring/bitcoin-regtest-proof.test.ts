// Issue 11, item 4: an epoch root anchored in a Bitcoin transaction's OP_RETURN output on a real
// regtest node (bcoin, in a child process, on 127.0.0.1 only), the evidence an offline verifier
// needs fetched over the node's bitcoind-compatible RPC, and that evidence verified: by
// verifyBitcoinAnchor, and as an OpenTimestamps proof by Debian's python3-opentimestamps against
// the real block header.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  RemembrancerError,
  bitcoinBlockHash,
  bitcoinOtsProof,
  crypto,
  parseBlockHeader,
  parseTransaction,
  toDisplayHex,
  toHex,
  utf8Encode,
  verifyBitcoinAnchor,
  type BitcoinAnchorEvidence,
} from '@vaultmesh/core';
import { startBitcoinRegtest, type BitcoinRegtest } from '../../../../test/e2e/harness/bitcoin-regtest.js';
import {
  BitcoinRpcError,
  bitcoinAnchorEvidence,
  bitcoinRpc,
  type BitcoinRpc,
  type BitcoinRpcCaller,
} from '../../src/anchoring/bitcoin/index.js';

// Debian's interpreter: the reference library is a Debian package, not on a pyenv python's path.
const PYTHON = '/usr/bin/python3';
const hasReference =
  spawnSync(PYTHON, ['-c', 'import opentimestamps, bitcoin'], { stdio: 'ignore', timeout: 10_000 }).status === 0;

/** Coinbase outputs are spendable 100 blocks on; 110 leave several mature ones to spend at once. */
const BLOCKS_TO_MATURE = 110;
/** Anchoring transactions in the anchoring block besides the coinbase: a tree several levels deep. */
const ANCHORS = 4;
/** The anchor whose proof is checked; where it lands in the block is the miner's choice. */
const OURS = 2;
const FEE_SATS = 10_000;
const POLL_MS = 50;
const WAIT_MS = 15_000;

const hexBytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));

/** Polls `probe` until it returns a value; fails after WAIT_MS. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${WAIT_MS} ms`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

interface Coin {
  txid: string;
  vout: number;
  address: string;
  amount: number;
  confirmations: number;
}

/**
 * A transaction spending `coin` (a P2PKH coinbase output of the wallet) to a `6a20<root>` output
 * and change, built with the bitcoind RPCs bcoin 1.0.2 has: createrawtransaction (its `data` key
 * is the OP_RETURN output; bcoin cannot serialize a transaction without inputs, so no
 * fundrawtransaction on an empty one), dumpprivkey from the wallet, signrawtransaction on the
 * node (bcoin's wallet RPC has no signrawtransactionwithwallet), sendrawtransaction.
 */
async function anchorTransaction(chain: BitcoinRegtest, coin: Coin, root: Uint8Array, change: string): Promise<string> {
  const changeSats = Math.round(coin.amount * 1e8) - FEE_SATS;
  const raw = await chain.call('createrawtransaction', [
    [{ txid: coin.txid, vout: coin.vout }],
    { data: toHex(root), [change]: changeSats / 1e8 },
  ]);
  const wif = await chain.walletCall('dumpprivkey', [coin.address]);
  const signed = (await chain.call('signrawtransaction', [raw, [], [wif]])) as { hex: string; complete: boolean };
  assert.equal(signed.complete, true, 'signrawtransaction signed every input');
  // bcoin answers with the txid before its mempool has taken the transaction (or refused it).
  return (await chain.call('sendrawtransaction', [signed.hex])) as string;
}

let chain: BitcoinRegtest | undefined;
let rpc: BitcoinRpc;
let roots: Uint8Array[];
let txids: string[];
let blockHash: string;
let evidence: BitcoinAnchorEvidence;
let unconfirmedTxid: string;

before(
  async () => {
    chain = await startBitcoinRegtest();
    const node = chain;
    rpc = bitcoinRpc({ url: node.rpcUrl, password: node.apiKey, timeoutMs: 15_000 });

    // bcoin 1.0.2's getnewaddress encodes for mainnet; getaccountaddress uses the wallet's network.
    const address = (await node.walletCall('getaccountaddress', [''])) as string;
    const mined = (await node.call('generatetoaddress', [BLOCKS_TO_MATURE, address])) as string[];
    assert.equal(mined.length, BLOCKS_TO_MATURE);
    // The wallet follows the chain asynchronously; with minconf 100 it lists only mature coinbases.
    const coins = await waitFor('mature wallet coins', async () => {
      const listed = (await node.walletCall('listunspent', [100])) as Coin[];
      return listed.length > ANCHORS ? listed : undefined;
    });

    roots = Array.from({ length: ANCHORS + 1 }, (_, i) => crypto.sha256(utf8Encode(`epoch root ${i}`)));
    txids = [];
    for (let i = 0; i < ANCHORS; i++) {
      txids.push(await anchorTransaction(node, coins[i]!, roots[i]!, address));
    }
    await waitFor('anchoring transactions in the mempool', async () => {
      const pool = (await node.call('getrawmempool', [])) as string[];
      return txids.every((t) => pool.includes(t)) ? true : undefined;
    });
    const [hash] = (await node.call('generatetoaddress', [1, address])) as string[];
    blockHash = hash!;

    evidence = await bitcoinAnchorEvidence(rpc, txids[OURS]!);

    // One more, left unconfirmed.
    unconfirmedTxid = await anchorTransaction(node, coins[ANCHORS]!, roots[ANCHORS]!, address);
    await waitFor('the unconfirmed transaction in the mempool', async () => {
      const pool = (await node.call('getrawmempool', [])) as string[];
      return pool.includes(unconfirmedTxid) ? true : undefined;
    });
  },
  { timeout: 45_000 },
);

after(
  async () => {
    await chain?.stop();
  },
  { timeout: 15_000 },
);

test('the evidence of a root anchored on regtest verifies, in the block the node reports as best', async () => {
  const ours = roots[OURS]!;
  const result = verifyBitcoinAnchor(evidence, ours);
  assert.equal(result.ok, true, JSON.stringify(result.checks));
  assert.deepEqual(
    result.checks.map((c) => [c.name, c.ok]),
    [
      ['header', true],
      ['transaction', true],
      ['op-return', true],
      ['merkle-branch', true],
    ],
  );

  const header = hexBytes(evidence.header);
  const best = (await chain!.call('getbestblockhash', [])) as string;
  assert.equal(toDisplayHex(bitcoinBlockHash(header)), best);
  assert.equal(best, blockHash);
  assert.equal(evidence.height, (await chain!.call('getblockcount', [])) as number);
  assert.equal(evidence.height, BLOCKS_TO_MATURE + 1);

  // The block holds the coinbase and the anchors: a branch of three levels (5 → 3 → 2 → 1).
  const block = (await chain!.call('getblock', [blockHash, 1])) as { tx: string[] };
  assert.equal(block.tx.length, ANCHORS + 1);
  assert.equal(block.tx[evidence.index], txids[OURS]);
  assert.equal(evidence.branch.length, 3);

  // Another anchor's root is not in this transaction.
  const other = verifyBitcoinAnchor(evidence, roots[(OURS + 1) % ANCHORS]!);
  assert.equal(other.ok, false);
  assert.equal(other.checks.at(-1)!.name, 'op-return');

  // Naming the block gives the same evidence as letting the node say where the transaction is.
  assert.deepEqual(await bitcoinAnchorEvidence(rpc, txids[OURS]!, blockHash), evidence);
});

test('the OpenTimestamps proof of the anchor commits to the real header merkle root', () => {
  const header = hexBytes(evidence.header);
  const proof = bitcoinOtsProof({
    root: roots[OURS]!,
    txStripped: parseTransaction(hexBytes(evidence.tx)).stripped,
    index: evidence.index,
    branch: evidence.branch.map(hexBytes),
    height: evidence.height,
  });
  assert.deepEqual(proof.commitment, parseBlockHeader(header).merkleRoot);
});

const REFERENCE_CHECK = `
import json, sys
from bitcoin.core import CBlockHeader
from opentimestamps.core.notary import BitcoinBlockHeaderAttestation
from opentimestamps.core.serialize import BytesDeserializationContext
from opentimestamps.core.timestamp import DetachedTimestampFile
ots = DetachedTimestampFile.deserialize(BytesDeserializationContext(open(sys.argv[1], 'rb').read()))
header = CBlockHeader.deserialize(open(sys.argv[2], 'rb').read())
found = []
for msg, att in ots.timestamp.all_attestations():
    if isinstance(att, BitcoinBlockHeaderAttestation):
        found.append({'height': att.height, 'time': att.verify_against_blockheader(msg, header)})
print(json.dumps({'digest': ots.file_digest.hex(), 'attestations': found}))
`;

test(
  'python-opentimestamps verifies the proof against the regtest block header',
  {
    skip: hasReference
      ? false
      : `${PYTHON} has no opentimestamps module (Debian package python3-opentimestamps; .ci/run installs it)`,
  },
  () => {
    const header = hexBytes(evidence.header);
    const proof = bitcoinOtsProof({
      root: roots[OURS]!,
      txStripped: parseTransaction(hexBytes(evidence.tx)).stripped,
      index: evidence.index,
      branch: evidence.branch.map(hexBytes),
      height: evidence.height,
    });
    const dir = mkdtempSync(join(tmpdir(), 'remembrancer-regtest-ots-'));
    try {
      writeFileSync(join(dir, 'anchor.ots'), proof.ots);
      writeFileSync(join(dir, 'header.bin'), header);
      const out = execFileSync(PYTHON, ['-c', REFERENCE_CHECK, join(dir, 'anchor.ots'), join(dir, 'header.bin')], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      // verify_against_blockheader raises unless the digest is the header's merkle root; it returns nTime.
      assert.deepEqual(JSON.parse(out), {
        digest: toHex(roots[OURS]!),
        attestations: [{ height: evidence.height, time: parseBlockHeader(header).time }],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('tampered evidence fails verifyBitcoinAnchor at the check that reads the tampered part', () => {
  const ours = roots[OURS]!;
  const failsAt = (tampered: BitcoinAnchorEvidence, check: string) => {
    const result = verifyBitcoinAnchor(tampered, ours);
    assert.equal(result.ok, false);
    const last = result.checks.at(-1)!;
    assert.deepEqual([last.name, last.ok], [check, false], JSON.stringify(result.checks));
    assert.ok(result.checks.slice(0, -1).every((c) => c.ok));
  };
  const flip = (hex: string, byte: number) => {
    const bytes = hexBytes(hex);
    bytes[byte] = bytes[byte]! ^ 0x01;
    return toHex(bytes);
  };

  // A byte of the header's merkle root (bytes 36–67).
  failsAt({ ...evidence, header: flip(evidence.header, 50) }, 'merkle-branch');
  // A byte of a sibling hash.
  failsAt({ ...evidence, branch: evidence.branch.map((h, i) => (i === 1 ? flip(h, 7) : h)) }, 'merkle-branch');
  // A byte of the root in the OP_RETURN output.
  const tx = hexBytes(evidence.tx);
  const at = toHex(tx).indexOf(`6a20${toHex(ours)}`) / 2;
  assert.ok(Number.isInteger(at) && at > 0);
  failsAt({ ...evidence, tx: flip(evidence.tx, at + 2 + 5) }, 'op-return');
});

test('the evidence builder refuses an unconfirmed transaction and reports RPC failures by code', async () => {
  await assert.rejects(
    bitcoinAnchorEvidence(rpc, unconfirmedTxid),
    (e: unknown) => e instanceof RemembrancerError && e.code === 'NOT_FOUND',
  );
  // A block the transaction is not in.
  await assert.rejects(
    bitcoinAnchorEvidence(rpc, txids[OURS]!, (await chain!.call('getblockhash', [1])) as string),
    (e: unknown) => e instanceof RemembrancerError && e.code === 'NOT_FOUND',
  );
  // A txid the node does not know: its error answer, with its RPC code.
  await assert.rejects(
    bitcoinAnchorEvidence(rpc, '00'.repeat(32)),
    (e: unknown) => e instanceof BitcoinRpcError && e.code === 'CHAIN_RPC_ERROR' && typeof e.rpcCode === 'number',
  );
  // The wrong password: HTTP 401.
  const wrong = bitcoinRpc({ url: chain!.rpcUrl, password: 'not the key', timeoutMs: 5_000 });
  await assert.rejects(
    wrong.call('getblockcount'),
    (e: unknown) => e instanceof RemembrancerError && e.code === 'CHAIN_RPC_ERROR' && /401/.test(e.message),
  );
  // Nothing listening: a port the OS gave out and took back.
  const port = await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
  const closed = bitcoinRpc({ url: `http://127.0.0.1:${port}/`, password: 'x', timeoutMs: 5_000 });
  await assert.rejects(
    closed.call('getblockcount'),
    (e: unknown) => e instanceof RemembrancerError && e.code === 'CHAIN_RPC_UNREACHABLE',
  );
});

test('answers of a node that contradict each other are refused, not turned into evidence', async () => {
  const lying = (method: string, lie: (answer: unknown) => unknown): BitcoinRpcCaller => ({
    call: async (m, params) => {
      const answer = await rpc.call(m, params);
      return m === method ? lie(answer) : answer;
    },
  });
  const invalid = (e: unknown) => e instanceof RemembrancerError && e.code === 'BITCOIN_PROOF_INVALID';
  // The block's transactions in another order: another merkle root than the header's.
  const swapped = lying('getblock', (a) => {
    const block = a as { tx: string[] };
    return { ...block, tx: [block.tx[0], block.tx[2], block.tx[1], ...block.tx.slice(3)] };
  });
  await assert.rejects(bitcoinAnchorEvidence(swapped, txids[OURS]!), invalid);
  // The header of another block.
  const parent = (await chain!.call('getblockhash', [BLOCKS_TO_MATURE])) as string;
  const otherHeader = (await chain!.call('getblockheader', [parent, false])) as string;
  await assert.rejects(
    bitcoinAnchorEvidence(
      lying('getblockheader', () => otherHeader),
      txids[OURS]!,
    ),
    invalid,
  );
});
