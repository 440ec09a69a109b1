// Issue 11, items 3, 5 and 7: the Bitcoin ChainSender against a real bcoin 1.0.2 regtest node (a
// child process on 127.0.0.1): anchors prepared from the wallet's coins, sent, followed from the
// mempool into a block and through a reorganisation, costed, proven, and replaced by fee.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RemembrancerError,
  bitcoinTxid,
  crypto,
  opReturnPayload,
  parseBlockHeader,
  parseTransaction,
  toDisplayHex,
  toHex,
  utf8Encode,
  verifyBitcoinAnchor,
  type BitcoinAnchorEvidence,
  type BitcoinTransaction,
} from '@vaultmesh/core';
import { startBitcoinRegtest, type BitcoinRegtest } from '../../../../test/e2e/harness/bitcoin-regtest.js';
import {
  BIP125_SEQUENCE,
  BitcoinSender,
  bitcoinRpc,
  bitcoinVsize,
  type BitcoinRpc,
  type BitcoinSenderOptions,
} from '../../src/anchoring/bitcoin/index.js';
import type { ChainAttempt, ChainPayload, ChainTxStatus } from '../../src/anchoring/chain/chain-sender.js';

const FALLBACK_SAT_VB = 2;
const CAP_SAT_VB = 50;
/** bcoin decides on a transaction within milliseconds; a refusal is known once this has passed. */
const ACCEPT_TIMEOUT_MS = 1_500;

let chain: BitcoinRegtest | undefined;
let rpc: BitcoinRpc;
let wallet: BitcoinRpc;
let sender: BitcoinSender;
let epoch = 0;

function payload(): ChainPayload {
  epoch++;
  return { root: crypto.sha256(utf8Encode(`epoch root ${epoch}`)), federationId: 'fed-test', epoch };
}

function senderWith(overrides: Partial<BitcoinSenderOptions> = {}): BitcoinSender {
  return new BitcoinSender({
    network: 'regtest',
    rpc,
    wallet,
    fallbackFeeRateSatVb: FALLBACK_SAT_VB,
    maxFeeRateSatVb: CAP_SAT_VB,
    acceptTimeoutMs: ACCEPT_TIMEOUT_MS,
    ...overrides,
  });
}

/** The node's RPC with some answers replaced, to put the sender in states a regtest node does not reach. */
function answering(inner: BitcoinRpc, answers: Record<string, (params: readonly unknown[]) => unknown>): BitcoinRpc {
  return {
    url: inner.url,
    call: async (method, params = []) => (method in answers ? answers[method]!(params) : inner.call(method, params)),
  };
}

// Plain Uint8Arrays: a Buffer's slice is a view, which core's toDisplayHex would reverse in place.
const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));
const parsed = (a: ChainAttempt): BitcoinTransaction => parseTransaction(bytes(a.raw));
const outpoints = (tx: BitcoinTransaction) => tx.inputs.map((i) => `${toDisplayHex(i.prevTxid)}:${i.prevIndex}`);
const btcFee = (a: ChainAttempt) => {
  assert.equal(a.fee.kind, 'btc');
  return a.fee as Extract<ChainAttempt['fee'], { kind: 'btc' }>;
};
const code = (c: string) => (e: unknown) => e instanceof RemembrancerError && e.code === c;

async function mempool(): Promise<string[]> {
  return (await chain!.call('getrawmempool', [])) as string[];
}

before(
  async () => {
    chain = await startBitcoinRegtest();
    rpc = bitcoinRpc({ url: chain.rpcUrl, password: chain.apiKey, timeoutMs: 15_000 });
    wallet = bitcoinRpc({ url: chain.walletUrl, password: chain.apiKey, timeoutMs: 15_000 });
    await chain.fund();
    sender = senderWith();
  },
  { timeout: 45_000 },
);

after(
  async () => {
    await chain?.stop();
  },
  { timeout: 15_000 },
);

// Shared by the tests that follow one anchor from its signing to its proof.
let anchor: ChainAttempt;
let anchorPayload: ChainPayload;
let anchorBlock: string;

