// Anchoring (issue 10, item 13): 5 node processes × 20 namespaces (4 on each), each namespace
// written to every 500 ms and due at the target every second, anchored at a real openssl TSA.
// Measured, with TSA requests counted at the TSA:
// - anchors per hour under the collaborative and the independent strategy, and the per-namespace
//   baseline (every due namespace checkpoint anchored on its own, at its own TSA, same cadence);
// - epoch close → federation receipt finalized on the node, p50/p99 (see closeToFinalized);
// - anchored receipts verified offline per second (verifyReceiptAnchor, the real RFC 3161 check),
//   once with every epoch token seen for the first time and once over all receipts as served.
import {
  base64Decode,
  crypto,
  epochEndMs,
  toHex,
  verifyReceiptAnchor,
  verifyTimestampToken,
  type AnchorStrategy,
  type FederationReceiptTrust,
  type RegistrySet,
} from '@vaultmesh/core';
import os from 'node:os';
import { join } from 'node:path';
import { startDevTsa } from '../packages/node/src/anchoring/index.js';
import { runPerNamespaceBaseline } from './anchoring-baseline.ts';
import {
  NAMESPACES_PER_NODE,
  NODES,
  TARGET,
  startAnchoringFederation,
  type AnchoringFederation,
} from './anchoring-federation.ts';
import type { BenchContext, BenchResults } from './measure.ts';

const EPOCH_MS = 1_000;
const TICK_MS = 50;
const WRITE_EVERY_MS = 500;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function getJson<T>(url: string): Promise<T> {
  // Generous: the listing carries every federation receipt, and the machine may be loaded.
  const r = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  if (r.status !== 200) throw new Error(`GET ${url}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

interface AnchoredReceipt {
  origin: string;
  index: number;
  checkpoint: string;
  anchors: { federation_receipt: { evidence: { tokens: string[] } } }[];
}

interface StrategyRun {
  seconds: number;
  anchorsPerHour: number;
  baselinePerHour?: number;
  baselineDuePerHour?: number;
  closeToFinalizedMs: number[];
  receipts: AnchoredReceipt[];
  registry: RegistrySet;
  caPem: string;
}

/** One entry to every namespace every WRITE_EVERY_MS until `until`; failed writes are counted. */
async function write(run: AnchoringFederation, until: number): Promise<number> {
  let n = 0;
  let failed = 0;
  while (performance.now() < until) {
    const tick = performance.now();
    await Promise.all(
      run.namespaces.map(async ({ node, ns }) => {
        try {
          const r = await fetch(`${node.url}/v1/ns/${ns}/entries`, {
            method: 'POST',
            headers: { authorization: `Bearer ${node.token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ n: n++, ns }),
            signal: AbortSignal.timeout(10_000),
          });
          await r.arrayBuffer();
          if (r.status !== 201) failed++;
        } catch {
          failed++;
        }
      }),
    );
    await sleep(Math.max(0, tick + WRITE_EVERY_MS - performance.now()));
  }
  return failed;
}

/**
 * Epoch close (the end of the epoch's period, when its leaves are gathered) to finalized on node 0
 * (finalized_at, the node's clock), for every finalized epoch that closed after the writes began.
 */
async function closeToFinalized(run: AnchoringFederation, sinceMs: number): Promise<number[]> {
  const node = run.fed.nodes[0]!;
  const { epochs } = await getJson<{ epochs: { epoch: number; status: string; finalized_at: string | null }[] }>(
    `${node.url}/v1/anchoring/epochs?target=${encodeURIComponent(TARGET)}&limit=100`,
  );
  return epochs
    .filter((e) => e.status === 'finalized' && e.finalized_at !== null && epochEndMs(e.epoch, EPOCH_MS) > sinceMs)
    .map((e) => Date.parse(e.finalized_at!) - epochEndMs(e.epoch, EPOCH_MS))
    .sort((a, b) => a - b);
}

