export * from './namespace-id.js';
export * from './json-members.js';
export * from './writer-id.js';
export * from './namespace-spec.js';
export * from './messaging-rules.js';
export * from './entry-signatures.js';