test('an anchor is one replaceable transaction: a 32-byte OP_RETURN of the root and change, priced on its signed size', async () => {
  assert.equal(sender.target, 'btc:regtest');
  anchorPayload = payload();
  const a = (await sender.prepare(anchorPayload))!;
  anchor = a;
  const tx = parsed(a);
  assert.equal(a.txid, toDisplayHex(bitcoinTxid(tx)));
  assert.deepEqual(a.inputs, outpoints(tx));
  assert.equal(a.replaces, undefined);
  // The issue: "a 32-byte OP_RETURN": 6a 20 <root>, paying nothing.
  assert.equal(tx.outputs.length, 2);
  assert.equal(toHex(tx.outputs[0]!.script), `6a20${toHex(anchorPayload.root)}`);
  assert.equal(toHex(opReturnPayload(tx.outputs[0]!.script)!), toHex(anchorPayload.root));
  assert.equal(tx.outputs[0]!.value, 0n);
  // BIP 125: "an nSequence number less than (0xffffffff-1)" on an input signals replaceability.
  assert.ok(tx.inputs.every((i) => i.sequence === BIP125_SEQUENCE && i.sequence < 0xfffffffe));

  // bcoin has no fee estimate on a fresh regtest chain: the fallback rate applies.
  const estimate = (await chain!.call('estimatesmartfee', [6])) as { fee: number };
  assert.equal(estimate.fee, -1);
  const fee = btcFee(a);
  assert.equal(fee.feeRateSatVb, FALLBACK_SAT_VB);
  assert.equal(fee.vbytes, bitcoinVsize(bytes(a.raw)));
  // The fee is the rate times the signed size, give or take a signature's byte per input.
  const sats = Number(fee.feeSats);
  assert.ok(sats >= Math.ceil(FALLBACK_SAT_VB * fee.vbytes), `${sats} sats for ${fee.vbytes} vB`);
  assert.ok(sats <= Math.ceil(FALLBACK_SAT_VB * (fee.vbytes + tx.inputs.length)), `${sats} sats for ${fee.vbytes} vB`);

  // Not sent by prepare.
  assert.ok(!(await mempool()).includes(a.txid));
  assert.deepEqual(await sender.status(a), { state: 'missing' });
});

test('sent, the anchor is pending in the mempool, and its fee and size are what the node counts', async () => {
  await sender.broadcast(anchor);
  assert.ok((await mempool()).includes(anchor.txid));
  assert.deepEqual(await sender.status(anchor), { state: 'pending' });
  // Sending again is not an error: the node has it.
  await sender.broadcast(anchor);

  const entry = (await chain!.call('getmempoolentry', [anchor.txid])) as { fee: number; size: number };
  const fee = btcFee(anchor);
  assert.equal(Math.round(entry.fee * 1e8), Number(fee.feeSats));
  assert.equal(entry.size, fee.vbytes);
  // The inputs' values minus the outputs', as the node knows the inputs.
  const tx = parsed(anchor);
  let inputs = 0;
  for (const input of tx.inputs) {
    const prev = (await chain!.call('getrawtransaction', [toDisplayHex(input.prevTxid), true])) as {
      vout: { value: number }[];
    };
    inputs += Math.round(prev.vout[input.prevIndex]!.value * 1e8);
  }
  const outputs = tx.outputs.reduce((s, o) => s + Number(o.value), 0);
  assert.equal(inputs - outputs, Number(fee.feeSats));
});

test('mined, the anchor is included in the best chain, and its confirmations grow with each block', async () => {
  const [block] = await chain!.mine(1);
  anchorBlock = block!;
  const height = (await chain!.call('getblockcount', [])) as number;
  const fee = btcFee(anchor);
  assert.deepEqual(await sender.status(anchor), {
    state: 'included',
    blockHash: anchorBlock,
    height,
    confirmations: 1,
    cost: { kind: 'btc', vbytes: fee.vbytes, feeSats: fee.feeSats },
  });
  // The change went back to the wallet, which lists it now.
  const coins = (await chain!.walletCall('listunspent', [1])) as { txid: string; vout: number }[];
  assert.ok(coins.some((c) => c.txid === anchor.txid && c.vout === 1));

  await chain!.mine(2);
  const later = await sender.status(anchor);
  assert.equal(later.state, 'included');
  assert.equal((later as Extract<ChainTxStatus, { state: 'included' }>).confirmations, 3);
  assert.equal((later as Extract<ChainTxStatus, { state: 'included' }>).blockHash, anchorBlock);
});

