export * from './federation-store.js';
export * from './federation-registry.js';
export * from './local-peer.js';
export * from './federation-routes.js';
export * from './federation-status.js';
export * from './peer-auth.js';
export * from './peer-client.js';
