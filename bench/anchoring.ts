// Anchoring (issue 10, item 13): 5 node processes × 20 namespaces each (100 namespaces), each
// namespace written to every 2.5 s and due at the target every 5 s (its cadence aligned with the
// 5 s epochs), anchored at a real openssl TSA. Measured, with TSA requests counted at the TSA:
// - anchors per hour under the collaborative and the independent strategy, over whole epochs
//   (see quietPoint), and the per-namespace baseline (every due namespace checkpoint anchored on
//   its own, at its own TSA, same cadence) over whole cadence periods;
// - due → finalized, p50/p99: from each namespace's cadence due time to the finalization of the
//   first epoch that gathered its leaf after it (see dueToFinalized); and epoch close → finalized;
// - anchored receipts verified offline per second (verifyReceiptAnchor, the real RFC 3161 check),
//   once with every epoch token seen for the first time and once over all receipts as served.
import {
  base64Decode,
  crypto,
  epochEndMs,
  epochNumber,
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
  CADENCE_MS,
  EPOCH_MS,
  NAMESPACES_PER_NODE,
  NODES,
  TARGET,
  startAnchoringFederation,
  type AnchoringFederation,
} from './anchoring-federation.ts';
import type { BenchContext, BenchResults } from './measure.ts';

const TICK_MS = 50;
/** Twice an epoch: every due time finds something new sealed since the one before. */
const WRITE_EVERY_MS = EPOCH_MS / 2;

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

interface ListedEpoch {
  epoch: number;
  mode: string;
  node: string | null;
  status: string;
  finalized_at: string | null;
  federation_receipts: { namespace: string }[];
}

interface StrategyRun {
  epochs: number;
  anchors: number;
  baseline?: { periods: number; due: number; requests: number };
  closeToFinalizedMs: number[];
  dueToFinalizedMs: number[];
  unsatisfiedDue: number;
  receipts: AnchoredReceipt[];
  registry: RegistrySet;
  caPem: string;
}

/** Writes one entry to every namespace every WRITE_EVERY_MS until stopped; stop() gives the failed writes. */
function startWriting(run: AnchoringFederation): { stop: () => Promise<number> } {
  let running = true;
  let n = 0;
  let failed = 0;
  const loop = (async () => {
    while (running) {
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
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return failed;
    },
  };
}

/** The epochs of `node`'s listing (every mode it knows of) from `fromEpoch` on, newest first. */
async function listEpochs(run: AnchoringFederation, i: number, fromEpoch: number): Promise<ListedEpoch[]> {
  const node = run.fed.nodes[i]!;
  const limit = 20;
  const out: ListedEpoch[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await getJson<{ epochs: ListedEpoch[] }>(
      `${node.url}/v1/anchoring/epochs?target=${encodeURIComponent(TARGET)}&limit=${limit}` +
        (before === undefined ? '' : `&before=${before}`),
    );
    const last = page.epochs.at(-1);
    if (last === undefined || page.epochs.length < limit || last.epoch < fromEpoch) {
      out.push(...page.epochs.filter((e) => e.epoch >= fromEpoch));
      return out;
    }
    // A full page may end inside an epoch (several independent rows): that epoch comes whole next.
    out.push(...page.epochs.filter((e) => e.epoch > last.epoch));
    before = last.epoch + 1;
  }
}

/**
 * Whether epoch `e` is finalized: collaboratively, as node 0's status says (it lists no receipts,
 * so polling it costs the node little); independent, each node's own record of `e` finalized.
 */
async function finalized(run: AnchoringFederation, strategy: AnchorStrategy, e: number): Promise<boolean> {
  if (strategy !== 'independent') {
    const status = await getJson<{
      targets: { target: string; last_finalized: { epoch: number; mode: string } | null }[];
    }>(`${run.fed.nodes[0]!.url}/v1/anchoring/status`);
    const last = status.targets.find((t) => t.target === TARGET)?.last_finalized;
    return last !== null && last !== undefined && last.mode === 'collaborative' && last.epoch >= e;
  }
  for (const node of run.fed.nodes) {
    // Epoch e's rows come first: at most one per node.
    const { epochs } = await getJson<{ epochs: ListedEpoch[] }>(
      `${node.url}/v1/anchoring/epochs?target=${encodeURIComponent(TARGET)}&before=${e + 1}&limit=${run.fed.nodes.length}`,
    );
    if (!epochs.some((x) => x.epoch === e && x.node === node.name && x.status === 'finalized')) return false;
  }
  return true;
}

/**
 * A moment between two epochs' anchoring: epoch `closed` (the last one that closed) is finalized
 * and the next has not closed yet, so the TSA's count then holds every anchor of the epochs up to
 * `closed` and none of a later one. Counting between two such moments counts whole epochs.
 */
async function quietPoint(
  run: AnchoringFederation,
  strategy: AnchorStrategy,
  notBefore: number,
): Promise<{ closed: number; requests: number }> {
  // Nothing to ask before epoch `notBefore` closes; then a minute at most.
  await sleep(Math.max(0, epochEndMs(notBefore, EPOCH_MS) - Date.now()));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const current = epochNumber(Date.now(), EPOCH_MS);
    const closed = current - 1;
    if (closed >= notBefore && (await finalized(run, strategy, closed))) {
      const requests = run.tsa.requests();
      // Still inside the epoch after `closed`: nothing of a later epoch can have been requested.
      if (epochNumber(Date.now(), EPOCH_MS) === current) return { closed, requests };
    }
    await sleep(TICK_MS);
  }
  throw new Error(`anchoring ${strategy}: no epoch from ${notBefore} on finalized within its successor (60 s)`);
}

