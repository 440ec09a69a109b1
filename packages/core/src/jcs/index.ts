export { canonicalBytes, canonicalize } from './canonicalize.js';
export { parseJsonStrict } from './parse-json-strict.js';
