export * from './log-storage.js';
export * from './sqlite/sqlite-log-storage.js';
export { SCHEMA_VERSION } from './sqlite/schema.js';
