import type { ErrorCode } from '@vaultmesh/core';

/** The one catalogue of error code → HTTP status. Codes not listed are server faults (500). */
const STATUS: Partial<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  INVALID_JSON: 400,
  INVALID_ENCODING: 400,
  ENTRY_NOT_OBJECT: 400,
  INVALID_NAMESPACE_ID: 400,
  INDEX_OUT_OF_RANGE: 400,
  SIZE_OUT_OF_RANGE: 400,
  INVALID_RANGE: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NAMESPACE_NOT_FOUND: 404,
  NOT_FOUND: 404,
  NAMESPACE_EXISTS: 409,
  NOT_YET_IN_CHECKPOINT: 409,
  ENTRY_TOO_LARGE: 413,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  QUEUE_FULL: 503,
  SHUTTING_DOWN: 503,
  STORAGE_FAILURE: 500,
  INTERNAL: 500,
};

export function httpStatusFor(code: string): number {
  return STATUS[code as ErrorCode] ?? 500;
}
