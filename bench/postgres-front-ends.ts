// Issue 14 item 7, read scaling: one node's namespace on one PostgreSQL database, served by 1, 2
// and 3 real `serve` processes (the lease holder plus followers), random inclusion proofs over HTTP
// spread evenly across them. The load comes from forked client processes (bench/read-load-worker.ts),
// the same number for every N, so the bench's own thread does no request work; the CPU of the
// front ends, the clients and the whole machine is read over the measured window too, because on
// a 2-core machine the cores, not the front ends, decide how far reads scale.
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { initNode } from '../packages/node/src/config/node-config.ts';
import { startServe, type ServeProcess } from '../test/e2e/harness/cli-process.ts';
import type { BenchContext } from './measure.ts';
import type { ReadLoadOrder, ReadLoadReport } from './read-load-worker.ts';

const NS = 'bench:pg-reads';
const WORKER = fileURLToPath(new URL('./read-load-worker.ts', import.meta.url));
/** Requests in flight at each front end, split evenly over the client processes. */
const IN_FLIGHT_PER_FRONT_END = 16;

export interface FrontEndReads {
  /** Reads per second with 1, 2 and 3 front ends (index 0, 1, 2). */
  readsPerS: number[];
  /** How the figures were obtained, for the area's note. */
  note: string;
}

async function until<T>(what: string, get: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await get().catch(() => undefined);
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function checkpointSize(url: string): Promise<number | undefined> {
  const r = await fetch(`${url}/v1/ns/${NS}/checkpoint`);
  const text = await r.text();
  return r.status === 200 ? Number(text.split('\n')[1]) : undefined;
}

/** Fills the namespace through the holder: POST /batch of 1,000, 4 calls in flight. */
async function fill(url: string, token: string, total: number): Promise<void> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  let next = 0;
  const lane = async () => {
    while (next < total) {
      const first = next;
      next += 1000;
      const entries = Array.from({ length: Math.min(1000, total - first) }, (_, k) => ({ reading: first + k }));
      const r = await fetch(`${url}/v1/ns/${NS}/batch`, { method: 'POST', headers, body: JSON.stringify({ entries }) });
      if (r.status !== 201) throw new Error(`batch at ${first}: ${r.status} ${await r.text()}`);
      await r.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 4 }, lane));
}

/** user + system CPU of a process so far, in clock ticks (Linux /proc; 0 elsewhere). */
function processTicks(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
  } catch {
    return 0;
  }
}

/** Busy and total clock ticks of the whole machine so far (Linux /proc/stat). */
function machineTicks(): { busy: number; total: number } {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = cpu.reduce((a, b) => a + b, 0);
    return { busy: total - cpu[3]! - (cpu[4] ?? 0), total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

function startClient(): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = fork(WORKER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('a read-load client did not start within 30 s'));
    }, 30_000);
    child.once('error', reject);
    child.once('message', () => {
      clearTimeout(timer);
      resolve(child);
    });
  });
}

function report(child: ChildProcess, order: ReadLoadOrder, timeoutMs: number): Promise<ReadLoadReport> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('a read-load client did not report in time'));
    }, timeoutMs);
    child.once('message', (r: ReadLoadReport) => {
      clearTimeout(timer);
      resolve(r);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`a read-load client exited with ${code} before it reported`));
    });
    child.send(order);
  });
}

/** Transactions committed or rolled back in the connected database so far (PostgreSQL's statistics). */
async function databaseTransactions(db: pg.Client): Promise<number> {
  const r = await db.query<{ n: string }>(
    'SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()',
  );
  return Number(r.rows[0]!.n);
}

interface WindowMark {
  fe: number;
  m: { busy: number; total: number };
  tx: number;
}

interface Measured {
  readsPerS: number;
  /** Database transactions per read served, over the window: what a read costs PostgreSQL. */
  dbTransactionsPerRead: number;
  perFrontEnd: number[];
  frontEndCpuPct: number;
  clientCpuPct: number;
  machineBusyPct: number;
}

