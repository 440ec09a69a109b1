// Issue 14 item 7: the node's state on PostgreSQL beside SQLite, one front end, in process —
// batch appends (calls of 1,000, 4 in flight), single appends (64 in flight) and random inclusion
// proofs — and failover: two real `serve` processes of one node on one database, the holder killed
// with SIGKILL, time until the standby has signed a checkpoint covering an entry appended before
// the kill (repeated; p50/p99); and read throughput over HTTP with 1, 2 and 3 `serve` front ends
// of one node on one database (bench/postgres-front-ends.ts). Both databases durable: SQLite
// synchronous=FULL, PostgreSQL fsync on.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crypto } from '@vaultmesh/core';
import { loadBatchHasher } from '../packages/node/src/hashing/index.ts';
import { openLogEngineOn, type LogEngine, type ObservableLogEngine } from '../packages/node/src/log/index.ts';
import { PgLogStorage } from '../packages/node/src/storage/postgres/index.ts';
import { startPostgresCluster, type PostgresCluster } from '../packages/node/test/storage/postgres/postgres-cluster.ts';
import { createDatabase } from '../packages/node/test/storage/postgres/test-databases.ts';
import { initNode } from '../packages/node/src/config/node-config.ts';
import { startServe, type ServeProcess } from '../test/e2e/harness/cli-process.ts';
import { appendMany, openBenchLog } from './bench-log.ts';
import { ratio, type BenchContext, type BenchResults } from './measure.ts';
import { frontEndReads } from './postgres-front-ends.ts';

const NS = 'bench:pg';

async function openPgEngine(url: string): Promise<ObservableLogEngine> {
  const storage = await PgLogStorage.open({ db: url, owner: 'bench' });
  const engine = await openLogEngineOn(storage, {
    nodeName: 'bench.vaultmesh.local',
    logSeed: crypto.randomBytes(32),
    checkpointIntervalMs: 3_600_000,
    batchHasher: loadBatchHasher(),
  });
  await engine.lead();
  return engine;
}

/** Inclusion proofs per second at random indices of the namespace's whole tree, `seconds` long. */
async function proofsPerSecond(engine: LogEngine, seconds: number): Promise<number> {
  const size = engine.integratedSize(NS);
  let n = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  const lane = async () => {
    while (performance.now() < end) {
      await engine.inclusionProof(NS, Math.floor(Math.random() * size), size);
      n++;
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));
  return Math.round(n / ((performance.now() - t0) / 1000));
}

