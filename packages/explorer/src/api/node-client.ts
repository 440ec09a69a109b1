import { ApiError, errorOfBody } from './api-error.ts';

/** How long a read may take before the node counts as unreachable: well under the 2 s refresh. */
export const READ_TIMEOUT_MS = 1500;

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/**
 * Reads one node's public HTTP API: the node that served the page (base '') or a peer by its
 * registry endpoint (its public read routes send CORS headers). GET only: the explorer never writes.
 */
export class NodeClient {
  constructor(
    readonly base: string,
    private readonly fetchImpl: Fetch = (input, init) => fetch(input, init),
    private readonly timeoutMs = READ_TIMEOUT_MS,
  ) {}

  url(path: string): string {
    return `${this.base.replace(/\/+$/, '')}${path}`;
  }

  async json<T>(path: string): Promise<T> {
    const res = await this.get(path, 'application/json');
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new ApiError('BAD_ANSWER', `${path}: the answer is not JSON (HTTP ${res.status})`, res.status);
    }
    if (!res.ok) {
      const e = errorOfBody(body);
      throw new ApiError(e?.code ?? 'HTTP_ERROR', e?.message ?? `${path}: HTTP ${res.status}`, res.status);
    }
    return body as T;
  }

  /** A text answer (a checkpoint note) with the headers that describe it. */
  async text(path: string): Promise<{ text: string; headers: Headers }> {
    const res = await this.get(path, 'text/plain');
    const text = await res.text();
    if (!res.ok) {
      let e: { code: string; message: string } | undefined;
      try {
        e = errorOfBody(JSON.parse(text));
      } catch {
        e = undefined;
      }
      throw new ApiError(e?.code ?? 'HTTP_ERROR', e?.message ?? `${path}: HTTP ${res.status}`, res.status);
    }
    return { text, headers: res.headers };
  }

  private async get(path: string, accept: string): Promise<Response> {
    try {
      return await this.fetchImpl(this.url(path), {
        headers: { accept },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const why =
        e instanceof Error && e.name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : 'no answer';
      throw new ApiError('UNREACHABLE', `${this.url(path)}: ${why}`);
    }
  }
}

/** Path of a namespace's route: ids hold ':' which is kept readable but encoded for the server. */
export function nsPath(ns: string, rest = ''): string {
  return `/v1/ns/${encodeURIComponent(ns)}${rest}`;
}
