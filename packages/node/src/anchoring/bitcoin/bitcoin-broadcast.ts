import { setTimeout as sleep } from 'node:timers/promises';
import { RemembrancerError, toDisplayHex, type BitcoinTransaction } from '@vaultmesh/core';
import type { ChainAttempt } from '../chain/chain-sender.js';
import { BitcoinRpcError, type BitcoinRpcCaller } from './bitcoin-rpc.js';
import { isRpcNotFound, rpcObject } from './bitcoin-rpc-answer.js';
import { nodeCoin } from './bitcoin-coins.js';
import { attemptTransaction } from './bitcoin-attempt.js';

/*
 * Sending a signed anchor. Bitcoin Core answers sendrawtransaction after its mempool took or
 * refused the transaction, with the reason. bcoin 1.0.2 answers with the txid at once and hands
 * the transaction to its mempool afterwards; a refusal only reaches its log. So after the call
 * the node is asked whether it holds the transaction, and if not, what can be seen of why.
 */

export const DEFAULT_ACCEPT_TIMEOUT_MS = 5_000;
const ACCEPT_POLL_MS = 50;

/** bitcoind's RPC_VERIFY_ALREADY_IN_CHAIN. */
const RPC_ALREADY_IN_CHAIN = -27;
/** bitcoind's RPC_DESERIALIZATION_ERROR, RPC_VERIFY_ERROR, RPC_VERIFY_REJECTED: the transaction is refused. */
const RPC_REFUSALS = new Set([-22, -25, -26]);
const ALREADY_KNOWN =
  /already in (?:the )?block ?chain|outputs already in utxo set|already in (?:the )?mempool|txn-already-known/i;

export interface BroadcastOptions {
  /** How long the node may take to hold a transaction it answered for (bcoin), ms. */
  readonly acceptTimeoutMs: number;
}

/** Whether the node holds `txid`: in its mempool, or in a block (it answers with a blockhash). */
export async function nodeHolds(rpc: BitcoinRpcCaller, txid: string): Promise<'mempool' | 'block' | undefined> {
  let answer: unknown;
  try {
    answer = await rpc.call('getrawtransaction', [txid, true]);
  } catch (e) {
    if (isRpcNotFound(e)) return undefined;
    throw e;
  }
  const tx = rpcObject('getrawtransaction', answer);
  return typeof tx.blockhash === 'string' ? 'block' : 'mempool';
}

/** Whether `txid` is in the node's mempool now. */
export async function inMempool(rpc: BitcoinRpcCaller, txid: string): Promise<boolean> {
  try {
    rpcObject('getmempoolentry', await rpc.call('getmempoolentry', [txid]));
    return true;
  } catch (e) {
    if (isRpcNotFound(e)) return false;
    throw e;
  }
}

function rejected(txid: string, why: string, cause?: unknown): RemembrancerError {
  return new RemembrancerError('CHAIN_TX_REJECTED', `the node refused transaction ${txid}: ${why}`, { cause });
}

/** The outpoints of `tx` the node has no unspent output for (spent by a block, or for Bitcoin Core by a mempool transaction; or unknown). */
async function goneInputs(rpc: BitcoinRpcCaller, tx: BitcoinTransaction): Promise<string[]> {
  const gone: string[] = [];
  for (const input of tx.inputs) {
    const prev = toDisplayHex(input.prevTxid);
    if ((await nodeCoin(rpc, prev, input.prevIndex, true)) === undefined) gone.push(`${prev}:${input.prevIndex}`);
  }
  return gone;
}

const inputsGone = (attempt: ChainAttempt, gone: readonly string[]) =>
  rejected(attempt.txid, `its inputs ${gone.join(', ')} are spent by another transaction, or unknown`);

/**
 * What can be seen of why the node does not hold a transaction it was sent: its inputs gone, or
 * the transaction it replaces still in the mempool (a node without BIP 125 replacement, or a fee
 * too low for one).
 */
async function whyNotHeld(
  rpc: BitcoinRpcCaller,
  attempt: ChainAttempt,
  tx: BitcoinTransaction,
  waitedMs: number,
): Promise<RemembrancerError> {
  const gone = await goneInputs(rpc, tx);
  if (gone.length > 0) return inputsGone(attempt, gone);
  if (attempt.replaces !== undefined && (await inMempool(rpc, attempt.replaces))) {
    return rejected(
      attempt.txid,
      `it kept ${attempt.replaces}, which this transaction replaces, in its mempool (no BIP 125 replacement there, or too low a fee for one)`,
    );
  }
  return new RemembrancerError(
    'CHAIN_RPC_ERROR',
    `the node answered sendrawtransaction but holds ${attempt.txid} neither in its mempool nor in a block ` +
      `${waitedMs} ms later, with all its inputs unspent (bcoin logs its reasons only)`,
  );
}

/**
 * Sends `attempt.raw` and returns once the node holds it. A transaction the node already has (in
 * its mempool or chain) is success. Throws CHAIN_TX_REJECTED when the node refuses it for good,
 * with the node's reason when it gives one; CHAIN_RPC_* when the node fails.
 */
export async function broadcastBitcoinAttempt(
  rpc: BitcoinRpcCaller,
  attempt: ChainAttempt,
  options: BroadcastOptions,
): Promise<void> {
  const tx = attemptTransaction(attempt);
  try {
    await rpc.call('sendrawtransaction', [attempt.raw]);
  } catch (e) {
    if (!(e instanceof BitcoinRpcError)) throw e;
    if (e.rpcCode === RPC_ALREADY_IN_CHAIN || ALREADY_KNOWN.test(e.message)) return;
    if (e.rpcCode !== undefined && RPC_REFUSALS.has(e.rpcCode)) throw rejected(attempt.txid, e.message, e);
    throw e;
  }
  const started = Date.now();
  for (let look = 0; ; look++) {
    if ((await nodeHolds(rpc, attempt.txid)) !== undefined) return;
    // Inputs spent in a block will not come back: no need to wait for the node to decide. (Looked
    // again after: the transaction itself may have been mined meanwhile, spending them.)
    if (look === 0) {
      const gone = await goneInputs(rpc, tx);
      if (gone.length > 0 && (await nodeHolds(rpc, attempt.txid)) === undefined) throw inputsGone(attempt, gone);
    }
    const waited = Date.now() - started;
    if (waited >= options.acceptTimeoutMs) throw await whyNotHeld(rpc, attempt, tx, waited);
    await sleep(ACCEPT_POLL_MS);
  }
}
