// HTTP appends against a real `remembrancer serve` process on loopback: batches of 1,000 and
// single entries (autocannon drives the load), plus submit-to-checkpoint latency sampled while the
// single-entry load runs. Server and load generator share this 2-core machine.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { initNode } from '../packages/node/src/config/node-config.ts';
import { startServe } from '../test/e2e/harness/cli-process.ts';
import type { BenchContext, BenchResults } from './measure.ts';

const NS = 'bench:http';

function runLoad(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * While load runs: every 50 ms one extra entry is appended and timed until the first checkpoint
 * whose size covers its index is served (polled every 10 ms).
 */
async function sampleCheckpointLatency(url: string, token: string, until: () => boolean): Promise<number[]> {
  const pending: Array<{ index: number; sent: number }> = [];
  const latencies: number[] = [];
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const sender = (async () => {
    let i = 0;
    while (!until()) {
      const sent = performance.now();
      const res = await fetch(`${url}/v1/ns/${NS}/entries`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ probe: i++ }),
      });
      if (res.status === 201) pending.push({ index: ((await res.json()) as { index: number }).index, sent });
      else await res.arrayBuffer();
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const poller = (async () => {
    while (!until() || pending.length > 0) {
      const text = await (await fetch(`${url}/v1/ns/${NS}/checkpoint`)).text();
      const now = performance.now();
      const size = Number(text.split('\n')[1]);
      for (let k = pending.length - 1; k >= 0; k--) {
        if (pending[k]!.index < size) {
          latencies.push(now - pending[k]!.sent);
          pending.splice(k, 1);
        }
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  await Promise.all([sender, poller]);
  return latencies.sort((a, b) => a - b);
}

export default async function httpBench(ctx: BenchContext): Promise<BenchResults> {
  const dir = mkdtempSync(join(tmpdir(), 'remembrancer-bench-http-'));
  const identity = initNode(join(dir, 'node'), 'bench.vaultmesh.local', { listen: '127.0.0.1:0' });
  const node = await startServe(identity.dataDir);
  const token = identity.adminToken;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  try {
    const created = await fetch(`${node.url}/v1/ns/${NS}`, { method: 'PUT', headers, body: '{}' });
    if (created.status !== 201) throw new Error(`namespace create failed: ${created.status}`);

    const batchSeconds = ctx.quick ? 4 : 15;
    const entries = Array.from({ length: 1000 }, (_, i) => ({
      kind: 'bench',
      i,
      note: 'batch entry of a typical small memory record',
    }));
    ctx.log(`HTTP batches of 1,000 for ${batchSeconds} s (after a 2 s warm-up)`);
    const batchOptions = {
      url: `${node.url}/v1/ns/${NS}/batch`,
      method: 'POST' as const,
      headers,
      body: JSON.stringify({ entries }),
      connections: 4,
    };
    await runLoad({ ...batchOptions, duration: 2 });
    const batch = await runLoad({ ...batchOptions, duration: batchSeconds });
    if (batch.non2xx > 0 || batch.errors > 0)
      throw new Error(`batch load had ${batch.non2xx} non-2xx and ${batch.errors} errors`);
    const batchEps = Math.round((batch.requests.total * 1000) / batchSeconds);

    const singleSeconds = ctx.quick ? 5 : 20;
    const singleOptions = {
      url: `${node.url}/v1/ns/${NS}/entries`,
      method: 'POST' as const,
      headers,
      body: JSON.stringify({ kind: 'bench', note: 'a single small memory record', n: 1 }),
      connections: 64,
    };
    // Warm-up, unmeasured: the JIT compiles the request path before the timed run.
    await runLoad({ ...singleOptions, duration: 2 });
    ctx.log(`HTTP single-entry appends, 64 connections, for ${singleSeconds} s (+ checkpoint latency probes)`);
    let done = false;
    const probes = sampleCheckpointLatency(node.url, token, () => done);
    const single = await runLoad({ ...singleOptions, duration: singleSeconds });
    done = true;
    const latencies = await probes;
    if (single.non2xx > 0 || single.errors > 0)
      throw new Error(`single load had ${single.non2xx} non-2xx and ${single.errors} errors`);
    ctx.note(
      'http_single',
      `${single.requests.total} requests, ${latencies.length} latency probes, checkpoint interval 1000 ms, synchronous=FULL`,
    );
    return {
      append_http_batch_eps: batchEps,
      append_http_single_rps: Math.round(single.requests.total / singleSeconds),
      checkpoint_latency_p50_ms: Math.round(percentile(latencies, 50)),
      checkpoint_latency_p99_ms: Math.round(percentile(latencies, 99)),
    };
  } finally {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
