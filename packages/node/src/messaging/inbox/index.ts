export * from './inbox.js';
export * from './inbox-store.js';
export * from './inbox-reconcile.js';
export * from './stream-applier.js';
export * from './turn-decision.js';
export * from './message-trust.js';
