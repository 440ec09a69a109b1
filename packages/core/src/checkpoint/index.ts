export * from './checkpoint.js';
export * from './decimal.js';
export * from './open-checkpoint.js';
export * from './embedded-checkpoint.js';
