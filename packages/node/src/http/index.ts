export * from './server.js';
export * from './error-status.js';
export * from './params.js';
