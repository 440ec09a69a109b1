import {
  MAX_EVM_TX_BYTES,
  RemembrancerError,
  buildEvmTxProof,
  bytesEqual,
  decodeEvmBlockHeader,
  evmTxFromProof,
  toHex,
  type EvmAnchorEvidence,
} from '@vaultmesh/core';
import { keccak256 } from 'viem';
import { evmHeaderRlp } from './evm-header-rlp.js';
import { rpcData, rpcHash, rpcObject } from './evm-rpc-answer.js';
import type { EvmRpcCaller } from './evm-rpc.js';

/** Raw transactions asked for at once: a mainnet block holds a few hundred. */
const FETCH_CONCURRENCY = 16;

const inconsistent = (message: string) => new RemembrancerError('EVM_PROOF_INVALID', message);
const hex0x = (bytes: Uint8Array) => `0x${toHex(bytes)}`;

function hashArgument(value: string, what: string): `0x${string}` {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(value)) {
    throw new RemembrancerError('INVALID_ARGUMENT', `${what} is 0x and 64 hex digits`);
  }
  return value.toLowerCase() as `0x${string}`;
}

/** The raw transaction `hash` exactly as the node's blocks carry it; it must hash to `hash`. */
async function rawTransaction(rpc: EvmRpcCaller, hash: `0x${string}`, index: number): Promise<Uint8Array> {
  const method = 'eth_getRawTransactionByHash';
  const answer = await rpc.call(method, [hash]);
  // A node that lists a transaction in a block yet cannot serve it prunes its transaction index
  // (geth's history.transactions): it cannot give evidence, which is not the same as a bad block.
  if (answer === null) {
    throw new RemembrancerError(
      'CHAIN_RPC_ERROR',
      `${method} does not know transaction ${index} (${hash}) of the block`,
    );
  }
  const raw = rpcData(method, answer, `transaction ${hash}`, MAX_EVM_TX_BYTES);
  if (raw.length === 0) throw new RemembrancerError('CHAIN_RPC_ERROR', `${method} answered no bytes for ${hash}`);
  const got = keccak256(raw);
  if (got !== hash) throw inconsistent(`the node's raw transaction ${index} hashes to ${got}, not ${hash}`);
  return raw;
}

async function rawTransactions(rpc: EvmRpcCaller, hashes: readonly `0x${string}`[]): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let at = 0; at < hashes.length; at += FETCH_CONCURRENCY) {
    const batch = hashes.slice(at, at + FETCH_CONCURRENCY);
    out.push(...(await Promise.all(batch.map((h, i) => rawTransaction(rpc, h, at + i)))));
  }
  return out;
}

/**
 * Builds, from an EVM node, the evidence that transaction `txHash` is in block `blockHash`: the
 * block header's RLP, the transaction's index, the transaction-trie proof of it and the raw
 * transaction, as core's verifyEvmAnchor checks them offline.
 *
 * The node is not trusted to be consistent: each raw transaction must hash to the hash the block
 * lists, the trie of all of them (in block order) must have the header's transactionsRoot, and
 * the header must hash to `blockHash`, or this throws EVM_PROOF_INVALID rather than return
 * evidence that would not verify. Whether the block is canonical and confirmed is the caller's
 * to judge.
 *
 * Fails with INVALID_ARGUMENT (hashes not 32 bytes of hex), NOT_FOUND (the node does not know the
 * block, or the transaction is not in it), EVM_PROOF_INVALID (inconsistent answers),
 * CHAIN_RPC_ERROR (a refusal, a malformed answer, a transaction the node lists but does not
 * serve) or CHAIN_RPC_UNREACHABLE.
 */
export async function evmAnchorEvidence(
  rpc: EvmRpcCaller,
  txHash: string,
  blockHash: string,
): Promise<EvmAnchorEvidence> {
  const tx = hashArgument(txHash, 'a transaction hash');
  const hash = hashArgument(blockHash, 'a block hash');

  const method = 'eth_getBlockByHash';
  const answer = await rpc.call(method, [hash, false]);
  if (answer === null) throw new RemembrancerError('NOT_FOUND', `the node does not know block ${hash}`);
  const block = rpcObject(method, answer, 'a block');
  if (rpcHash(method, block.hash, 'a block hash') !== hash) {
    throw new RemembrancerError('CHAIN_RPC_ERROR', `${method} answered another block than ${hash}`);
  }
  const listed: unknown = block.transactions;
  if (!Array.isArray(listed)) throw new RemembrancerError('CHAIN_RPC_ERROR', `${method} answered no transaction list`);
  const hashes = listed.map((h: unknown, i) => rpcHash(method, h, `transaction ${i}`));
  const index = hashes.indexOf(tx);
  if (index < 0) throw new RemembrancerError('NOT_FOUND', `transaction ${tx} is not in block ${hash}`);

  const raws = await rawTransactions(rpc, hashes);
  const header = (await evmHeaderRlp(rpc, hash, block)).rlp;
  const { transactionsRoot } = decodeEvmBlockHeader(header);
  const { root, proof } = buildEvmTxProof(raws, index);
  if (!bytesEqual(root, transactionsRoot)) {
    throw inconsistent(
      `block ${hash}: its ${raws.length} transactions make trie root ${hex0x(root)}, ` +
        `the header commits to ${hex0x(transactionsRoot)}`,
    );
  }
  // What a verifier will walk: built and walked by two different pieces of code.
  if (!bytesEqual(evmTxFromProof(transactionsRoot, index, proof), raws[index]!)) {
    throw new RemembrancerError('INTERNAL', `the proof built for transaction ${index} proves another value`);
  }
  return {
    header: hex0x(header),
    tx_index: index,
    proof: proof.map(hex0x),
    tx: hex0x(raws[index]!),
  };
}
