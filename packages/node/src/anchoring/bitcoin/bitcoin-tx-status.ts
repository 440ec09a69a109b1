import { RemembrancerError, bitcoinTxid, parseTransaction, toDisplayHex } from '@vaultmesh/core';
import type { ChainAttempt, ChainTxStatus } from '../chain/chain-sender.js';
import { BitcoinRpcError, type BitcoinRpcCaller } from './bitcoin-rpc.js';
import { isRpcNotFound, rpcHash, rpcHex, rpcInteger, rpcObject } from './bitcoin-rpc-answer.js';
import { nodeCoin } from './bitcoin-coins.js';
import { inMempool } from './bitcoin-broadcast.js';
import { bitcoinVsize } from './bitcoin-vsize.js';
import { attemptFeeSats, attemptTransaction } from './bitcoin-attempt.js';

/*
 * Where an anchor transaction is. No single answer is taken on its word: a block the node names
 * must be the one its best chain has at that height (bcoin counts confirmations of any block it
 * stores, best chain or not), the transaction it returns must hash to the txid asked for, and a
 * transaction in no block is pending only if the mempool itself holds it.
 */

/** The block of the node's best chain at `blockHash`'s height, if that is `blockHash`: its height and depth. */
export async function bestChainBlock(
  rpc: BitcoinRpcCaller,
  blockHash: string,
): Promise<{ height: number; confirmations: number } | undefined> {
  let header: Record<string, unknown>;
  try {
    header = rpcObject('getblockheader', await rpc.call('getblockheader', [blockHash, true]));
  } catch (e) {
    if (isRpcNotFound(e)) return undefined;
    throw e;
  }
  const height = rpcInteger('getblockheader', header.height, 'a height', 0);
  // Bitcoin Core answers -1 for a block off its best chain.
  const confirmations = rpcInteger('getblockheader', header.confirmations, 'confirmations', -1);
  if (confirmations < 1) return undefined;
  let atHeight: string;
  try {
    atHeight = rpcHash('getblockhash', await rpc.call('getblockhash', [height]), 'a block hash');
  } catch (e) {
    if (!(e instanceof BitcoinRpcError)) throw e;
    // The best chain got shorter than `height` meanwhile (a reorganisation under way).
    const tip = rpcInteger('getblockcount', await rpc.call('getblockcount', []), 'a height', 0);
    if (tip < height) return undefined;
    throw e;
  }
  return atHeight === blockHash ? { height, confirmations } : undefined;
}

/** The transaction `txid` in a block of the best chain, or in the mempool, or neither. */
async function lookUp(
  rpc: BitcoinRpcCaller,
  attempt: ChainAttempt,
): Promise<ChainTxStatus | { state: 'pending' } | undefined> {
  const method = 'getrawtransaction';
  let answer: Record<string, unknown>;
  try {
    answer = rpcObject(method, await rpc.call(method, [attempt.txid, true]));
  } catch (e) {
    if (isRpcNotFound(e)) return undefined;
    throw e;
  }
  const raw = rpcHex(method, answer.hex, 'a hex');
  let txid: string;
  try {
    txid = toDisplayHex(bitcoinTxid(parseTransaction(raw)));
  } catch (cause) {
    throw new RemembrancerError('CHAIN_RPC_ERROR', `${method} answered a transaction that does not parse`, { cause });
  }
  if (txid !== attempt.txid) {
    throw new RemembrancerError('CHAIN_RPC_ERROR', `${method} answered another transaction than ${attempt.txid}`);
  }
  if (typeof answer.blockhash === 'string') {
    const blockHash = rpcHash(method, answer.blockhash, 'a blockhash');
    const block = await bestChainBlock(rpc, blockHash);
    if (block !== undefined) {
      return {
        state: 'included',
        blockHash,
        height: block.height,
        confirmations: block.confirmations,
        // The txid commits to inputs and outputs, so the fee is the attempt's; the size is the
        // node's copy's (its witnesses are the ones mined).
        cost: { kind: 'btc', vbytes: bitcoinVsize(raw), feeSats: attemptFeeSats(attempt) },
      };
    }
  }
  return (await inMempool(rpc, attempt.txid)) ? { state: 'pending' } : undefined;
}

/** Whether the output `txid:vout` of a best-chain transaction is spent in the best chain. */
async function spentInBestChain(rpc: BitcoinRpcCaller, txid: string, vout: number): Promise<boolean> {
  if ((await nodeCoin(rpc, txid, vout, false)) !== undefined) return false;
  // Not in the UTXO set: spent, or its transaction is in no best-chain block (a reorganisation).
  let prev: Record<string, unknown>;
  try {
    prev = rpcObject('getrawtransaction', await rpc.call('getrawtransaction', [txid, true]));
  } catch (e) {
    if (isRpcNotFound(e)) return false;
    throw e;
  }
  if (typeof prev.blockhash !== 'string') return false;
  const block = await bestChainBlock(rpc, rpcHash('getrawtransaction', prev.blockhash, 'a blockhash'));
  return block !== undefined;
}

/**
 * The status of an attempt: included (in a best-chain block), pending (in the mempool),
 * conflicted (an input spent by a best-chain transaction, so it can never be included) or missing.
 */
export async function bitcoinTxStatus(rpc: BitcoinRpcCaller, attempt: ChainAttempt): Promise<ChainTxStatus> {
  const seen = await lookUp(rpc, attempt);
  if (seen !== undefined) return seen;
  const tx = attemptTransaction(attempt);
  for (const input of tx.inputs) {
    if (await spentInBestChain(rpc, toDisplayHex(input.prevTxid), input.prevIndex)) {
      // Our own transaction may have been mined between the two looks: its inputs are then spent too.
      return (await lookUp(rpc, attempt)) ?? { state: 'conflicted' };
    }
  }
  return { state: 'missing' };
}