async function engineFigures(
  ctx: BenchContext,
  label: string,
  engine: LogEngine,
): Promise<{ batch: number; single: number; proofs: number }> {
  const total = ctx.quick ? 50_000 : 200_000;
  const singles = ctx.quick ? 2_000 : 10_000;
  await engine.createNamespace(NS);
  await appendMany(engine, NS, 10_000, 1000, 4); // warm-up
  ctx.log(`${label}: ${total.toLocaleString('en-US')} entries in calls of 1,000, 4 in flight`);
  const batch = Math.round(total / (await appendMany(engine, NS, total, 1000, 4, 10_000)));
  ctx.log(`${label}: ${singles.toLocaleString('en-US')} single-entry appends, 64 in flight`);
  const single = Math.round(singles / (await appendMany(engine, NS, singles, 1, 64, 10_000 + total)));
  ctx.log(`${label}: random inclusion proofs`);
  const proofs = await proofsPerSecond(engine, ctx.quick ? 2 : 5);
  return { batch, single, proofs };
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

async function checkpointSize(url: string): Promise<number | undefined> {
  const r = await fetch(`${url}/v1/ns/${NS}/checkpoint`).catch(() => undefined);
  if (r === undefined || r.status !== 200) return undefined;
  return Number((await r.text()).split('\n')[1]);
}

/** Kills the holder `kills` times; each time, ms from the kill until the standby signed past the last acknowledged entry. */
async function failovers(ctx: BenchContext, cluster: PostgresCluster, dir: string, kills: number): Promise<number[]> {
  const url = await createDatabase(cluster, 'bench_failover');
  const identity = initNode(join(dir, 'node'), 'failover.bench.local', { listen: '127.0.0.1:0' });
  const token = readFileSync(join(identity.dataDir, 'admin.token'), 'utf8').trim();
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const procs: ServeProcess[] = [];
  const times: number[] = [];
  try {
    let holder = await startServe(identity.dataDir, { storage: url });
    procs.push(holder);
    const created = await fetch(`${holder.url}/v1/ns/${NS}`, { method: 'PUT', headers, body: '{}' });
    if (created.status !== 201) throw new Error(`namespace: ${created.status}`);
    for (let k = 0; k < kills; k++) {
      const standby = startServe(identity.dataDir, { storage: url, timeoutMs: 60_000 });
      standby.catch(() => undefined);
      await new Promise((r) => setTimeout(r, 2_500)); // standing by
      const r = await fetch(`${holder.url}/v1/ns/${NS}/entries`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ k }),
      });
      const { index } = (await r.json()) as { index: number };
      await holder.kill();
      const killedAt = performance.now();
      const next = await standby;
      procs.push(next);
      for (;;) {
        const size = await checkpointSize(next.url);
        if (size !== undefined && size > index) break;
        if (performance.now() - killedAt > 30_000) throw new Error('the standby did not sign within 30 s');
        await new Promise((res) => setTimeout(res, 10));
      }
      times.push(Math.round(performance.now() - killedAt));
      ctx.log(`failover ${k + 1}/${kills}: ${times[times.length - 1]} ms`);
      holder = next;
    }
    return times;
  } finally {
    for (const p of procs) await p.kill().catch(() => undefined);
  }
}

export default async function postgresBench(ctx: BenchContext): Promise<BenchResults> {
  const dir = mkdtempSync(join(tmpdir(), 'remembrancer-bench-pg-'));
  const cluster = await startPostgresCluster({ fsync: true });
  try {
    const sqliteLog = await openBenchLog('pg-compare');
    const sqlite = await engineFigures(ctx, 'SQLite', sqliteLog.engine).finally(() => sqliteLog.close());
    const engine = await openPgEngine(await createDatabase(cluster, 'bench_engine'));
    const postgres = await engineFigures(ctx, 'PostgreSQL', engine).finally(() => engine.close());
    const reads = await frontEndReads(ctx, await createDatabase(cluster, 'bench_reads'), dir);
    ctx.note('postgres_front_ends', reads.note);
    const kills = ctx.quick ? 3 : 10;
    const times = (await failovers(ctx, cluster, dir, kills)).sort((a, b) => a - b);
    ctx.note(
      'postgres',
      `one front end in process (batches of 1,000 ×4 in flight; singles ×64; proofs ×8 lanes), SQLite FULL vs PostgreSQL ${cluster.url.includes('host=') ? 'on a Unix socket' : ''} fsync on; failover: ${kills} SIGKILLs of the lease holder, 2 s lease, kill → standby's checkpoint covering an entry appended before the kill`,
    );
    return {
      pg_sqlite_batch_eps: sqlite.batch,
      pg_postgres_batch_eps: postgres.batch,
      pg_sqlite_single_eps: sqlite.single,
      pg_postgres_single_eps: postgres.single,
      pg_sqlite_proofs_per_s: sqlite.proofs,
      pg_postgres_proofs_per_s: postgres.proofs,
      pg_failover_p50_ms: quantile(times, 0.5),
      pg_failover_p99_ms: quantile(times, 0.99),
      pg_reads_1fe_per_s: reads.readsPerS[0]!,
      pg_reads_2fe_per_s: reads.readsPerS[1]!,
      pg_reads_3fe_per_s: reads.readsPerS[2]!,
      pg_reads_3fe_vs_1fe_ratio: ratio(reads.readsPerS[2], reads.readsPerS[0]) ?? 0,
    };
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
