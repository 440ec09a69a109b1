// A log engine in a temp dir, as a node opens it (SQLite, synchronous=FULL, batch hasher), for
// the in-process benchmarks.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalBytes, crypto } from '@vaultmesh/core';
import { loadBatchHasher } from '../packages/node/src/hashing/index.ts';
import { openLogEngine } from '../packages/node/src/log/index.ts';
import type { LogEngine } from '../packages/node/src/log/log-engine.ts';

export interface BenchLog {
  engine: LogEngine;
  dir: string;
  close(): Promise<void>;
}

export async function openBenchLog(name: string, options: { synchronous?: 'FULL' | 'NORMAL' } = {}): Promise<BenchLog> {
  const dir = mkdtempSync(join(tmpdir(), `remembrancer-bench-${name}-`));
  const engine = await openLogEngine({
    dataDir: dir,
    nodeName: 'bench.vaultmesh.local',
    logSeed: crypto.randomBytes(32),
    synchronous: options.synchronous ?? 'FULL',
    checkpointIntervalMs: 3_600_000,
    batchHasher: loadBatchHasher(),
  });
  return {
    engine,
    dir,
    async close() {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A typical small memory record (~110 bytes of canonical JSON), distinct per i. */
export function benchEntry(i: number): Uint8Array {
  return canonicalBytes({
    kind: 'memory',
    seq: i,
    actor: `did:example:${i % 97}`,
    note: 'benchmark entry of a typical size',
  });
}

/**
 * Appends `total` entries in calls of `perCall`, keeping `inFlight` calls outstanding (as
 * concurrent HTTP requests would); resolves with the wall time in seconds.
 */
export async function appendMany(
  engine: LogEngine,
  ns: string,
  total: number,
  perCall: number,
  inFlight: number,
  offset = 0,
): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  const lane = async () => {
    while (next < total) {
      const start = next;
      const n = Math.min(perCall, total - start);
      next += n;
      const entries = new Array<Uint8Array>(n);
      for (let k = 0; k < n; k++) entries[k] = benchEntry(offset + start + k);
      await engine.append(ns, entries);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return (performance.now() - t0) / 1000;
}
