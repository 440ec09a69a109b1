import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

/*
 * What every long-poll and server-sent event stream of the API needs
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html): an end when the reader goes
 * or the server closes, and writes that wait for a slow reader instead of buffering without end.
 */

/** Ends every long-poll and event stream of the server when it starts closing, so none holds it open. */
export class OpenReads {
  readonly #all = new Set<AbortController>();
  #closing = false;

  /**
   * An abort signal for one read: aborted when the server closes or the response's connection
   * does (the response's 'close': the request's own fires once its body is read, at once for a GET).
   */
  open(reply: FastifyReply): { signal: AbortSignal; done(): void } {
    const controller = new AbortController();
    if (this.#closing) controller.abort();
    this.#all.add(controller);
    const abort = (): void => controller.abort();
    reply.raw.once('close', abort);
    return {
      signal: controller.signal,
      done: () => {
        this.#all.delete(controller);
        reply.raw.off('close', abort);
      },
    };
  }

  close(): void {
    this.#closing = true;
    for (const c of this.#all) c.abort();
  }
}

/** Writes `chunk`, waiting for the socket to drain when it is full (a slow reader is not buffered without end). */
export async function writeEvent(res: ServerResponse, chunk: string, signal: AbortSignal): Promise<void> {
  if (res.write(chunk) || signal.aborted) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Takes the answer over from Fastify and starts a server-sent event stream on it. Hijacked, the
 * reply no longer sends the headers its hooks set, so they are written here with the stream's own
 * (CORS among them: an explorer page of another node follows the stream).
 */
export function startEventStream(reply: FastifyReply): ServerResponse {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    ...(reply.getHeaders() as OutgoingHttpHeaders),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  });
  return res;
}