test('the evidence verifies offline against the root, and tampering fails at the named check', async () => {
  const proof = await sender.evidence(anchor, anchorBlock);
  assert.equal(proof.blockHash, anchorBlock);
  assert.equal(proof.evidence.type, 'btc');
  assert.equal(proof.evidence.network, 'regtest');
  const evidence = proof.evidence as unknown as BitcoinAnchorEvidence;
  const header = bytes(evidence.header);
  assert.equal(proof.height, evidence.height);
  assert.equal(proof.height, ((await chain!.call('getblockheader', [anchorBlock, true])) as { height: number }).height);
  assert.equal(proof.blockTime, new Date(parseBlockHeader(header).time * 1000).toISOString().replace('.000Z', 'Z'));
  assert.match(proof.blockTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(evidence.tx, anchor.raw);

  const result = verifyBitcoinAnchor(evidence, anchorPayload.root);
  assert.equal(result.ok, true, JSON.stringify(result.checks));
  assert.deepEqual(
    result.checks.map((c) => c.name),
    ['header', 'transaction', 'op-return', 'merkle-branch'],
  );
  // Another root is not what this anchor commits.
  assert.equal(
    verifyBitcoinAnchor(evidence, crypto.sha256(utf8Encode('another root'))).checks.at(-1)!.name,
    'op-return',
  );

  const flip = (hex: string, byte: number) => {
    const b = Buffer.from(hex, 'hex');
    b[byte] = b[byte]! ^ 0x01;
    return b.toString('hex');
  };
  const failsAt = (tampered: unknown, check: string) => {
    const r = verifyBitcoinAnchor(tampered, anchorPayload.root);
    assert.equal(r.ok, false);
    assert.deepEqual([r.checks.at(-1)!.name, r.checks.at(-1)!.ok], [check, false], JSON.stringify(r.checks));
  };
  failsAt({ ...evidence, header: evidence.header.slice(0, -2) }, 'header');
  // The header's merkle root (bytes 36–67).
  failsAt({ ...evidence, header: flip(evidence.header, 40) }, 'merkle-branch');
  failsAt({ ...evidence, tx: evidence.tx.slice(0, -2) }, 'transaction');
  const at = evidence.tx.indexOf(`6a20${toHex(anchorPayload.root)}`) / 2;
  failsAt({ ...evidence, tx: flip(evidence.tx, at + 2 + 9) }, 'op-return');
  // A change output's value: the transaction still parses and carries the root, but is another one.
  failsAt({ ...evidence, tx: flip(evidence.tx, evidence.tx.length / 2 - 4 - 25 - 1 - 8) }, 'merkle-branch');
  if (evidence.branch.length > 0) {
    failsAt({ ...evidence, branch: [flip(evidence.branch[0]!, 0), ...evidence.branch.slice(1)] }, 'merkle-branch');
  }
  failsAt({ ...evidence, index: evidence.index + 1 }, 'merkle-branch');
});

test('two anchors prepared at once spend different coins, and both are mined', async () => {
  const [a, b] = await Promise.all([sender.prepare(payload()), sender.prepare(payload())]);
  const spentA = new Set(a!.inputs);
  assert.ok(
    b!.inputs!.every((o) => !spentA.has(o)),
    `${a!.inputs!.join()} / ${b!.inputs!.join()}`,
  );
  await Promise.all([sender.broadcast(a!), sender.broadcast(b!)]);
  await chain!.mine(1);
  assert.equal((await sender.status(a!)).state, 'included');
  assert.equal((await sender.status(b!)).state, 'included');
});

test('the fee rate follows the node estimate and never exceeds the cap', async () => {
  // estimatesmartfee as Bitcoin Core answers it, in BTC/kvB: 3 sat/vB, then 1,000 sat/vB.
  const estimating = (btcPerKvB: number) =>
    answering(rpc, { estimatesmartfee: (p) => ({ feerate: btcPerKvB, blocks: p[0] }) });
  const market = await senderWith({ rpc: estimating(0.00003) }).prepare(payload());
  assert.equal(btcFee(market!).feeRateSatVb, 3);

  const capped = senderWith({ rpc: estimating(0.01), maxFeeRateSatVb: 5 });
  const p = payload();
  const a = (await capped.prepare(p))!;
  const fee = btcFee(a);
  assert.equal(fee.feeRateSatVb, 5);
  assert.ok(Number(fee.feeSats) <= Math.ceil(5 * (fee.vbytes + parsed(a).inputs.length)));
  await capped.broadcast(a);
  // At the cap, a replacement would have to offer more than the cap: there is none.
  assert.equal(await capped.prepare(p, a), undefined);
  await chain!.mine(1);
  assert.equal((await capped.status(a)).state, 'included');
});

test('a BIP 125 replacement is built correctly; bcoin 1.0.2 refuses it, and that is CHAIN_TX_REJECTED', async () => {
  const p = payload();
  const first = (await sender.prepare(p))!;
  await sender.broadcast(first);
  assert.deepEqual(await sender.status(first), { state: 'pending' });

  const second = (await sender.prepare(p, first))!;
  assert.equal(second.replaces, first.txid);
  // The same inputs, in the same order, each still signalling; the same root and change script.
  assert.deepEqual(second.inputs, first.inputs);
  const [tx1, tx2] = [parsed(first), parsed(second)];
  assert.deepEqual(outpoints(tx2), outpoints(tx1));
  assert.ok(tx2.inputs.every((i) => i.sequence === BIP125_SEQUENCE));
  assert.deepEqual(tx2.outputs[0]!.script, tx1.outputs[0]!.script);
  assert.deepEqual(tx2.outputs[1]!.script, tx1.outputs[1]!.script);
  // BIP 125 rules 3, 4 and 6: more in total, by at least the relay fee (1 sat/vB) over its own
  // size, and a higher rate.
  const [f1, f2] = [btcFee(first), btcFee(second)];
  assert.ok(f2.feeRateSatVb >= f1.feeRateSatVb + 1, `${f2.feeRateSatVb} after ${f1.feeRateSatVb}`);
  assert.ok(Number(f2.feeSats) >= Number(f1.feeSats) + f2.vbytes, `${f2.feeSats} after ${f1.feeSats}`);
  assert.ok(Number(f2.feeSats) / f2.vbytes > Number(f1.feeSats) / f1.vbytes);
  assert.equal(tx1.outputs[1]!.value - tx2.outputs[1]!.value, BigInt(Number(f2.feeSats) - Number(f1.feeSats)));

  // bcoin's mempool refuses any transaction spending what one of its transactions spends
  // (Mempool#isDoubleSpend, 'bad-txns-inputs-spent'), replaceable or not, whatever the fee.
  await assert.rejects(sender.broadcast(second), (e: unknown) => {
    assert.ok(code('CHAIN_TX_REJECTED')(e), String(e));
    assert.match((e as Error).message, new RegExp(`kept ${first.txid}`));
    return true;
  });
  assert.deepEqual(await sender.status(first), { state: 'pending' });
  assert.deepEqual(await sender.status(second), { state: 'missing' });

  // Once the first is mined, the replacement can never be: its inputs are spent in the best chain.
  await chain!.mine(1);
  assert.equal((await sender.status(first)).state, 'included');
  assert.deepEqual(await sender.status(second), { state: 'conflicted' });
  await assert.rejects(sender.broadcast(second), code('CHAIN_TX_REJECTED'));
  // Nothing is left to replace.
  await assert.rejects(sender.prepare(p, first), code('CHAIN_TX_REJECTED'));
});

test('a reorganisation that drops the anchor block takes the anchor out of included; sent again, it is mined again', async () => {
  const p = payload();
  const a = (await sender.prepare(p))!;
  await sender.broadcast(a);
  const [block] = await chain!.mine(1);
  const before = await sender.status(a);
  assert.equal(before.state, 'included');
  assert.equal((before as Extract<ChainTxStatus, { state: 'included' }>).blockHash, block);

  await chain!.invalidateBlock(block!);
  assert.notEqual((await chain!.call('getbestblockhash', [])) as string, block);
  const dropped = await sender.status(a);
  // bcoin resets its chain and empties its mempool on invalidateblock: the transaction is gone
  // from the node (Bitcoin Core would have it pending again).
  assert.ok(dropped.state === 'missing' || dropped.state === 'pending', JSON.stringify(dropped));
  // Evidence for the stale block is refused rather than built (bcoin forgot the block and the
  // transaction: its refusal to look them up).
  await assert.rejects(sender.evidence(a, block!), code('CHAIN_RPC_ERROR'));

  await sender.broadcast(a);
  assert.deepEqual(await sender.status(a), { state: 'pending' });
  const [again] = await chain!.mine(1);
  assert.notEqual(again, block);
  const after = await sender.status(a);
  assert.equal(after.state, 'included');
  assert.equal((after as Extract<ChainTxStatus, { state: 'included' }>).blockHash, again);
  const proof = await sender.evidence(a, again!);
  assert.equal(verifyBitcoinAnchor(proof.evidence, p.root).ok, true);

  // A node whose best chain holds another block at that height (Bitcoin Core keeps stale blocks
  // and their headers; bcoin drops them, so its answer is altered here): the block it names for
  // the transaction is not taken on its word.
  const height = (after as Extract<ChainTxStatus, { state: 'included' }>).height;
  const forked = senderWith({
    rpc: answering(rpc, {
      getblockhash: async (params) => (params[0] === height ? '11'.repeat(32) : rpc.call('getblockhash', params)),
    }),
  });
  assert.notEqual((await forked.status(a)).state, 'included');
  await assert.rejects(forked.evidence(a, again!), code('BITCOIN_PROOF_INVALID'));
});

test('a wallet that signs (signrawtransactionwithwallet, Bitcoin Core) is asked to, and gives out no key', async () => {
  const asked: string[] = [];
  // Bitcoin Core's wallet method, played by bcoin's key and node signing behind the wallet endpoint.
  const signing: BitcoinRpc = {
    url: wallet.url,
    call: async (method, params = []) => {
      asked.push(method);
      if (method !== 'signrawtransactionwithwallet') return wallet.call(method, params);
      const tx = parseTransaction(bytes(params[0] as string));
      const keys: unknown[] = [];
      for (const input of tx.inputs) {
        const out = (await chain!.call('gettxout', [toDisplayHex(input.prevTxid), input.prevIndex, true])) as {
          scriptPubKey: { addresses: string[] };
        };
        keys.push(await wallet.call('dumpprivkey', [out.scriptPubKey.addresses[0]]));
      }
      return rpc.call('signrawtransaction', [params[0], [], keys]);
    },
  };
  const s = senderWith({ wallet: signing });
  const a = (await s.prepare(payload()))!;
  assert.ok(asked.includes('signrawtransactionwithwallet'));
  assert.ok(!asked.includes('dumpprivkey'), asked.join());
  await s.broadcast(a);
  await chain!.mine(1);
  assert.equal((await s.status(a)).state, 'included');
});

test('failures are typed: another network, no funds, bad attempts, bad options, an unreachable node', async () => {
  await assert.rejects(senderWith({ network: 'testnet' }).prepare(payload()), code('CHAIN_MISMATCH'));
  await assert.rejects(
    senderWith({ wallet: answering(wallet, { listunspent: () => [] }) }).prepare(payload()),
    code('CHAIN_FUNDS'),
  );
  await assert.rejects(sender.broadcast({ ...anchor, raw: anchor.raw.slice(0, -2) }), code('INVALID_ARGUMENT'));
  await assert.rejects(sender.status({ ...anchor, txid: '00'.repeat(32) }), code('INVALID_ARGUMENT'));
  await assert.rejects(sender.prepare({ ...payload(), root: new Uint8Array(31) }), code('INVALID_ARGUMENT'));
  // A replacement must anchor the same root.
  await assert.rejects(sender.prepare(payload(), anchor), code('INVALID_ARGUMENT'));
  assert.throws(() => senderWith({ network: 'main' }), code('INVALID_ARGUMENT'));
  assert.throws(() => senderWith({ maxFeeRateSatVb: 0 }), code('INVALID_ARGUMENT'));
  assert.throws(() => senderWith({ fallbackFeeRateSatVb: CAP_SAT_VB + 1 }), code('INVALID_ARGUMENT'));
  const nowhere = bitcoinRpc({ url: 'http://127.0.0.1:9/', password: 'x', timeoutMs: 2_000 });
  await assert.rejects(senderWith({ rpc: nowhere }).status(anchor), code('CHAIN_RPC_UNREACHABLE'));
});
