export * from './rfc3161-client.js';
export * from './rfc3161-target.js';
export * from './dev-tsa/index.js';
