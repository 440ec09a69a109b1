export * from './verified-timestamp.js';
export * from './timestamp-check.js';
export * from './oids.js';
export * from './timestamp-request.js';
export * from './timestamp-token.js';
export * from './timestamp-response.js';
