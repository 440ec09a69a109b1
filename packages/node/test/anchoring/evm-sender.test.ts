import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { hexToBytes, keccak256, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  RemembrancerError,
  chainEvidenceMembers,
  decodeEvmTransaction,
  toHex,
  verifyEvmAnchor,
  type EvmAnchorVerification,
} from '@vaultmesh/core';
import { startAnvil, type Anvil } from '../../../../test/e2e/harness/anvil.js';
import type { ChainPayload } from '../../src/anchoring/chain/chain-sender.js';
import { evmAnchorEvidence } from '../../src/anchoring/evm/evm-anchor-evidence.js';
import { intrinsicGas, replacementFees } from '../../src/anchoring/evm/evm-fees.js';
import { evmHeaderRlp } from '../../src/anchoring/evm/evm-header-rlp.js';
import { evmRpc, type EvmRpcCaller } from '../../src/anchoring/evm/evm-rpc.js';
import { EvmSender, type EvmSenderOptions } from '../../src/anchoring/evm/evm-sender.js';

// EvmSender against a real anvil: anchors are prepared, broadcast, mined on demand (evm_mine with
// automatic mining off), followed through confirmations, replacements and a reorg, and their
// evidence verifies offline. Each test signs with its own dev account, so nonces never mix.

const GWEI = 1_000_000_000n;
const TEST_TIMEOUT_MS = 20_000;

let chain: Anvil;

before(async () => {
  chain = await startAnvil();
  // Blocks are mined when a test says so: every state it asserts on is one it made.
  await chain.rpc('evm_setAutomine', [false]);
});

after(async () => {
  await chain?.stop();
});

function payload(epoch: number): ChainPayload {
  return {
    root: hexToBytes(keccak256(new TextEncoder().encode(`epoch ${epoch} root`))),
    federationId: 'vaultmesh-evm-sender-test',
    epoch,
  };
}

function sender(key: number, options: Partial<EvmSenderOptions> = {}): EvmSender {
  return new EvmSender({
    chainId: chain.chainId,
    rpcUrl: chain.url,
    privateKey: chain.keys[key]!,
    maxFeePerGasWei: 100n * GWEI,
    timeoutMs: 5_000,
    ...options,
  });
}

const mine = (blocks = 1) => chain.rpc('anvil_mine', [`0x${blocks.toString(16)}`]);

/** The latest block's base fee is exactly `wei` (the one mined next takes it). */
async function setBaseFee(wei: bigint): Promise<void> {
  await chain.rpc('anvil_setNextBlockBaseFeePerGas', [`0x${wei.toString(16)}`]);
  await mine();
}

