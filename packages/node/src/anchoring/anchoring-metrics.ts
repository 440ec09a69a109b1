import type { NodeMetrics } from '../metrics/node-metrics.js';
import type { AnchoringStatus } from './anchoring-status.js';

/** Copies the anchoring status into the `remembrancer_anchoring` gauges at scrape time (issue 10, item 10). */
export function sampleAnchoringMetrics(status: AnchoringStatus, metrics: NodeMetrics): void {
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  for (const t of status.targets) {
    const set = (what: string, v: number) => metrics.anchoring.set({ target: t.target, what }, v);
    if (t.last_finalized) {
      set('last_finalized_epoch', t.last_finalized.epoch);
      set('last_anchor_age_seconds', t.last_finalized.age_ms / 1000);
    }
    set('pending_leaves', t.pending_leaves);
    set('finalized_epochs', sum(t.finalized));
    set('abandoned_epochs', t.abandoned);
    set('duplicates', t.duplicates);
    set('failovers', t.failovers);
    set('target_requests', t.target_requests);
    set('failures', t.failures.total);
    set('skips', sum(t.skips));
    if (t.chain) {
      const c = t.chain.costs;
      const cost = (what: string, v: number) => metrics.chainAnchorCost.set({ target: t.target, what }, v);
      metrics.chainAnchorFee.set({ target: t.target, unit: c.unit }, Number(c.fee_total));
      cost('anchors', c.anchors);
      cost('checkpoints', c.checkpoints);
      if (c.gas_used !== undefined) cost('gas_used', Number(c.gas_used));
      if (c.vbytes !== undefined) cost('vbytes', c.vbytes);
      cost('fee_per_epoch', Number(c.fee_per_epoch));
      cost('fee_per_checkpoint', Number(c.fee_per_checkpoint));
      cost('in_flight', t.chain.in_flight.length);
    }
  }
}
