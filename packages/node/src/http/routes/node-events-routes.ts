import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '@vaultmesh/core';
import { OpenReads, startEventStream, writeEvent } from '../event-stream.js';
import { LiveStatusSource } from '../live-status.js';
import type { RouteContext } from '../route-context.js';
import type { HttpArea } from '../scopes.js';

/** One status event this often, ms: a page shows figures at most this old plus its own drawing. */
export const NODE_EVENTS_INTERVAL_MS = 1000;

/**
 * `GET /v1/node/events`: server-sent events (https://html.spec.whatwg.org/multipage/server-sent-events.html),
 * an event `status` each second with the node's live summary (live-status.ts), so the explorer
 * refreshes within 2 s from one connection instead of polling many routes; `?once=1` answers the
 * summary as plain JSON instead. Public: the summary names public namespaces only. Streams end
 * when the reader goes or the server closes.
 */
export const nodeEventsArea: HttpArea = {
  public(app, ctx: RouteContext) {
    const live = new LiveStatusSource(ctx);
    const reads = new OpenReads();
    app.addHook('preClose', async () => reads.close());
    app.get<{ Querystring: Record<string, string> }>('/v1/node/events', async (request, reply) => {
      if (request.query.once === '1') return await live.current();
      const read = reads.open(reply);
      const res = startEventStream(reply);
      try {
        await writeEvent(res, `retry: 1000\n\n`, read.signal);
        while (!read.signal.aborted) {
          // JSON.stringify never emits a raw newline: the summary is one data line.
          await writeEvent(res, `event: status\ndata: ${JSON.stringify(await live.current())}\n\n`, read.signal);
          await sleep(NODE_EVENTS_INTERVAL_MS, undefined, { signal: read.signal }).catch(() => undefined);
        }
      } catch (e) {
        // Headers are sent: the stream ends and the reader reconnects (retry: 1000).
        request.log.warn({ err: errorMessage(e) }, 'node event stream ended by an error');
      } finally {
        read.done();
        res.end();
      }
      return reply;
    });
  },
};