async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof RemembrancerError, `not a RemembrancerError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

function failsAt(v: EvmAnchorVerification, name: string): void {
  assert.equal(v.ok, false);
  assert.equal(v.checks.at(-1)!.name, name, JSON.stringify(v.checks));
  assert.ok(v.checks.slice(0, -1).every((c) => c.ok));
}

function flip(hex: string, at: number): string {
  const bytes = hexToBytes(hex as Hex);
  bytes[at]! ^= 0x01;
  return `0x${toHex(bytes)}`;
}

test(
  'an anchor goes missing → pending → included, its confirmations grow, and its evidence verifies offline',
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    const s = sender(1);
    assert.equal(s.target, `eip155:${chain.chainId}`);
    assert.equal(s.address, privateKeyToAccount(chain.keys[1]!).address);
    const p = payload(1000);
    const attempt = (await s.prepare(p))!;

    // The attempt is what was signed: its hash, nonce, fees within the caps, the anchor data to self.
    assert.equal(attempt.txid, keccak256(`0x${attempt.raw}`));
    assert.match(attempt.raw, /^02[0-9a-f]+$/);
    assert.equal(attempt.nonce, 0);
    assert.equal(attempt.replaces, undefined);
    assert.equal(attempt.fee.kind, 'eip1559');
    if (attempt.fee.kind !== 'eip1559') return;
    assert.ok(BigInt(attempt.fee.maxFeePerGas) <= 100n * GWEI);
    assert.ok(BigInt(attempt.fee.maxPriorityFeePerGas) <= 2n * GWEI);
    const tx = decodeEvmTransaction(hexToBytes(`0x${attempt.raw}`));
    assert.equal(tx.chainId, BigInt(chain.chainId));
    assert.equal(`0x${toHex(tx.to!)}`, s.address.toLowerCase());
    assert.ok(BigInt(attempt.fee.gasLimit) >= intrinsicGas(tx.data));
    // Plain JSON: an attempt survives the journal.
    assert.deepEqual(JSON.parse(JSON.stringify(attempt)), attempt);

    assert.deepEqual(await s.status(attempt), { state: 'missing' }, 'prepared is not sent');
    await s.broadcast(attempt);
    await s.broadcast(attempt); // the node already has it: not an error
    assert.deepEqual(await s.status(attempt), { state: 'pending' });

    await mine();
    const first = await s.status(attempt);
    assert.equal(first.state, 'included');
    if (first.state !== 'included') return;
    assert.equal(first.confirmations, 1, 'its block is the tip');
    const receipt = (await chain.rpc('eth_getTransactionReceipt', [attempt.txid])) as Record<string, Hex>;
    assert.equal(first.blockHash, receipt.blockHash);
    assert.equal(first.height, Number(receipt.blockNumber));
    assert.deepEqual(first.cost, {
      kind: 'eip1559',
      gasUsed: BigInt(receipt.gasUsed!).toString(),
      feeWei: (BigInt(receipt.gasUsed!) * BigInt(receipt.effectiveGasPrice!)).toString(),
    });
    // Nothing runs at the recipient: exactly the intrinsic gas (EIP-2028 / EIP-7623).
    assert.equal(BigInt(receipt.gasUsed!), intrinsicGas(tx.data));

    await mine(2);
    const third = await s.status(attempt);
    assert.equal(third.state === 'included' && third.confirmations, 3);
    assert.equal(third.state === 'included' && third.blockHash, first.blockHash);
    await s.broadcast(attempt); // mined: the node says "nonce too low", but it is this very transaction

    const ev = await s.evidence(attempt, first.blockHash);
    assert.equal(ev.blockHash, first.blockHash);
    assert.equal(ev.height, first.height);
    const block = (await chain.rpc('eth_getBlockByHash', [first.blockHash, false])) as Record<string, Hex>;
    assert.equal(ev.blockTime, new Date(Number(block.timestamp) * 1000).toISOString().replace('.000Z', 'Z'));
    assert.match(ev.blockTime, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    assert.equal(ev.evidence.type, 'eip155');
    assert.equal(ev.evidence.chain_id, chain.chainId);
    assert.equal(ev.evidence.tx, `0x${attempt.raw}`);

    // Exactly the form federation receipts carry (lower-case 0x hex, these members and no others).
    assert.deepEqual(
      chainEvidenceMembers('FEDERATION_RECEIPT_MALFORMED', ev.evidence, '/evidence', 'eip155'),
      ev.evidence,
    );
    const v = verifyEvmAnchor(ev.evidence, p);
    assert.equal(v.ok, true, JSON.stringify(v.checks));
    assert.match(v.checks[0]!.detail, new RegExp(`^block ${first.height} hash ${first.blockHash} `));

    // Tampering fails at the check it breaks.
    const e = ev.evidence as unknown as { header: string; proof: string[]; tx: string };
    failsAt(verifyEvmAnchor({ ...e, header: e.header.slice(0, -2) }, p), 'header');
    const rootAt = toHex(hexToBytes(e.header as Hex)).indexOf(block.transactionsRoot!.slice(2)) / 2;
    failsAt(verifyEvmAnchor({ ...e, header: flip(e.header, rootAt + 3) }, p), 'tx-proof');
    failsAt(verifyEvmAnchor({ ...e, proof: e.proof.map((n, i) => (i === 0 ? flip(n, 5) : n)) }, p), 'tx-proof');
    failsAt(verifyEvmAnchor({ ...e, tx: flip(e.tx, hexToBytes(e.tx as Hex).length - 40) }, p), 'tx-proof');
    failsAt(verifyEvmAnchor(ev.evidence, { ...p, epoch: 1001 }), 'data');
    failsAt(verifyEvmAnchor(ev.evidence, payload(1001)), 'data');
  },
);

test('concurrent prepares get distinct nonces, one after the other', { timeout: TEST_TIMEOUT_MS }, async () => {
  const s = sender(2);
  const attempts = (await Promise.all([1, 2, 3, 4, 5].map((i) => s.prepare(payload(2000 + i))))).map((a) => a!);
  assert.deepEqual(attempts.map((a) => a.nonce).sort(), [0, 1, 2, 3, 4]);
  // Not broadcast yet, so the node's pending count is still 0: the next comes from this instance.
  assert.equal((await s.prepare(payload(2006)))!.nonce, 5);
  for (const a of attempts) await s.broadcast(a);
  await mine();
  for (const a of attempts) assert.equal((await s.status(a)).state, 'included');
  // Another instance (a restart) starts from the node's pending count.
  assert.equal((await sender(2).prepare(payload(2007)))!.nonce, 5);
});

test(
  'a stuck anchor is replaced by one paying more, which is included while the original is conflicted',
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const s = sender(3);
    const p = payload(3000);
    await setBaseFee(GWEI);
    const stuck = (await s.prepare(p))!;
    await s.broadcast(stuck);
    assert.deepEqual(await s.status(stuck), { state: 'pending' });
    // The base fee jumps far above what the attempt offers (2 × 1 gwei + tip): no block takes it.
    await setBaseFee(40n * GWEI);
    await mine();
    // anvil drops from its pool a transaction whose fee cap is below the base fee of the block it
    // mines (geth would keep it queued): the attempt is unknown, and sending it again is refused
    // until the base fee falls, which is no refusal for good.
    const unmined = await s.status(stuck);
    t.diagnostic(`the stuck attempt under a 40 gwei base fee: ${unmined.state}`);
    assert.ok(unmined.state === 'missing' || unmined.state === 'pending', JSON.stringify(unmined));
    if (unmined.state === 'missing') {
      await rejectsWith(s.broadcast(stuck), 'CHAIN_RPC_ERROR', /less than block base fee/);
    }

    const replacement = (await s.prepare(p, stuck))!;
    assert.ok(replacement);
    assert.equal(replacement.nonce, stuck.nonce);
    assert.equal(replacement.replaces, stuck.txid);
    assert.notEqual(replacement.txid, stuck.txid);
    if (stuck.fee.kind !== 'eip1559' || replacement.fee.kind !== 'eip1559') return;
    // At least 12.5% more on both, and at least what a new attempt would offer now, within the cap.
    const at = (v: string) => BigInt(v);
    assert.ok(at(replacement.fee.maxFeePerGas) * 8n >= at(stuck.fee.maxFeePerGas) * 9n);
    assert.ok(at(replacement.fee.maxPriorityFeePerGas) * 8n >= at(stuck.fee.maxPriorityFeePerGas) * 9n);
    assert.ok(at(replacement.fee.maxFeePerGas) > 40n * GWEI, 'it pays the base fee that holds the original');
    assert.ok(at(replacement.fee.maxFeePerGas) <= 100n * GWEI);
    assert.equal(replacement.fee.gasLimit, stuck.fee.gasLimit);

    await s.broadcast(replacement);
    await mine();
    const included = await s.status(replacement);
    assert.equal(included.state, 'included');
    assert.deepEqual(await s.status(stuck), { state: 'conflicted' });
    // The replaced attempt can never be sent again: its nonce is used.
    await rejectsWith(s.broadcast(stuck), 'CHAIN_TX_REJECTED', /nonce too low/);
    if (included.state !== 'included') return;
    assert.equal(verifyEvmAnchor((await s.evidence(replacement, included.blockHash)).evidence, p).ok, true);
    await setBaseFee(GWEI);
  },
);

test(
  'the fee cap is respected: a replacement the cap leaves no room for is not offered',
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    await setBaseFee(GWEI);
    const tip = BigInt((await chain.rpc('eth_maxPriorityFeePerGas')) as Hex);
    const wanted = 2n * GWEI + tip;
    // A cap of exactly what a new attempt wants: the attempt offers it, a replacement cannot go higher.
    const atCap = sender(4, { maxFeePerGasWei: wanted });
    const a = (await atCap.prepare(payload(4000)))!;
    assert.equal(a.fee.kind === 'eip1559' && a.fee.maxFeePerGas, wanted.toString());
    assert.equal(await atCap.prepare(payload(4000), a), undefined);

    // A cap 11% above it: one replacement (clamped, still 10% up), then none.
    const cap = (wanted * 111n) / 100n;
    const roomy = sender(4, { maxFeePerGasWei: cap });
    const b = (await roomy.prepare(payload(4000)))!;
    const c = (await roomy.prepare(payload(4000), b))!;
    assert.ok(c);
    assert.equal(c.fee.kind === 'eip1559' && c.fee.maxFeePerGas, cap.toString());
    assert.equal(await roomy.prepare(payload(4000), c), undefined);

    // A cap below the base fee still signs (the attempt waits for the fee to fall), never above the cap.
    const low = sender(4, { maxFeePerGasWei: GWEI / 2n, maxPriorityFeePerGasWei: GWEI });
    const d = (await low.prepare(payload(4001)))!;
    assert.equal(d.fee.kind === 'eip1559' && d.fee.maxFeePerGas, (GWEI / 2n).toString());
    assert.equal(d.fee.kind === 'eip1559' && d.fee.maxPriorityFeePerGas, (GWEI / 2n).toString(), 'tip ≤ fee cap');

    // The replacement rule itself: 12.5% up, the current estimate if higher, 10% the least offered.
    const caps = { maxFeePerGas: 1000n, maxPriorityFeePerGas: 100n };
    const old = { maxFeePerGas: 400n, maxPriorityFeePerGas: 80n };
    assert.deepEqual(replacementFees(old, { maxFeePerGas: 300n, maxPriorityFeePerGas: 10n }, caps), {
      maxFeePerGas: 450n,
      maxPriorityFeePerGas: 90n,
    });
    assert.deepEqual(replacementFees(old, { maxFeePerGas: 900n, maxPriorityFeePerGas: 95n }, caps), {
      maxFeePerGas: 900n,
      maxPriorityFeePerGas: 95n,
    });
    assert.deepEqual(replacementFees({ maxFeePerGas: 401n, maxPriorityFeePerGas: 81n }, old, caps), {
      maxFeePerGas: 452n, // 401 × 9 / 8 = 451.125, rounded up
      maxPriorityFeePerGas: 92n,
    });
    assert.equal(
      replacementFees({ maxFeePerGas: 400n, maxPriorityFeePerGas: 91n }, old, caps),
      undefined,
      'tip 100 < 91 × 1.1',
    );
    assert.equal(
      replacementFees({ maxFeePerGas: 910n, maxPriorityFeePerGas: 10n }, old, caps),
      undefined,
      'fee 1000 < 910 × 1.1',
    );
  },
);

test(
  'a reorg that drops the block sends the anchor back, and broadcasting it again gets it included again',
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const s = sender(5);
    const p = payload(5000);
    const attempt = (await s.prepare(p))!;
    await s.broadcast(attempt);
    await mine();
    const before = await s.status(attempt);
    assert.equal(before.state, 'included');
    if (before.state !== 'included') return;

    // anvil_reorg replaces the last block with one of another hash that does not hold the anchor.
    await chain.rpc('anvil_reorg', [1, []]);
    const gone = await s.status(attempt);
    t.diagnostic(`after anvil_reorg: ${gone.state}`);
    assert.ok(gone.state === 'missing' || gone.state === 'pending', JSON.stringify(gone));
    const replacedBlock = (await chain.rpc('eth_getBlockByNumber', [`0x${before.height.toString(16)}`, false])) as {
      hash: string;
    };
    assert.notEqual(replacedBlock.hash, before.blockHash);
    await rejectsWith(s.evidence(attempt, before.blockHash), 'NOT_FOUND');

    await s.broadcast(attempt);
    assert.deepEqual(await s.status(attempt), { state: 'pending' });
    await mine();
    const again = await s.status(attempt);
    assert.equal(again.state, 'included');
    if (again.state !== 'included') return;
    assert.notEqual(again.blockHash, before.blockHash);
    assert.equal(verifyEvmAnchor((await s.evidence(attempt, again.blockHash)).evidence, p).ok, true);

    // A snapshot reverted below the block undoes it too.
    const snapshot = await chain.rpc('evm_snapshot');
    const q = payload(5001);
    const second = (await s.prepare(q))!;
    await s.broadcast(second);
    await mine(2);
    assert.equal((await s.status(second)).state, 'included');
    assert.equal(await chain.rpc('evm_revert', [snapshot]), true);
    const reverted = await s.status(second);
    t.diagnostic(`after evm_revert: ${reverted.state}`);
    assert.ok(reverted.state === 'missing' || reverted.state === 'pending', JSON.stringify(reverted));
    await s.broadcast(second);
    await mine();
    assert.equal((await s.status(second)).state, 'included');
  },
);

test(
  'the node refuses a transaction whose nonce is used: CHAIN_TX_REJECTED',
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    const s = sender(6);
    const first = (await s.prepare(payload(6000)))!;
    await s.broadcast(first);
    await mine();
    // A "replacement" of a mined attempt: same nonce, another transaction.
    const late = (await s.prepare(payload(6001), first))!;
    await rejectsWith(s.broadcast(late), 'CHAIN_TX_REJECTED', /nonce too low/);
    assert.deepEqual(await s.status(late), { state: 'conflicted' });
    // An attempt whose raw bytes are not its txid (a damaged journal) is refused before any call.
    await rejectsWith(s.broadcast({ ...first, raw: first.raw.slice(0, -2) + '00' }), 'INVALID_ARGUMENT');
  },
);

test(
  'a node of another chain, an unfunded account and a dead endpoint fail with their codes',
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    const wrong = sender(7, { chainId: chain.chainId + 1 });
    await rejectsWith(wrong.prepare(payload(7000)), 'CHAIN_MISMATCH', new RegExp(`on chain ${chain.chainId}, not`));
    const signed = (await sender(7).prepare(payload(7000)))!;
    await rejectsWith(wrong.broadcast(signed), 'CHAIN_MISMATCH');
    await rejectsWith(wrong.status(signed), 'CHAIN_MISMATCH');

    const poor = sender(0, { privateKey: `0x${'11'.repeat(32)}` });
    await rejectsWith(poor.prepare(payload(7001)), 'CHAIN_FUNDS');

    // A port nobody listens on, and one that accepts and never answers.
    const closed = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as { port: number };
        srv.close(() => resolve(port));
      });
    });
    await rejectsWith(
      sender(7, { rpcUrl: `http://127.0.0.1:${closed}` }).prepare(payload(7002)),
      'CHAIN_RPC_UNREACHABLE',
    );
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as { port: number };
      const started = Date.now();
      await rejectsWith(
        sender(7, { rpcUrl: `http://127.0.0.1:${port}`, timeoutMs: 300 }).status(signed),
        'CHAIN_RPC_UNREACHABLE',
        /within 300 ms/,
      );
      assert.ok(Date.now() - started < 5_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }

    assert.throws(
      () => sender(7, { privateKey: '0x1234' }),
      (e: unknown) => e instanceof RemembrancerError && e.code === 'INVALID_ARGUMENT',
    );
    assert.throws(
      () => sender(7, { maxFeePerGasWei: 0n }),
      (e: unknown) => e instanceof RemembrancerError && e.code === 'INVALID_ARGUMENT',
    );
  },
);

