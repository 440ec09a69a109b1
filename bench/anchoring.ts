// Anchoring (issue 10, item 13): 5 nodes × 20 namespaces in one process, each namespace written
// to every 500 ms and due at the target every second, anchored at a real openssl TSA. Measured:
// TSA requests per hour under the collaborative and the independent strategy (counted at the
// TSA), how long a collaborative epoch takes from its close to finalized (p50/p99: leaves
// gathered, every leaf checked by every signer, quorum, TSA round trip, stored), and how many
// federation receipts per second verify offline with the real RFC 3161 token check.
import { epochEndMs, verifyFederationReceipt, type AnchorStrategy, type FederationReceipt } from '@vaultmesh/core';
import {
  admin,
  json,
  makeNamespaces,
  startInProcessFederation,
  trustFor,
  TARGET,
  type Federation,
} from '../packages/node/test/anchoring/in-process-federation.ts';
import type { BenchContext, BenchResults } from './measure.ts';

const NODES = 5;
const NAMESPACES_PER_NODE = 4;
const EPOCH_MS = 2_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface StrategyRun {
  anchorsPerHour: number;
  closeToFinalizedMs: number[];
}

async function runStrategy(
  ctx: BenchContext,
  strategy: AnchorStrategy,
  seconds: number,
  keep: (fed: Federation) => Promise<void>,
): Promise<StrategyRun> {
  const fed = await startInProcessFederation(`bench-${strategy}`, NODES, strategy, { epochMs: EPOCH_MS });
  try {
    const namespaces = await makeNamespaces(fed, NAMESPACES_PER_NODE);
    ctx.log(`anchoring ${strategy}: ${NODES} nodes × ${NAMESPACES_PER_NODE} namespaces, writing for ${seconds} s`);
    const requests0 = fed.tsa.requests();
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < seconds * 1000) {
      await Promise.all(
        namespaces.map(({ node, ns }) =>
          fetch(`${node.url}/v1/ns/${ns}/entries`, {
            method: 'POST',
            headers: admin(node),
            body: JSON.stringify({ n: n++, ns }),
          }).then((r) => r.arrayBuffer()),
        ),
      );
      await sleep(500);
    }
    const elapsed = (performance.now() - t0) / 1000;
    const requests = fed.tsa.requests() - requests0;
    const epochs = await json<{
      epochs: { epoch: number; status: string; mode: string; finalized_at: string | null }[];
    }>(`${fed.nodes[0]!.url}/v1/anchoring/epochs?target=${encodeURIComponent(TARGET)}&limit=100`);
    const closeToFinalizedMs = epochs.body.epochs
      .filter((e) => e.status === 'finalized' && e.finalized_at !== null)
      .map((e) => Date.parse(e.finalized_at!) - epochEndMs(e.epoch, EPOCH_MS))
      .sort((a, b) => a - b);
    ctx.log(`anchoring ${strategy}: ${requests} TSA requests in ${elapsed.toFixed(1)} s`);
    await keep(fed);
    return { anchorsPerHour: Math.round((requests / elapsed) * 3600), closeToFinalizedMs };
  } finally {
    await fed.close();
  }
}

export default async function anchoring(ctx: BenchContext): Promise<BenchResults> {
  const seconds = ctx.quick ? 8 : 30;
  // Receipts and the trust to check them are gathered while the federation runs; they are
  // verified after it stopped, so the nodes' timers do not share the event loop with the check.
  const gathered: { receipts: FederationReceipt[]; trust?: ReturnType<typeof trustFor> } = { receipts: [] };
  const collaborative = await runStrategy(ctx, 'collaborative', seconds, async (fed) => {
    for (const node of fed.nodes) {
      const r = await json<{ epochs: { federation_receipts: FederationReceipt[] }[] }>(
        `${node.url}/v1/anchoring/epochs?target=${encodeURIComponent(TARGET)}&limit=20`,
      );
      for (const e of r.body.epochs) gathered.receipts.push(...e.federation_receipts);
    }
    gathered.trust = trustFor(fed);
  });
  let verifyPerS = 0;
  if (gathered.trust && gathered.receipts.length > 0) {
    const rounds = ctx.quick ? 2 : 5;
    const t0 = performance.now();
    for (let k = 0; k < rounds; k++) {
      for (const receipt of gathered.receipts) {
        const v = await verifyFederationReceipt(receipt, gathered.trust);
        if (!v.ok) throw new Error(`a federation receipt did not verify: ${JSON.stringify(v.checks)}`);
      }
    }
    verifyPerS = Math.round((rounds * gathered.receipts.length) / ((performance.now() - t0) / 1000));
  }
  const independent = await runStrategy(ctx, 'independent', seconds, async () => undefined);
  ctx.note(
    'anchoring',
    `${NODES} nodes × ${NAMESPACES_PER_NODE * NODES} namespaces in one process, ${EPOCH_MS / 1000} s epochs, cadence 1 s, an entry per namespace every 500 ms, openssl TSA on loopback; requests counted at the TSA`,
  );
  const out: BenchResults = {
    anchoring_collaborative_anchors_per_hour: collaborative.anchorsPerHour,
    anchoring_independent_anchors_per_hour: independent.anchorsPerHour,
    anchoring_receipt_verify_per_s: verifyPerS,
  };
  if (collaborative.anchorsPerHour > 0)
    out.anchoring_independent_vs_collaborative_ratio =
      Math.round((independent.anchorsPerHour / collaborative.anchorsPerHour) * 100) / 100;
  if (collaborative.closeToFinalizedMs.length > 0) {
    out.anchoring_close_to_finalized_p50_ms = percentile(collaborative.closeToFinalizedMs, 50);
    out.anchoring_close_to_finalized_p99_ms = percentile(collaborative.closeToFinalizedMs, 99);
  }
  return out;
}
