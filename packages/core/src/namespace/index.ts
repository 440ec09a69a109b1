export * from './namespace-id.js';
