export * from './node-config.js';
export * from './anchoring-config.js';
export * from './storage-config.js';
