// The Bitcoin regtest node of chain tests is the node package's dev chain, the one `federation up`
// starts: a bcoin full node with its wallet, in memory, in a child process on 127.0.0.1 (see
// packages/node/src/anchoring/dev-chains/dev-bitcoin.ts and bcoin-regtest-main.mjs). Its RPC
// calls use a client of their own, apart from the node's BitcoinRpc under test.
import {
  DEV_BITCOIN_BLOCKS_TO_FUND,
  startDevBitcoin,
  type DevBitcoin,
  type StartDevBitcoinOptions,
} from '../../../packages/node/src/anchoring/dev-chains/index.js';

export type BitcoinRegtest = DevBitcoin;
export type StartBitcoinRegtestOptions = StartDevBitcoinOptions;

/** Blocks fund() mines: 10 coinbase outputs of 50 BTC past maturity. */
export const BLOCKS_TO_FUND = DEV_BITCOIN_BLOCKS_TO_FUND;

/** Starts a bcoin regtest node with its wallet; stop() ends it and removes its directory. */
export function startBitcoinRegtest(options: StartBitcoinRegtestOptions = {}): Promise<BitcoinRegtest> {
  return startDevBitcoin(options);
}
