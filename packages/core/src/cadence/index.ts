export * from './cadence-level.js';
export * from './cadence-target.js';
export * from './cadence-every.js';
export * from './cadence-spec.js';
export * from './next-due.js';
