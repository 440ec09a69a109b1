export * from './run-node.js';
export * from './listen-address.js';
export * from './node-version.js';
export * from './data-dir-permissions.js';
export * from './migrate-to-postgres.js';
