export * from './bytes.js';
export * from './base64.js';
