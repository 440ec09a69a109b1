export * from './rfc3161-client.js';
export * from './rfc3161-target.js';
export * from './dev-tsa/index.js';
export * from './anchoring-service.js';
export * from './anchor-store.js';
export * from './anchor-targets.js';
export * from './epoch-coordinator.js';
export * from './epoch-finalization.js';
