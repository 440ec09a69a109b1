export * from './timestamp.js';
export * from './registry-set.js';
export * from './registry-signature.js';
export * from './registry-peers.js';
export * from './registry-verification.js';
export * from './registry-proposal.js';
export * from './consistency-prefix.js';
export * from './equivocation-evidence.js';
