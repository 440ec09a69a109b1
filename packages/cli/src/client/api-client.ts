import { RemembrancerError, errorMessage, type ErrorCode } from '@vaultmesh/core';

/** An error the node answered with: its stable code, message and HTTP status. */
export class ApiError extends RemembrancerError {
  readonly status: number;
  readonly retryAfterSeconds: number | undefined;
  constructor(code: ErrorCode, message: string, status: number, retryAfterSeconds?: number, pointer?: string) {
    super(code, message, pointer === undefined ? undefined : { pointer });
    this.name = 'ApiError';
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export interface ApiClientOptions {
  url: string;
  token?: string;
  timeoutMs?: number;
}

/** A thin client of the node's HTTP API (docs/api.md); every non-2xx becomes an ApiError. */
export class ApiClient {
  readonly url: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;

  constructor(options: ApiClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  async request(
    method: string,
    path: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...extraHeaders };
    if (body !== undefined) headers['content-type'] = 'application/json';
    // Reads carry the token too: private namespaces need a read token.
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let res: Response;
    try {
      res = await fetch(this.url + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (cause) {
      throw new RemembrancerError('INTERNAL', `cannot reach ${this.url}: ${errorMessage(cause)}`, { cause });
    }
    if (!res.ok) throw await apiErrorOf(res, method, path);
    return res;
  }

  /**
   * GET `path` as a stream that stays open (server-sent events): unlike `request`, no overall
   * timeout, only one on the answer's headers (`connectTimeoutMs`); the body ends when the node
   * closes it or `signal` aborts. Every non-2xx becomes an ApiError, as for `request`.
   */
  async openStream(
    path: string,
    headers: Record<string, string>,
    signal: AbortSignal,
    connectTimeoutMs = this.timeoutMs,
  ): Promise<Response> {
    const all: Record<string, string> = { ...headers };
    if (this.token) all.authorization = `Bearer ${this.token}`;
    const connecting = new AbortController();
    const timer = setTimeout(
      () => connecting.abort(new Error(`no answer within ${connectTimeoutMs} ms`)),
      connectTimeoutMs,
    );
    let res: Response;
    try {
      res = await fetch(this.url + path, { headers: all, signal: AbortSignal.any([signal, connecting.signal]) });
    } catch (cause) {
      if (signal.aborted) throw cause;
      throw new RemembrancerError('INTERNAL', `cannot reach ${this.url}: ${errorMessage(cause)}`, { cause });
    } finally {
      clearTimeout(timer);
    }
    if (!res.ok) throw await apiErrorOf(res, 'GET', path);
    return res;
  }

  async json<T>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
    return (await (await this.request(method, path, body, headers)).json()) as T;
  }

  async text(method: string, path: string): Promise<string> {
    return (await this.request(method, path)).text();
  }

  nsPath(ns: string, rest = ''): string {
    return `/v1/ns/${encodeURIComponent(ns)}${rest}`;
  }

  /** Fetches a receipt, waiting (bounded) for the next checkpoint to cover a fresh entry. */
  async receipt(ns: string, index: number, waitMs = 15_000): Promise<unknown> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        return await this.json('GET', this.nsPath(ns, `/receipt/${index}`));
      } catch (e) {
        if (!(e instanceof ApiError) || e.code !== 'NOT_YET_IN_CHECKPOINT' || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}

/** The ApiError of a non-2xx answer: the node's `{code, message, pointer}` body when it has one. */
async function apiErrorOf(res: Response, method: string, path: string): Promise<ApiError> {
  let code: ErrorCode = 'INTERNAL';
  let message = `${method} ${path} failed with HTTP ${res.status}`;
  let pointer: string | undefined;
  try {
    const j = (await res.json()) as { code?: string; message?: string; pointer?: string };
    if (typeof j.code === 'string') code = j.code as ErrorCode;
    if (typeof j.message === 'string') message = j.message;
    if (typeof j.pointer === 'string') pointer = j.pointer;
  } catch {
    // not our JSON error body; keep the generic message
  }
  const ra = Number(res.headers.get('retry-after'));
  return new ApiError(code, message, res.status, Number.isFinite(ra) && ra > 0 ? ra : undefined, pointer);
}
