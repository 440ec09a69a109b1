import { RemembrancerError, errorMessage } from '@vaultmesh/core';
import { createPublicClient, http, type Hex } from 'viem';
import { BitcoinRpcError, type BitcoinRpcCaller } from '../bitcoin/bitcoin-rpc.js';

/*
 * How deep a block is on this node's own view of a chain: what a node checks before it accepts a
 * peer's finalized chain anchor (the evidence proves a transaction is in *a* block; only a chain
 * node says whether that block is on the best chain). 0: not on the best chain.
 */

function unreachable(what: string, e: unknown): RemembrancerError {
  return e instanceof RemembrancerError
    ? e
    : new RemembrancerError('CHAIN_RPC_UNREACHABLE', `${what}: ${errorMessage(e)}`, { cause: e });
}

/** EVM: the block at `height` on the node's chain must be `blockHash`; then head − height + 1. */
export async function evmBlockConfirmations(
  rpcUrl: string,
  timeoutMs: number,
  blockHash: string,
  height: number,
): Promise<number> {
  const client = createPublicClient({ transport: http(rpcUrl, { timeout: timeoutMs, retryCount: 0 }) });
  try {
    const [block, head] = await Promise.all([
      client.getBlock({ blockNumber: BigInt(height) }).catch(() => undefined),
      client.getBlockNumber({ cacheTime: 0 }),
    ]);
    if (block === undefined || block.hash?.toLowerCase() !== (blockHash.toLowerCase() as Hex)) return 0;
    return Number(head - BigInt(height) + 1n);
  } catch (e) {
    throw unreachable(`the EVM node at ${rpcUrl}`, e);
  }
}

/** Bitcoin: getblockheader's confirmations (bitcoind: -1 for a block off the best chain). */
export async function bitcoinBlockConfirmations(rpc: BitcoinRpcCaller, blockHash: string): Promise<number> {
  let header: unknown;
  try {
    header = await rpc.call('getblockheader', [blockHash, true]);
  } catch (e) {
    // An unknown block (-5) is on no chain this node follows.
    if (e instanceof BitcoinRpcError && e.rpcCode === -5) return 0;
    throw unreachable('the Bitcoin node', e);
  }
  const c = (header as { confirmations?: unknown } | null)?.confirmations;
  if (typeof c !== 'number' || !Number.isSafeInteger(c))
    throw new RemembrancerError('CHAIN_RPC_ERROR', 'getblockheader answered no confirmations');
  return Math.max(0, c);
}
