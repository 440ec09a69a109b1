export * from './batch-hasher.js';
export * from './pack-entries.js';
export * from './js-batch-hasher.js';
export * from './native-batch-hasher.js';
export * from './load-batch-hasher.js';
export * from './tree-levels.js';