/** Anchored receipts of up to `perNamespace` entries of every namespace (those anchored by now). */
async function gatherReceipts(run: AnchoringFederation, perNamespace: number): Promise<AnchoredReceipt[]> {
  const out: AnchoredReceipt[] = [];
  for (const { node, ns } of run.namespaces) {
    for (let i = 0; i < perNamespace; i++) {
      const r = await fetch(`${node.url}/v1/ns/${ns}/receipt/${i * 3}?anchored=1`, {
        signal: AbortSignal.timeout(30_000),
      });
      const body = (await r.json()) as AnchoredReceipt;
      if (r.status === 200 && body.anchors.length > 0) out.push(body);
    }
  }
  return out;
}

async function runStrategy(ctx: BenchContext, strategy: AnchorStrategy, seconds: number): Promise<StrategyRun> {
  const run = await startAnchoringFederation(strategy, { epochMs: EPOCH_MS, tickMs: TICK_MS });
  const baselineTsa =
    strategy === 'collaborative'
      ? await startDevTsa({ dir: join(run.dir, 'tsa-baseline'), name: 'baseline' })
      : undefined;
  try {
    ctx.log(`anchoring ${strategy}: ${NODES} node processes × ${NAMESPACES_PER_NODE} namespaces, ${seconds} s`);
    // A first round of writes and one epoch before counting: every namespace has something sealed.
    await write(run, performance.now() + 2 * EPOCH_MS);
    const requests0 = run.tsa.requests();
    const sinceMs = Date.now();
    const t0 = performance.now();
    const failed = await write(run, t0 + seconds * 1000);
    const elapsed = (performance.now() - t0) / 1000;
    const requests = run.tsa.requests() - requests0;
    // Epochs that closed during the run finalize shortly after it; wait for them before reading.
    await sleep(3 * EPOCH_MS);
    const latencies = await closeToFinalized(run, sinceMs);
    ctx.log(
      `anchoring ${strategy}: ${requests} TSA requests in ${elapsed.toFixed(1)} s, ` +
        `${latencies.length} finalized epochs on node 0, ${failed} failed writes`,
    );
    // The baseline runs after the measured phase, against the same namespaces still being written
    // to: its TSA requests (an openssl process each) would otherwise slow the federation down.
    let baselinePerHour: number | undefined;
    let baselineDuePerHour: number | undefined;
    if (baselineTsa !== undefined) {
      const baseline = runPerNamespaceBaseline(baselineTsa, run.namespaces);
      const b0 = performance.now();
      await write(run, b0 + seconds * 1000);
      const bSeconds = (performance.now() - b0) / 1000;
      const counted = await baseline.stop();
      baselinePerHour = Math.round((counted.requests / bSeconds) * 3600);
      baselineDuePerHour = Math.round((counted.due / bSeconds) * 3600);
      ctx.log(
        `anchoring per-namespace baseline: ${counted.due} due sealed checkpoints, ${counted.requests} TSA requests served in ${bSeconds.toFixed(1)} s`,
      );
    }
    const receipts = strategy === 'collaborative' ? await gatherReceipts(run, ctx.quick ? 4 : 10) : [];
    return {
      seconds: elapsed,
      anchorsPerHour: Math.round((requests / elapsed) * 3600),
      ...(baselinePerHour === undefined ? {} : { baselinePerHour }),
      ...(baselineDuePerHour === undefined ? {} : { baselineDuePerHour }),
      closeToFinalizedMs: latencies,
      receipts,
      registry: run.fed.registry,
      caPem: run.tsa.caCertPem,
    };
  } finally {
    await baselineTsa?.stop();
    await run.stop();
  }
}

function trustOf(registry: RegistrySet, caPem: string): FederationReceiptTrust {
  return {
    registry: (v) => (v === registry.version ? registry : undefined),
    async verifyEvidence(evidence, digest) {
      const tokens = (evidence as { tokens: readonly string[] }).tokens;
      const t = await verifyTimestampToken(base64Decode(tokens[0]!), { digest, trustAnchorsPem: [caPem] });
      return { tx_hash: toHex(crypto.sha256(t.tokenDer)), block: t.serialNumber, timestamp: t.genTimeIso };
    },
  };
}

