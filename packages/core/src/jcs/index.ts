export { canonicalBytes, canonicalize, type CanonicalizeOptions } from './canonicalize.js';
export {
  MAX_JSON_DEPTH,
  parseJsonStrict,
  parseJsonStrictAsync,
  type ParseJsonAsyncOptions,
  type ParseJsonOptions,
} from './parse-json-strict.js';
export { isArray, isJsonObject } from './is-json-object.js';
