export * from './bitcoin-hash.js';
export * from './block-header.js';
export * from './transaction.js';
export * from './merkle-branch.js';
export * from './op-return.js';
export * from './verify-bitcoin-anchor.js';