test(
  'the evidence builder refuses a node whose answers do not hold together',
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    const s = sender(8);
    const attempt = (await s.prepare(payload(8000)))!;
    await s.broadcast(attempt);
    // Another transaction in the same block, so the trie has more than one leaf.
    const other = (await sender(9).prepare(payload(8001)))!;
    await sender(9).broadcast(other);
    await mine();
    const status = await s.status(attempt);
    assert.equal(status.state, 'included');
    if (status.state !== 'included') return;
    const rpc = evmRpc({ url: chain.url });
    const good = await evmAnchorEvidence(rpc, attempt.txid, status.blockHash);
    assert.equal(verifyEvmAnchor(good, payload(8000)).ok, true);

    /** The node, with one method's answer rewritten. */
    const lying = (
      method: string,
      rewrite: (answer: unknown, params: readonly unknown[]) => unknown,
    ): EvmRpcCaller => ({
      async call(m, params = []) {
        if (m === method) return rewrite(m === 'debug_getRawHeader' ? null : await rpc.call(m, params), params);
        return rpc.call(m, params);
      },
    });
    const header = (await evmHeaderRlp(rpc, status.blockHash)).rlp;
    // A node with debug_getRawHeader: its bytes are used when they hash to the block…
    const withDebug = lying('debug_getRawHeader', () => `0x${toHex(header)}`);
    assert.equal((await evmHeaderRlp(withDebug, status.blockHash)).source, 'debug_getRawHeader');
    assert.deepEqual(await evmAnchorEvidence(withDebug, attempt.txid, status.blockHash), good);
    // …and refused when they do not.
    const bad = header.slice();
    bad[bad.length - 1]! ^= 1;
    await rejectsWith(
      evmHeaderRlp(
        lying('debug_getRawHeader', () => `0x${toHex(bad)}`),
        status.blockHash,
      ),
      'EVM_PROOF_INVALID',
    );
    // A block JSON field that is not the block's.
    await rejectsWith(
      evmAnchorEvidence(
        lying('eth_getBlockByHash', (b) => ({ ...(b as object), gasUsed: '0x1' })),
        attempt.txid,
        status.blockHash,
      ),
      'EVM_PROOF_INVALID',
      /hashes to/,
    );
    // A raw transaction that is not the one listed.
    await rejectsWith(
      evmAnchorEvidence(
        lying('eth_getRawTransactionByHash', (raw, params) => (params[0] === other.txid ? `0x${attempt.raw}` : raw)),
        attempt.txid,
        status.blockHash,
      ),
      'EVM_PROOF_INVALID',
      /hashes to/,
    );
    // Transactions listed out of order: every one hashes right, the trie root does not.
    await rejectsWith(
      evmAnchorEvidence(
        lying('eth_getBlockByHash', (b) => {
          const block = b as { transactions: string[] };
          return { ...block, transactions: [...block.transactions].reverse() };
        }),
        attempt.txid,
        status.blockHash,
      ),
      'EVM_PROOF_INVALID',
      /trie root/,
    );
    await rejectsWith(evmAnchorEvidence(rpc, `0x${'00'.repeat(32)}`, status.blockHash), 'NOT_FOUND');
  },
);
