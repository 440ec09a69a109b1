export * from './tlog-proof.js';
export * from './verify-tlog-proof.js';
