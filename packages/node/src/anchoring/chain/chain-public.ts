// What the CLI's `verify` needs of chain nodes: a Bitcoin RPC client and the depth of a block.
export { bitcoinRpc, type BitcoinRpc } from '../bitcoin/bitcoin-rpc.js';
export { bitcoinBlockConfirmations, evmBlockConfirmations } from './chain-confirmations.js';
