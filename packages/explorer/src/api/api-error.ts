/**
 * A failed read of a node's API, with the node's stable error code when it sent one
 * (`{"code", "message"}`, docs/api.md), else one of ours: UNREACHABLE (no answer: down, refused,
 * timed out, or blocked by the browser) or BAD_ANSWER (an answer that is not the JSON expected).
 */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A node answer's error body (`{"code", "message", "pointer"?}`, docs/api.md), if it is one. */
export function errorOfBody(body: unknown): { code: string; message: string } | undefined {
  const e = body as { code?: unknown; message?: unknown } | null;
  if (e && typeof e === 'object' && typeof e.code === 'string')
    return { code: e.code, message: typeof e.message === 'string' ? e.message : e.code };
  return undefined;
}