/** Drives reads at `fronts` from `clients` processes for warm-up + window; reads/s over the window. */
async function drive(
  db: pg.Client,
  fronts: ServeProcess[],
  size: number,
  clients: number,
  warmupMs: number,
  measureMs: number,
): Promise<Measured> {
  const procs = await Promise.all(Array.from({ length: clients }, startClient));
  try {
    const startAt = Date.now() + 200;
    const order: ReadLoadOrder = {
      urls: fronts.map((f) => f.url),
      ns: NS,
      size,
      connectionsPerUrl: IN_FLIGHT_PER_FRONT_END / clients,
      startAt,
      warmupMs,
      measureMs,
    };
    // CPU of the front ends and the machine, and the database's transactions, over the same
    // window the clients count in (the statistics lag by up to a second: a rough figure).
    const mark = async (): Promise<WindowMark> => ({
      fe: fronts.reduce((a, f) => a + processTicks(f.child.pid), 0),
      m: machineTicks(),
      tx: await databaseTransactions(db),
    });
    const at = (ms: number) =>
      new Promise<WindowMark>((resolve, reject) => setTimeout(() => void mark().then(resolve, reject), ms));
    const windowStart = at(startAt - Date.now() + warmupMs);
    const windowEnd = at(startAt - Date.now() + warmupMs + measureMs);
    // Awaited below; if a client fails first, their outcome is of no interest.
    for (const w of [windowStart, windowEnd]) w.catch(() => undefined);
    const reports = await Promise.all(procs.map((p) => report(p, order, warmupMs + measureMs + 60_000)));
    const [s, e] = await Promise.all([windowStart, windowEnd]);
    const failed = reports.find((r) => r.errors > 0);
    if (failed) throw new Error(`reads failed (${failed.errors}): ${failed.firstError}`);
    const seconds = measureMs / 1000;
    const perFrontEnd = fronts.map((_, u) => reports.reduce((a, r) => a + r.okPerUrl[u]!, 0) / seconds);
    const ticksPerS = 100; // USER_HZ on Linux
    const totalTicks = e.m.total - s.m.total;
    const reads = perFrontEnd.reduce((a, b) => a + b, 0);
    return {
      readsPerS: Math.round(reads),
      dbTransactionsPerRead: Math.round(((e.tx - s.tx) / (reads * seconds)) * 100) / 100,
      perFrontEnd: perFrontEnd.map(Math.round),
      frontEndCpuPct: Math.round(((e.fe - s.fe) / ticksPerS / seconds) * 100),
      clientCpuPct: Math.round((reports.reduce((a, r) => a + r.cpuUs, 0) / 1e6 / seconds) * 100),
      machineBusyPct: totalTicks > 0 ? Math.round(((e.m.busy - s.m.busy) / totalTicks) * cpus().length * 100) : 0,
    };
  } finally {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }
}

/**
 * Read throughput over HTTP with 1, 2 and 3 front ends of one node on the database `url` (created
 * empty by the caller): fills a namespace through the first (the holder), then adds followers one
 * by one, each serving a checkpoint of the whole namespace before it is loaded.
 */
export async function frontEndReads(ctx: BenchContext, url: string, dir: string): Promise<FrontEndReads> {
  const total = ctx.quick ? 20_000 : 100_000;
  const warmupMs = ctx.quick ? 1_000 : 2_000;
  const measureMs = ctx.quick ? 3_000 : 10_000;
  // As many client processes as cores (at least 2), for every N: the client side costs the same per read.
  const clients = Math.max(2, cpus().length);
  const identity = initNode(join(dir, 'reads-node'), 'reads.bench.local', { listen: '127.0.0.1:0' });
  const token = readFileSync(join(identity.dataDir, 'admin.token'), 'utf8').trim();
  const fronts: ServeProcess[] = [];
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    fronts.push(await startServe(identity.dataDir, { storage: url, timeoutMs: 60_000 }));
    const holder = fronts[0]!;
    const created = await fetch(`${holder.url}/v1/ns/${NS}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    if (created.status !== 201) throw new Error(`namespace: ${created.status} ${await created.text()}`);
    ctx.log(`front ends: filling ${total.toLocaleString('en-US')} entries through the holder`);
    await fill(holder.url, token, total);
    const size = await until(
      'a checkpoint of the whole namespace',
      async () => {
        const s = await checkpointSize(holder.url);
        return s !== undefined && s >= total ? s : undefined;
      },
      60_000,
    );
    const readsPerS: number[] = [];
    const details: string[] = [];
    for (let n = 1; n <= 3; n++) {
      if (n > 1) {
        const follower = await startServe(identity.dataDir, { storage: url, timeoutMs: 60_000 });
        fronts.push(follower);
        await until(
          `front end ${n} to serve a checkpoint of the whole namespace`,
          async () => {
            const s = await checkpointSize(follower.url);
            return s !== undefined && s >= size ? s : undefined;
          },
          60_000,
        );
      }
      const m = await drive(db, fronts, size, clients, warmupMs, measureMs);
      readsPerS.push(m.readsPerS);
      details.push(
        `${n}: ${m.perFrontEnd.join('+')}/s, front ends ${m.frontEndCpuPct}% CPU, clients ${m.clientCpuPct}%, machine ${m.machineBusyPct}% of ${cpus().length * 100}%, ${m.dbTransactionsPerRead} database transactions per read`,
      );
      ctx.log(`front ends: ${n} → ${m.readsPerS.toLocaleString('en-US')} reads/s (${details[details.length - 1]})`);
    }
    const note =
      `read scaling: GET /v1/ns/{ns}/proof/inclusion at random indices of a ${size.toLocaleString('en-US')}-entry namespace, ` +
      `${IN_FLIGHT_PER_FRONT_END} keep-alive connections per front end (one request in flight each) from ${clients} forked client processes ` +
      `(${IN_FLIGHT_PER_FRONT_END / clients} per front end each), ${warmupMs / 1000} s warm-up then ${measureMs / 1000} s counted; ` +
      `N = holder + N−1 followers; per N: ${details.join('; ')}`;
    return { readsPerS, note };
  } finally {
    // Followers first, so no follower takes the lease over while the holder stops.
    for (const f of [...fronts].reverse()) await f.stop().catch(() => f.kill().catch(() => undefined));
    await db.end().catch(() => undefined);
  }
}
