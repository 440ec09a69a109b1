export * from './witness-log-source.js';
export * from './witness-schema.js';
export * from './witness-store.js';
export * from './witness.js';
export * from './witness-storage.js';
export * from './sqlite-witness-storage.js';
export * from './open-witness-storage.js';
