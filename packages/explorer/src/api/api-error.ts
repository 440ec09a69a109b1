/**
 * A failed read of a node's API, with the node's stable error code when it sent one
 * (`{"error": {"code", "message"}}`), else one of ours: UNREACHABLE (no answer: down, refused,
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

/** A node answer's error body, if it is one. */
export function errorOfBody(body: unknown): { code: string; message: string } | undefined {
  const e = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (e && typeof e.code === 'string')
    return { code: e.code, message: typeof e.message === 'string' ? e.message : e.code };
  return undefined;
}
