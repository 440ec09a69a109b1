export * from './limits.js';
export * from './origin-hash.js';
export * from './add-checkpoint-request.js';
export * from './witness-responses.js';
