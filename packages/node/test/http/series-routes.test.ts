import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { initNode } from '../../src/config/node-config.js';
import { runNode } from '../../src/daemon/run-node.js';
import { installErrorHandling } from '../../src/http/error-handler.js';
import type { RouteContext } from '../../src/http/route-context.js';
import { seriesArea } from '../../src/http/routes/series-routes.js';
import { installScopes } from '../../src/http/scopes.js';
import { NodeMetrics } from '../../src/metrics/node-metrics.js';
import { NodeSeries, type SeriesView } from '../../src/metrics/node-series.js';
import { entry, open, tempDirs } from '../log/engine-fixture.js';

/* GET /v1/node/series on the server's real scopes and error answers, over a real engine's series. */

const dirs = tempDirs('remembrancer-series-routes-');
after(() => dirs.cleanup());

function appWith(series?: NodeSeries) {
  const app = Fastify();
  installErrorHandling(app);
  const ctx = { nodeName: 'alpha.test', metrics: new NodeMetrics(), ...(series ? { series } : {}) };
  installScopes(app, ctx as unknown as RouteContext, [seriesArea]);
  return app;
}

describe('GET /v1/node/series', () => {
  test('columns of equal length, newest last; empty before the first sample; since keeps later points', async () => {
    const engine = await open(dirs.make());
    let now = 2_000_000;
    const series = new NodeSeries({ engine, now: () => now, intervalMs: 5_000, capacity: 720 });
    const app = appWith(series);
    try {
      const empty = await app.inject({ method: 'GET', url: '/v1/node/series' });
      assert.equal(empty.statusCode, 200, empty.body);
      const e = empty.json<SeriesView & { node: string }>();
      assert.equal(e.node, 'alpha.test');
      assert.equal(e.interval_s, 5);
      assert.equal(e.capacity, 720);
      assert.deepEqual(e.t, []);
      assert.deepEqual(e.append_rate, []);
      assert.deepEqual(e.anchoring_lag_s, {});

      await engine.createNamespace('t:a');
      for (let i = 0; i < 3; i++) {
        await engine.append('t:a', [entry('t:a', i), entry('t:a', i + 100)]);
        now += 5_000;
        await series.sample();
      }
      const r = await app.inject({ method: 'GET', url: '/v1/node/series' });
      const v = r.json<SeriesView>();
      assert.deepEqual(v.t, [2005, 2010, 2015]);
      assert.deepEqual(v.append_rate, [0.4, 0.4, 0.4]);
      for (const column of [
        v.checkpoints,
        v.checkpoint_latency_ms_p50,
        v.checkpoint_latency_ms_max,
        v.cosign_rounds,
        v.cosign_latency_ms_mean,
      ])
        assert.equal(column.length, 3);
      const later = (await app.inject({ method: 'GET', url: '/v1/node/series?since=2010' })).json<SeriesView>();
      assert.deepEqual(later.t, [2015]);
      const ms = (await app.inject({ method: 'GET', url: '/v1/node/series?since=2014.999' })).json<SeriesView>();
      assert.deepEqual(ms.t, [2015]);
    } finally {
      await app.close();
      await engine.close();
    }
  });

  test('a since that is not unix seconds is INVALID_ARGUMENT; no series is NOT_FOUND', async () => {
    const engine = await open(dirs.make());
    const app = appWith(new NodeSeries({ engine }));
    const bare = appWith();
    try {
      for (const since of ['-1', 'abc', '1e9', '01', '1.2345', '']) {
        const r = await app.inject({ method: 'GET', url: `/v1/node/series?since=${since}` });
        assert.equal(r.statusCode, 400, `${since}: ${r.body}`);
        assert.equal(r.json<{ code: string }>().code, 'INVALID_ARGUMENT');
      }
      const r = await bare.inject({ method: 'GET', url: '/v1/node/series' });
      assert.equal(r.statusCode, 404);
      assert.equal(r.json<{ code: string }>().code, 'NOT_FOUND');
    } finally {
      await app.close();
      await bare.close();
      await engine.close();
    }
  });

  test('a running node serves its series and its message streams, publicly', async () => {
    const root = mkdtempSync(join(tmpdir(), 'remembrancer-series-node-'));
    try {
      const dir = join(root, 'node');
      initNode(dir, 'series.vaultmesh.local', { listen: '127.0.0.1:0', gossipIntervalMs: 0 });
      const node = await runNode({ dataDir: dir, logger: false });
      try {
        const series = await node.app.inject({ method: 'GET', url: '/v1/node/series' });
        assert.equal(series.statusCode, 200, series.body);
        assert.equal(series.json<SeriesView>().interval_s, 10);
        const streams = await node.app.inject({ method: 'GET', url: '/v1/messages/streams' });
        assert.equal(streams.statusCode, 200, streams.body);
        assert.deepEqual(streams.json(), {
          node: 'series.vaultmesh.local',
          outgoing: [],
          incoming: [],
          truncated: false,
        });
      } finally {
        await node.close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
