// Federation: one witness's add-checkpoint throughput in process, and cosigning rounds of a real
// local federation of 3, 5 and 7 node processes on loopback (all sharing this 2-core machine).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MemoryTree,
  NoteSigner,
  crypto,
  formatAddCheckpointRequest,
  signCheckpoint,
  utf8Encode,
} from '@vaultmesh/core';
import { SqliteWitnessStorage, StaticWitnessLogs, Witness } from '../packages/node/src/witness/index.ts';
import { startLocalFederation } from '../test/e2e/harness/local-federation.ts';
import type { BenchContext, BenchResults } from './measure.ts';

/** Requests a witness would see from `logs` logs growing by a few entries per checkpoint. */
function witnessWorkload(logs: number, perLog: number): { vkeys: Map<string, string[]>; bodies: string[][] } {
  const vkeys = new Map<string, string[]>();
  const bodies: string[][] = [];
  for (let l = 0; l < logs; l++) {
    const origin = `bench${l}.vaultmesh.local/bench:witness`;
    const signer = new NoteSigner(origin, crypto.randomBytes(32));
    vkeys.set(origin, [signer.vkey]);
    const tree = new MemoryTree();
    const seq: string[] = [];
    let old = 0;
    for (let k = 0; k < perLog; k++) {
      for (let e = 0; e < 3; e++) tree.append(utf8Encode(`entry ${l}/${k}/${e}`));
      const note = signCheckpoint({ origin, size: tree.size, root: tree.root() }, signer);
      seq.push(
        formatAddCheckpointRequest({
          oldSize: old,
          proof: old === 0 ? [] : tree.consistencyProof(old, tree.size),
          checkpoint: note,
        }),
      );
      old = tree.size;
    }
    bodies.push(seq);
  }
  return { vkeys, bodies };
}

async function witnessThroughput(ctx: BenchContext): Promise<number> {
  const logs = 50;
  const perLog = ctx.quick ? 20 : 60;
  ctx.log(`witness: preparing ${logs * perLog} add-checkpoint requests from ${logs} logs`);
  const { vkeys, bodies } = witnessWorkload(logs, perLog);
  const dir = mkdtempSync(join(tmpdir(), 'remembrancer-bench-witness-'));
  const witness = new Witness({
    storage: SqliteWitnessStorage.open(join(dir, 'witness.sqlite')),
    name: 'bench.vaultmesh.local/witness',
    seed: crypto.randomBytes(32),
    logs: new StaticWitnessLogs(vkeys),
  });
  try {
    const t0 = performance.now();
    // Each log sends its checkpoints in order (as a log does); the logs run concurrently.
    await Promise.all(
      bodies.map(async (seq) => {
        for (const body of seq) {
          const r = await witness.submitCheckpoint(body);
          if (r.status !== 200) throw new Error(`witness answered ${r.status}: ${r.body}`);
        }
      }),
    );
    return Math.round((logs * perLog) / ((performance.now() - t0) / 1000));
  } finally {
    await witness.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Appends to the first node for a while; the cosigner's round latencies come from its status. */
async function cosignRounds(ctx: BenchContext, n: number): Promise<{ p50: number; p99: number; rounds: number }> {
  const dir = mkdtempSync(join(tmpdir(), `remembrancer-bench-fed${n}-`));
  ctx.log(`cosigning: starting ${n} node processes`);
  const fed = await startLocalFederation(dir, n, { checkpointIntervalMs: 100 });
  try {
    const alpha = fed.nodes[0]!;
    const headers = { authorization: `Bearer ${alpha.token}`, 'content-type': 'application/json' };
    const created = await fetch(`${alpha.url}/v1/ns/bench:cosign`, { method: 'PUT', headers, body: '{}' });
    if (created.status !== 201) throw new Error(`namespace create failed: ${created.status}`);
    const seconds = ctx.quick ? 4 : 12;
    ctx.log(`cosigning: ${seconds} s of appends to ${alpha.name}, a checkpoint every 100 ms`);
    const end = Date.now() + seconds * 1000;
    let i = 0;
    while (Date.now() < end) {
      const r = await fetch(`${alpha.url}/v1/ns/bench:cosign/batch`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ entries: Array.from({ length: 20 }, () => ({ i: i++ })) }),
      });
      if (r.status !== 201) throw new Error(`append failed: ${r.status}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 1500));
    const status = (await (await fetch(`${alpha.url}/v1/federation/status`)).json()) as {
      cosigning: { round_p50_ms: number; round_p99_ms: number; rounds?: number };
    };
    return {
      p50: status.cosigning.round_p50_ms,
      p99: status.cosigning.round_p99_ms,
      rounds: status.cosigning.rounds ?? 0,
    };
  } finally {
    await fed.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function federationBench(ctx: BenchContext): Promise<BenchResults> {
  const out: BenchResults = { witness_add_checkpoint_per_s: await witnessThroughput(ctx) };
  for (const n of ctx.quick ? [3, 5] : [3, 5, 7]) {
    const r = await cosignRounds(ctx, n);
    out[`cosign_round_p50_ms_${n}`] = r.p50;
    out[`cosign_round_p99_ms_${n}`] = r.p99;
    ctx.note(`cosign_${n}`, `${n} node processes, ${r.rounds} rounds, checkpoint every 100 ms`);
  }
  // The unsuffixed keys the issue names are the 5-node figures.
  out.cosign_round_p50_ms = out.cosign_round_p50_ms_5!;
  out.cosign_round_p99_ms = out.cosign_round_p99_ms_5!;
  return out;
}
