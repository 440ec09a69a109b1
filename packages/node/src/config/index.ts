export * from './node-config.js';
export * from './anchoring-config.js';