/**
 * Epoch close (the end of the epoch's period, when its leaves are gathered) → finalized_at on
 * node 0 (the leader's clock), for every finalized epoch in `epochs`.
 */
function closeToFinalized(epochs: readonly ListedEpoch[]): number[] {
  return epochs
    .filter((e) => e.status === 'finalized' && e.finalized_at !== null)
    .map((e) => Date.parse(e.finalized_at!) - epochEndMs(e.epoch, EPOCH_MS))
    .sort((a, b) => a - b);
}

/**
 * Due → finalized: each namespace's cadence due times in [fromMs, toMs) (from its persisted
 * schedule: next_due − k·period), each to the finalized_at of the first finalized epoch that
 * closed at or after it and holds a leaf of that namespace. That epoch gathered the namespace's
 * latest sealed checkpoint after the due time, so it covers what was due; an upper bound when the
 * leaf was gathered into an earlier epoch after that one closed. Due times with no such epoch yet
 * are counted, not timed.
 */
async function dueToFinalized(
  run: AnchoringFederation,
  epochs: readonly ListedEpoch[],
  fromMs: number,
  toMs: number,
): Promise<{ latencies: number[]; unsatisfied: number }> {
  const done = epochs
    .filter((e) => e.status === 'finalized' && e.finalized_at !== null)
    .map((e) => ({
      closesMs: epochEndMs(e.epoch, EPOCH_MS),
      finalizedMs: Date.parse(e.finalized_at!),
      namespaces: new Set(e.federation_receipts.map((r) => r.namespace)),
    }))
    .sort((a, b) => a.closesMs - b.closesMs);
  const latencies: number[] = [];
  let unsatisfied = 0;
  for (const { node, ns } of run.namespaces) {
    const view = await getJson<{ cadence_schedule: Record<string, { next_due: string; period_ms: number }> }>(
      `${node.url}/v1/ns/${ns}`,
    );
    for (const level of Object.values(view.cadence_schedule)) {
      const next = Date.parse(level.next_due);
      for (let t = next - level.period_ms; t >= fromMs; t -= level.period_ms) {
        if (t >= toMs) continue;
        const hit = done.find((e) => e.closesMs >= t && e.namespaces.has(ns));
        if (hit === undefined) unsatisfied++;
        else latencies.push(hit.finalizedMs - t);
      }
    }
  }
  return { latencies: latencies.sort((a, b) => a - b), unsatisfied };
}

