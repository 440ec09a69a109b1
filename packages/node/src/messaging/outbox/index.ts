export * from './outbox.js';
export * from './outbox-store.js';
export * from './outbox-row.js';
export * from './send-request.js';
export * from './retry-backoff.js';
export * from './delivery-outcome.js';
export * from './delivery-worker.js';
