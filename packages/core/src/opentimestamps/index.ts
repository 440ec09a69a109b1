export * from './bitcoin-ots.js';
