export * from './bitcoin-rpc.js';
export * from './bitcoin-anchor-evidence.js';
export * from './bitcoin-sender.js';
export { bitcoinVsize } from './bitcoin-vsize.js';
