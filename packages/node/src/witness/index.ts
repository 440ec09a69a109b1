export * from './witness-log-source.js';
export * from './witness-schema.js';
export * from './witness-store.js';
export * from './witness.js';
