export * from './errors.js';
export * from './crypto/index.js';
export * from './encoding/index.js';
export * from './merkle/index.js';