/** Verifies each receipt's first anchor; throws unless every one verifies. Returns verifications per second. */
async function verifyAll(receipts: readonly AnchoredReceipt[], trust: FederationReceiptTrust): Promise<number> {
  const t0 = performance.now();
  for (const receipt of receipts) {
    const v = await verifyReceiptAnchor(receipt, receipt.anchors[0], trust);
    if (!v.ok) throw new Error(`an anchored receipt did not verify: ${JSON.stringify(v.checks)}`);
  }
  return Math.round(receipts.length / ((performance.now() - t0) / 1000));
}

export default async function anchoring(ctx: BenchContext): Promise<BenchResults> {
  const seconds = ctx.quick ? 10 : 40;
  const collaborative = await runStrategy(ctx, 'collaborative', seconds);
  const independent = await runStrategy(ctx, 'independent', seconds);

  // Verified after the federations stopped (the nodes are other processes, but they share the 2 cores).
  const trust = trustOf(collaborative.registry, collaborative.caPem);
  const byToken = new Map<string, AnchoredReceipt>();
  for (const r of collaborative.receipts) byToken.set(r.anchors[0]!.federation_receipt.evidence.tokens[0]!, r);
  // First one receipt per epoch token, every token decoded and checked for the first time here...
  const distinctPerS = await verifyAll([...byToken.values()], trust);
  // ...then every receipt as served: the receipts of one epoch carry the same token.
  const rounds = ctx.quick ? 3 : 10;
  const all = Array.from({ length: rounds }, () => collaborative.receipts).flat();
  const allPerS = await verifyAll(all, trust);
  ctx.log(
    `anchoring: ${collaborative.receipts.length} anchored receipts over ${byToken.size} epoch tokens: ` +
      `${distinctPerS}/s first sight of each token, ${allPerS}/s over all receipts (${rounds} rounds)`,
  );

  ctx.note(
    'anchoring_load',
    `load average at the end: ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} (2 cores shared)`,
  );
  ctx.note(
    'anchoring',
    `${NODES} node processes (compiled CLI serve) × ${NAMESPACES_PER_NODE * NODES} namespaces, ${EPOCH_MS / 1000} s epochs, ` +
      `tick ${TICK_MS} ms, cadence 1 s, an entry per namespace every ${WRITE_EVERY_MS} ms, openssl TSA on loopback; ` +
      `requests counted at the TSA; baseline = each namespace's sealed checkpoint anchored alone when due (own TSA); ` +
      `latency = epoch close → finalized_at on node 0; receipts verified with verifyReceiptAnchor in the bench process`,
  );
  const out: BenchResults = {
    anchoring_collaborative_anchors_per_hour: collaborative.anchorsPerHour,
    anchoring_independent_anchors_per_hour: independent.anchorsPerHour,
    anchoring_receipt_verify_per_s: allPerS,
    anchoring_receipt_verify_first_token_per_s: distinctPerS,
  };
  if (collaborative.baselinePerHour !== undefined)
    out.anchoring_per_namespace_anchors_per_hour = collaborative.baselinePerHour;
  if (collaborative.baselineDuePerHour !== undefined)
    out.anchoring_per_namespace_due_per_hour = collaborative.baselineDuePerHour;
  if (collaborative.anchorsPerHour > 0) {
    const ratio = (x: number) => Math.round((x / collaborative.anchorsPerHour) * 100) / 100;
    out.anchoring_independent_vs_collaborative_ratio = ratio(independent.anchorsPerHour);
    if (collaborative.baselinePerHour !== undefined)
      out.anchoring_per_namespace_vs_collaborative_ratio = ratio(collaborative.baselinePerHour);
    if (collaborative.baselineDuePerHour !== undefined)
      out.anchoring_per_namespace_due_vs_collaborative_ratio = ratio(collaborative.baselineDuePerHour);
  }
  if (collaborative.closeToFinalizedMs.length > 0) {
    out.anchoring_close_to_finalized_p50_ms = percentile(collaborative.closeToFinalizedMs, 50);
    out.anchoring_close_to_finalized_p99_ms = percentile(collaborative.closeToFinalizedMs, 99);
  }
  return out;
}
