// Runs in its own process (so its peak RSS is its own; see peakRssMb): fills one namespace to N
// entries and measures inclusion-proof latency at 10,000 entries and at N. Prints one JSON line.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crypto, publicKeyBase64 } from '@vaultmesh/core';
import { buildHttpServer } from '../packages/node/src/http/server.ts';
import { openNamespaceServices } from '../packages/node/src/namespaces/namespace-services.ts';
import type { LogEngine } from '../packages/node/src/log/log-engine.ts';
import { appendMany, openBenchLog } from './bench-log.ts';

const total = Number(process.argv[2]);
const SMALL = 10_000;
const NS = 'bench:scale';
const SMALL_NS = 'bench:scale-10k';

/**
 * Peak resident set of this process, in MB. Linux's getrusage maxRSS (process.resourceUsage) is
 * not this process's own figure: fork copies the parent's resident pages into the child's count
 * and exec carries that high-water mark over, so under bench/run.ts, after the other areas have
 * grown the parent, it reports the parent's RSS. VmHWM is the high-water mark of this process's
 * own address space (reset by exec).
 */
function peakRssMb(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm !== null) return Math.round(Number(hwm[1]) / 1024);
  } catch {
    // Not Linux: fall back to getrusage.
  }
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** Random indices of the tree of `size` leaves (a fixed sequence per tree). */
function indices(size: number): () => number {
  let seed = 777;
  return () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % size;
  };
}

/**
 * Mean latency, in ms, of inclusion proofs at random indices (the engine call the HTTP API makes)
 * in a 10,000-entry log and in the N-entry log, measured the same way and side by side: both
 * paths are first brought to steady state (JIT tiers: without this the first figure measured is
 * mostly compilation), then rounds of 1,000 proofs alternate between the two logs and the median
 * round of each is reported. Alternating rounds see the same machine: on a shared machine another
 * process's load changes over seconds, and two measurements minutes apart would compare it.
 */
async function proofLatencies(
  engine: LogEngine,
  small: string,
  large: string,
  size: number,
): Promise<[number, number]> {
  const nextSmall = indices(SMALL);
  const nextLarge = indices(size);
  for (let i = 0; i < 20_000; i++) {
    await engine.inclusionProof(small, nextSmall(), SMALL);
    await engine.inclusionProof(large, nextLarge(), size);
  }
  const roundsSmall: number[] = [];
  const roundsLarge: number[] = [];
  for (let r = 0; r < 25; r++) {
    let t0 = performance.now();
    for (let i = 0; i < 1000; i++) await engine.inclusionProof(small, nextSmall(), SMALL);
    roundsSmall.push((performance.now() - t0) / 1000);
    t0 = performance.now();
    for (let i = 0; i < 1000; i++) await engine.inclusionProof(large, nextLarge(), size);
    roundsLarge.push((performance.now() - t0) / 1000);
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
  return [median(roundsSmall), median(roundsLarge)];
}

/**
 * The same comparison as a client of the node sees it: GET /v1/ns/{ns}/proof/inclusion through the
 * node's HTTP routes (Fastify inject: routing, validation, root lookup, JSON; no socket), in
 * alternating rounds of 200 requests, median round.
 */
async function apiProofLatencies(
  engine: LogEngine,
  small: string,
  large: string,
  size: number,
): Promise<[number, number]> {
  // The node's real request path, namespace rules included (read access is checked per request).
  const rulesDir = mkdtempSync(join(tmpdir(), 'remembrancer-scale-rules-'));
  const seed = crypto.randomBytes(32);
  const namespaces = await openNamespaceServices({
    engine,
    dataDir: rulesDir,
    adminToken: 'unused',
    operators: { threshold: 1, operators: [{ id: 'bench/operator', ed25519: publicKeyBase64(seed) }] },
  });
  const app = buildHttpServer({
    engine,
    namespaces,
    nodeName: 'bench.vaultmesh.local',
    version: 'bench',
    adminToken: 'unused',
    self: {
      id: 'bench.vaultmesh.local',
      endpoint: 'http://127.0.0.1:1',
      log_vkey: '',
      witness_vkey: '',
      auth_key: '',
      status: 'active',
      roles: [],
    },
  });
  await app.ready();
  const nextSmall = indices(SMALL);
  const nextLarge = indices(size);
  const get = async (ns: string, index: number, n: number) => {
    const r = await app.inject({ method: 'GET', url: `/v1/ns/${ns}/proof/inclusion?index=${index}&size=${n}` });
    if (r.statusCode !== 200) throw new Error(`proof request failed: ${r.statusCode} ${r.body}`);
  };
  for (let i = 0; i < 3000; i++) {
    await get(small, nextSmall(), SMALL);
    await get(large, nextLarge(), size);
  }
  const roundsSmall: number[] = [];
  const roundsLarge: number[] = [];
  for (let r = 0; r < 15; r++) {
    let t0 = performance.now();
    for (let i = 0; i < 200; i++) await get(small, nextSmall(), SMALL);
    roundsSmall.push((performance.now() - t0) / 200);
    t0 = performance.now();
    for (let i = 0; i < 200; i++) await get(large, nextLarge(), size);
    roundsLarge.push((performance.now() - t0) / 200);
  }
  await app.close();
  await namespaces.close();
  rmSync(rulesDir, { recursive: true, force: true });
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
  return [median(roundsSmall), median(roundsLarge)];
}

const log = await openBenchLog('scale');
let small: number;
let large: number;
let apiSmall: number;
let apiLarge: number;
let fillSeconds: number;
try {
  await log.engine.createNamespace(NS);
  await appendMany(log.engine, NS, SMALL, 1000, 2);
  const t0 = performance.now();
  let done = SMALL;
  const step = 500_000;
  while (done < total) {
    const n = Math.min(step, total - done);
    await appendMany(log.engine, NS, n, 4096, 2, done);
    done += n;
    process.stderr.write(
      `  … scale: ${done.toLocaleString('en-US')} entries, rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB\n`,
    );
  }
  fillSeconds = (performance.now() - t0) / 1000;
  // The 10,000-entry log, written just now (as a small log is: its tiles are in memory).
  await log.engine.createNamespace(SMALL_NS);
  await appendMany(log.engine, SMALL_NS, SMALL, 1000, 2);
  [small, large] = await proofLatencies(log.engine, SMALL_NS, NS, total);
  [apiSmall, apiLarge] = await apiProofLatencies(log.engine, SMALL_NS, NS, total);
} finally {
  await log.close();
}
// After close (final checkpoint, mirror sync, WAL checkpoint), so the peak covers the whole run.
const peakRss = peakRssMb();
process.stderr.write(
  `  … scale: peak RSS ${peakRss} MB (getrusage maxRSS, which also counts the parent's RSS at spawn: ${Math.round(process.resourceUsage().maxRSS / 1024)} MB)\n`,
);
process.stdout.write(
  JSON.stringify({
    scale_entries: total,
    scale_peak_rss_mb: peakRss,
    scale_proof_ms_small: Math.round(apiSmall * 10000) / 10000,
    scale_proof_ms_large: Math.round(apiLarge * 10000) / 10000,
    scale_engine_proof_ms_small: Math.round(small * 10000) / 10000,
    scale_engine_proof_ms_large: Math.round(large * 10000) / 10000,
    scale_fill_eps: Math.round((total - SMALL) / fillSeconds),
  }) + '\n',
);
