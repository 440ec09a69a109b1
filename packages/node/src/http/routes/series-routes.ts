import { RemembrancerError } from '@vaultmesh/core';
import type { RouteContext } from '../route-context.js';
import type { HttpArea } from '../scopes.js';

/** Attacker-controlled `since`: unix seconds, as `t` gives them (up to ms decimals). */
function sinceParam(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^(0|[1-9][0-9]{0,11})(\.[0-9]{1,3})?$/.test(raw))
    throw new RemembrancerError('INVALID_ARGUMENT', 'since must be unix seconds, e.g. 1765000000 or 1765000000.25');
  return Number(raw);
}

/**
 * `GET /v1/node/series[?since=T]`: the node's bounded time series for the explorer's live chart
 * (issue 13) — append rate, checkpoint latency, cosigning and anchoring lag, one point per
 * interval over the last hour, as columns (docs/api.md). Public: nothing in it names a namespace.
 */
export const seriesArea: HttpArea = {
  public(app, ctx: RouteContext) {
    app.get<{ Querystring: Record<string, string> }>('/v1/node/series', async (request) => {
      if (!ctx.series) throw new RemembrancerError('NOT_FOUND', 'this node keeps no time series');
      return { node: ctx.nodeName, ...ctx.series.view(sinceParam(request.query.since)) };
    });
  },
};
