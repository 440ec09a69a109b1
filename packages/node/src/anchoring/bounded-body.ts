import { RemembrancerError, type ErrorCode } from '@vaultmesh/core';

/**
 * Reads at most `max` bytes of an answer from a remote service (a TSA, a chain node); a longer
 * one, announced or streamed, is cancelled and refused with `code`. `what` names the sender in
 * the message (e.g. `TSA http://…`).
 */
export async function readBoundedBody(res: Response, what: string, max: number, code: ErrorCode): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw new RemembrancerError(code, `${what} announced ${declared} bytes, over ${max}`);
  }
  if (res.body === null) return new Uint8Array(0);
  // A fetch body is a stream of bytes (the DOM types say `any` for the chunks).
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      throw new RemembrancerError(code, `${what} sent more than ${max} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
