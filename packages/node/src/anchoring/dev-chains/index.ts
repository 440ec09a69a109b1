export { DevChainNotInstalledError } from './dev-chain-process.js';
export * from './dev-anvil.js';
export * from './dev-bitcoin.js';
export * from './dev-bitcoin-miner.js';
export * from './dev-chains.js';
