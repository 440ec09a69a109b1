export * from './receipt.js';
export * from './build-receipt.js';
export * from './verify-receipt.js';
