export * from './bitcoin-rpc.js';
export * from './bitcoin-anchor-evidence.js';
