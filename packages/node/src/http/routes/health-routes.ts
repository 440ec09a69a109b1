import type { HttpArea } from '../scopes.js';

/** Liveness and Prometheus metrics. */
export const healthArea: HttpArea = {
  public(app, ctx) {
    // A front end of several (issue 14) says whether it is the one holding the sequencing lease.
    app.get('/healthz', async () =>
      ctx.frontEnd ? { status: 'ok', role: ctx.frontEnd.leading() ? 'holder' : 'follower' } : { status: 'ok' },
    );

    app.get('/metrics', async (_request, reply) => {
      // Gauges are sampled at scrape time rather than on every append.
      for (const ns of ctx.engine.listNamespaces()) {
        ctx.metrics.treeSize.set({ namespace: ns.id }, ctx.engine.integratedSize(ns.id));
        const cp = ctx.engine.latestCheckpoint(ns.id);
        if (cp) ctx.metrics.checkpointSize.set({ namespace: ns.id }, cp.size);
      }
      await ctx.onMetricsScrape?.();
      reply.type(ctx.metrics.registry.contentType);
      return ctx.metrics.registry.metrics();
    });
  },
};
