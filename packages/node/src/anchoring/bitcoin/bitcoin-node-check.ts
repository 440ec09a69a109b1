import { RemembrancerError, parseCadenceTarget } from '@vaultmesh/core';
import type { BitcoinRpcCaller } from './bitcoin-rpc.js';
import { isRpcMethodNotFound, rpcObject, rpcString } from './bitcoin-rpc-answer.js';

/*
 * A sender talks to the node of the network its target names, and to one that can find confirmed
 * transactions by txid: without a transaction index, a mined anchor looks to `getrawtransaction`
 * exactly like a dropped one whose inputs went elsewhere, and would be reported conflicted.
 */

/** Our network names (btc:<network>, core's cadence targets) → getblockchaininfo's `chain`. */
const CHAIN_NAMES: Record<string, string> = {
  mainnet: 'main',
  testnet: 'test',
  testnet4: 'testnet4',
  signet: 'signet',
  regtest: 'regtest',
};

/** `network` if it is one a `btc:` target may name, else INVALID_ARGUMENT. */
export function bitcoinNetwork(network: string): string {
  try {
    const target = parseCadenceTarget(`btc:${network}`);
    if (target.kind === 'btc' && CHAIN_NAMES[network] !== undefined) return network;
  } catch {
    // Reported below with the names that are.
  }
  throw new RemembrancerError(
    'INVALID_ARGUMENT',
    `${JSON.stringify(network)} is not a Bitcoin network (${Object.keys(CHAIN_NAMES).join(', ')})`,
  );
}

/**
 * CHAIN_MISMATCH when the node follows another chain than `network`; CHAIN_RPC_ERROR when it
 * reports (getindexinfo, Bitcoin Core 0.21+) that it keeps no transaction index. bcoin has no
 * getindexinfo: its index-tx option cannot be seen from outside.
 */
export async function checkBitcoinNode(rpc: BitcoinRpcCaller, network: string): Promise<void> {
  const info = rpcObject('getblockchaininfo', await rpc.call('getblockchaininfo', []));
  const chain = rpcString('getblockchaininfo', info.chain, 'a chain');
  if (chain !== CHAIN_NAMES[network]) {
    throw new RemembrancerError('CHAIN_MISMATCH', `the node follows Bitcoin ${chain}, the target is btc:${network}`);
  }
  let indexes: Record<string, unknown>;
  try {
    indexes = rpcObject('getindexinfo', await rpc.call('getindexinfo', []));
  } catch (e) {
    if (isRpcMethodNotFound(e)) return;
    throw e;
  }
  if (indexes.txindex === undefined) {
    throw new RemembrancerError(
      'CHAIN_RPC_ERROR',
      'the node keeps no transaction index (start bitcoind with -txindex): it could not find a mined anchor',
    );
  }
}
