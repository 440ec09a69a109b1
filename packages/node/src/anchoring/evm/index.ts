export * from './evm-rpc.js';
export * from './evm-header-rlp.js';
export * from './evm-anchor-evidence.js';
export * from './evm-fees.js';
export * from './evm-sender.js';
