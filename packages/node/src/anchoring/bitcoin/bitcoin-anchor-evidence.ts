import {
  RemembrancerError,
  bitcoinBlockHash,
  bitcoinMerkleBranch,
  bitcoinMerkleRoot,
  bitcoinTxid,
  bytesEqual,
  fromDisplayHex,
  parseBlockHeader,
  parseTransaction,
  toDisplayHex,
  toHex,
  type BitcoinAnchorEvidence,
} from '@vaultmesh/core';
import type { BitcoinRpcCaller } from './bitcoin-rpc.js';

const HASH_HEX = /^[0-9a-fA-F]{64}$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** The node's answer is not what the method returns: a broken or foreign node, not a bad proof. */
function malformedAnswer(method: string, what: string): RemembrancerError {
  return new RemembrancerError('CHAIN_RPC_ERROR', `${method} answered ${what}`);
}

/** The node's answers contradict each other: evidence built from them would not verify. */
function inconsistent(message: string): RemembrancerError {
  return new RemembrancerError('BITCOIN_PROOF_INVALID', message);
}

function displayHash(value: string, what: string): string {
  if (!HASH_HEX.test(value)) throw new RemembrancerError('INVALID_ARGUMENT', `${what} must be 64 hex digits`);
  return value.toLowerCase();
}

function objectAnswer(method: string, answer: unknown): Record<string, unknown> {
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) {
    throw malformedAnswer(method, 'something that is not an object');
  }
  return answer as Record<string, unknown>;
}

function hexBytes(method: string, value: unknown, what: string): Uint8Array {
  if (typeof value !== 'string' || !HEX.test(value)) throw malformedAnswer(method, `${what} that is not hex`);
  return Uint8Array.from(Buffer.from(value, 'hex'));
}

/**
 * The confirmed transaction `txid`: its bytes as the node serializes them (with witnesses, if any)
 * and the block the node says holds it. `getrawtransaction` finds a confirmed transaction only
 * with a transaction index (bitcoind -txindex, bcoin index-tx).
 */
async function fetchTransaction(
  rpc: BitcoinRpcCaller,
  txid: string,
): Promise<{ bytes: Uint8Array; blockHash: string | undefined }> {
  const method = 'getrawtransaction';
  const answer = objectAnswer(method, await rpc.call(method, [txid, true]));
  const bytes = hexBytes(method, answer.hex, 'a hex');
  const blockHash = answer.blockhash;
  if (blockHash !== undefined && blockHash !== null && (typeof blockHash !== 'string' || !HASH_HEX.test(blockHash))) {
    throw malformedAnswer(method, 'a blockhash that is not a hash');
  }
  return { bytes, blockHash: typeof blockHash === 'string' ? blockHash.toLowerCase() : undefined };
}

/**
 * Fetches from a bitcoind-compatible node what an offline verifier needs to check that the
 * transaction `txidDisplayHex` is in the block `blockHashDisplayHex` (default: the block the node
 * says holds it): the 80-byte header, the transaction, its position and Merkle branch, the height.
 * The result is what verifyBitcoinAnchor takes.
 *
 * The node is not trusted to be consistent: the header must hash to the block hash, the
 * transaction to its txid, and the block's txids (in order) to the header's merkle root, or this
 * throws BITCOIN_PROOF_INVALID rather than return evidence that would not verify. Whether the
 * block is in the best chain is the caller's to judge (a block the node reports as off its best
 * chain, confirmations below 1, is refused here).
 *
 * Fails with INVALID_ARGUMENT (hashes not 64 hex digits), NOT_FOUND (the transaction is not in a
 * block yet, or not in the given block), BITCOIN_PROOF_INVALID (inconsistent answers, or a block
 * off the best chain),
 * BITCOIN_MALFORMED (the node's transaction does not parse), CHAIN_RPC_ERROR (a refusal, e.g. an unknown txid, or a malformed answer) or
 * CHAIN_RPC_UNREACHABLE.
 */
export async function bitcoinAnchorEvidence(
  rpc: BitcoinRpcCaller,
  txidDisplayHex: string,
  blockHashDisplayHex?: string,
): Promise<BitcoinAnchorEvidence> {
  const txid = displayHash(txidDisplayHex, 'the txid');
  const wantedBlock =
    blockHashDisplayHex === undefined ? undefined : displayHash(blockHashDisplayHex, 'the block hash');

  const tx = await fetchTransaction(rpc, txid);
  const blockHash = wantedBlock ?? tx.blockHash;
  if (blockHash === undefined) throw new RemembrancerError('NOT_FOUND', `transaction ${txid} is not in a block yet`);
  // The node serializes the transaction it has under that id; it must be the one that hashes to it.
  const txBytes = tx.bytes;
  if (toDisplayHex(bitcoinTxid(parseTransaction(txBytes))) !== txid) {
    throw inconsistent(`the node's transaction ${txid} does not hash to that txid`);
  }

  const headerAnswer = await rpc.call('getblockheader', [blockHash, false]);
  const header = hexBytes('getblockheader', headerAnswer, 'a header');
  if (header.length !== 80) throw malformedAnswer('getblockheader', `${header.length} bytes, not an 80-byte header`);
  if (toDisplayHex(bitcoinBlockHash(header)) !== blockHash) {
    throw inconsistent(`the node's header for block ${blockHash} does not hash to that block hash`);
  }

  // Verbosity 1: the block's txids in block order (bitcoind reads 1, bcoin reads 1 as true).
  const block = objectAnswer('getblock', await rpc.call('getblock', [blockHash, 1]));
  const height = block.height;
  if (typeof height !== 'number' || !Number.isSafeInteger(height) || height < 0) {
    throw malformedAnswer('getblock', 'a height that is not a non-negative integer');
  }
  if (typeof block.confirmations === 'number' && block.confirmations < 1) {
    throw inconsistent(`block ${blockHash} is not in the node's best chain (confirmations ${block.confirmations})`);
  }
  const listed = block.tx;
  if (
    !Array.isArray(listed) ||
    listed.length === 0 ||
    !listed.every((t) => typeof t === 'string' && HASH_HEX.test(t))
  ) {
    throw malformedAnswer('getblock', 'a tx list that is not txids');
  }
  const txids = (listed as string[]).map((t) => fromDisplayHex(t));
  const wanted = fromDisplayHex(txid);
  const index = txids.findIndex((t) => bytesEqual(t, wanted));
  if (index < 0) throw new RemembrancerError('NOT_FOUND', `transaction ${txid} is not in block ${blockHash}`);

  const computed = bitcoinMerkleRoot(txids);
  const committed = parseBlockHeader(header).merkleRoot;
  if (!bytesEqual(computed, committed)) {
    throw inconsistent(
      `block ${blockHash}: its ${txids.length} txids make merkle root ${toDisplayHex(computed)}, ` +
        `the header commits to ${toDisplayHex(committed)}`,
    );
  }

  return {
    header: toHex(header),
    tx: toHex(txBytes),
    index,
    branch: bitcoinMerkleBranch(txids, index).map((h) => toHex(h)),
    height,
  };
}