/**
 * Anchored receipts of up to `perNamespace` entries of every namespace (those anchored by now):
 * every other entry, as a namespace gets two an epoch, so the receipts span that many epochs.
 */
async function gatherReceipts(run: AnchoringFederation, perNamespace: number): Promise<AnchoredReceipt[]> {
  const out: AnchoredReceipt[] = [];
  for (const { node, ns } of run.namespaces) {
    for (let i = 0; i < perNamespace; i++) {
      const r = await fetch(`${node.url}/v1/ns/${ns}/receipt/${i * 2}?anchored=1`, {
        signal: AbortSignal.timeout(30_000),
      });
      const body = (await r.json()) as AnchoredReceipt;
      if (r.status === 200 && body.anchors.length > 0) out.push(body);
    }
  }
  return out;
}

async function runStrategy(ctx: BenchContext, strategy: AnchorStrategy, epochs: number): Promise<StrategyRun> {
  const run = await startAnchoringFederation(strategy, { epochMs: EPOCH_MS, tickMs: TICK_MS });
  const baselineTsa =
    strategy === 'collaborative'
      ? await startDevTsa({ dir: join(run.dir, 'tsa-baseline'), name: 'baseline' })
      : undefined;
  const writing = startWriting(run);
  try {
    ctx.log(`anchoring ${strategy}: ${NODES} node processes × ${NAMESPACES_PER_NODE} namespaces, ${epochs} epochs`);
    // Two epochs of writes before counting: every namespace has something sealed and due.
    await sleep(2 * EPOCH_MS);
    const start = await quietPoint(run, strategy, 0);
    const end = await quietPoint(run, strategy, start.closed + epochs);
    const counted = end.closed - start.closed;
    const anchors = end.requests - start.requests;
    // Due times late in the window are anchored a little after it: let those epochs finalize.
    await sleep(3 * EPOCH_MS);
    const listed = (await listEpochs(run, 0, start.closed)).filter((e) => e.mode === 'collaborative');
    const inWindow = listed.filter((e) => e.epoch > start.closed && e.epoch <= end.closed);
    const closeLatencies = strategy === 'collaborative' ? closeToFinalized(inWindow) : [];
    const due =
      strategy === 'collaborative'
        ? // Due times after epoch start.closed closed, up to the close of end.closed (included).
          await dueToFinalized(
            run,
            listed,
            epochEndMs(start.closed, EPOCH_MS) + 1,
            epochEndMs(end.closed, EPOCH_MS) + 1,
          )
        : { latencies: [], unsatisfied: 0 };
    ctx.log(
      `anchoring ${strategy}: ${anchors} TSA requests for the ${counted} epochs ${start.closed + 1}–${end.closed}` +
        (strategy === 'collaborative'
          ? `, ${inWindow.filter((e) => e.status === 'finalized').length} finalized on node 0; ` +
            `${due.latencies.length} due times timed, ${due.unsatisfied} not anchored within 3 epochs of the window`
          : ''),
    );
    // The baseline runs after the measured phase, against the same namespaces still being written
    // to: its TSA requests (an openssl process each) would otherwise slow the federation down.
    let baseline: StrategyRun['baseline'];
    if (baselineTsa !== undefined) {
      const b = await runPerNamespaceBaseline(baselineTsa, run.namespaces, epochs);
      baseline = { periods: epochs, ...b };
      ctx.log(
        `anchoring per-namespace baseline: ${b.due} due sealed checkpoints in ${epochs} cadence periods, ${b.requests} TSA requests served`,
      );
    }
    const failed = await writing.stop();
    ctx.log(`anchoring ${strategy}: ${failed} failed writes`);
    const receipts = strategy === 'collaborative' ? await gatherReceipts(run, ctx.quick ? 4 : 10) : [];
    return {
      epochs: counted,
      anchors,
      ...(baseline === undefined ? {} : { baseline }),
      closeToFinalizedMs: closeLatencies,
      dueToFinalizedMs: due.latencies,
      unsatisfiedDue: due.unsatisfied,
      receipts,
      registry: run.fed.registry,
      caPem: run.tsa.caCertPem,
    };
  } finally {
    await writing.stop();
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
  const epochs = ctx.quick ? 6 : 24;
  const collaborative = await runStrategy(ctx, 'collaborative', epochs);
  const independent = await runStrategy(ctx, 'independent', epochs);

  // Verified after the federations stopped (the nodes are other processes, but they share the 2 cores).
  const trust = trustOf(collaborative.registry, collaborative.caPem);
  const byToken = new Map<string, AnchoredReceipt>();
  for (const r of collaborative.receipts) byToken.set(r.anchors[0]!.federation_receipt.evidence.tokens[0]!, r);
  // First one receipt per epoch token, every token decoded and checked for the first time here...
  const distinctPerS = await verifyAll([...byToken.values()], trust);
  // ...then every receipt as served: the receipts of one epoch carry the same token.
  const rounds = ctx.quick ? 2 : 5;
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
    `${NODES} node processes (compiled CLI serve) × ${NAMESPACES_PER_NODE} namespaces each, ${EPOCH_MS / 1000} s epochs, ` +
      `tick ${TICK_MS} ms, cadence ${CADENCE_MS / 1000} s effective at an epoch boundary, an entry per namespace every ${WRITE_EVERY_MS} ms, openssl TSA on loopback; ` +
      `requests counted at the TSA over ${epochs} whole epochs; baseline = each namespace's sealed checkpoint anchored alone ` +
      `when due (own TSA) over ${epochs} cadence periods; latency = cadence due time → finalized_at of the first finalized ` +
      `epoch closed after it holding the namespace, and epoch close → finalized_at, on node 0; receipts verified with ` +
      `verifyReceiptAnchor in the bench process`,
  );
  const perHour = (count: number, periods: number, periodMs: number) =>
    Math.round((count / periods) * (3_600_000 / periodMs));
  const collaborativePerHour = perHour(collaborative.anchors, collaborative.epochs, EPOCH_MS);
  const out: BenchResults = {
    anchoring_collaborative_anchors_per_hour: collaborativePerHour,
    anchoring_collaborative_anchors_per_epoch: Math.round((collaborative.anchors / collaborative.epochs) * 1000) / 1000,
    anchoring_independent_anchors_per_hour: perHour(independent.anchors, independent.epochs, EPOCH_MS),
    anchoring_receipt_verify_per_s: allPerS,
    anchoring_receipt_verify_first_token_per_s: distinctPerS,
    anchoring_due_unsatisfied: collaborative.unsatisfiedDue,
  };
  const ratio = (x: number) => Math.round((x / collaborativePerHour) * 100) / 100;
  if (collaborative.baseline !== undefined) {
    const b = collaborative.baseline;
    out.anchoring_per_namespace_due_per_hour = perHour(b.due, b.periods, CADENCE_MS);
    out.anchoring_per_namespace_anchors_per_hour = perHour(b.requests, b.periods, CADENCE_MS);
  }
  if (collaborativePerHour > 0) {
    out.anchoring_independent_vs_collaborative_ratio = ratio(out.anchoring_independent_anchors_per_hour!);
    if (out.anchoring_per_namespace_due_per_hour !== undefined)
      out.anchoring_per_namespace_due_vs_collaborative_ratio = ratio(out.anchoring_per_namespace_due_per_hour);
    if (out.anchoring_per_namespace_anchors_per_hour !== undefined)
      out.anchoring_per_namespace_vs_collaborative_ratio = ratio(out.anchoring_per_namespace_anchors_per_hour);
  }
  if (collaborative.dueToFinalizedMs.length > 0) {
    out.anchoring_due_to_finalized_p50_ms = percentile(collaborative.dueToFinalizedMs, 50);
    out.anchoring_due_to_finalized_p99_ms = percentile(collaborative.dueToFinalizedMs, 99);
  }
  if (collaborative.closeToFinalizedMs.length > 0) {
    out.anchoring_close_to_finalized_p50_ms = percentile(collaborative.closeToFinalizedMs, 50);
    out.anchoring_close_to_finalized_p99_ms = percentile(collaborative.closeToFinalizedMs, 99);
  }
  return out;
}
