export * from './entry-bytes.js';
