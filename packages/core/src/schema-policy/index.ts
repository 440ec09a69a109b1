export {
  SCHEMA_ID_PATTERN,
  SCHEMA_NAME_MAX_LENGTH,
  SCHEMA_NAME_PATTERN,
  compareVersions,
  formatSchemaId,
  formatSchemaVersion,
  isSchemaId,
  isSchemaName,
  parseSchemaId,
  parseSchemaVersion,
  type SchemaId,
  type SchemaVersion,
} from './schema-id.js';
export {
  SEMVER_RANGE_MAX_LENGTH,
  formatSemverRange,
  parseSemverRange,
  satisfies,
  type SemverComparator,
  type SemverOperator,
  type SemverRange,
} from './semver-range.js';
export {
  SCHEMA_ALLOW_ANY,
  SCHEMA_ALLOW_MAX_PATTERNS,
  SCHEMA_ALLOW_MAX_PATTERN_LENGTH,
  allowsAnyEntry,
  parseSchemaAllowList,
  schemaAllowed,
} from './schema-allow.js';
