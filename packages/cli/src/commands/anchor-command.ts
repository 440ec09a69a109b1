import type { Command } from 'commander';
import type { AnchoringStatus } from '@vaultmesh/node';
import { clientFrom, withConnection, type ConnectionOptions } from '../client/connection.js';
import { printResult } from '../output.js';

function describeStatus(s: AnchoringStatus): string {
  const lines = [
    `node ${s.node}: strategy ${s.strategy ?? 'none (no registry)'}, quorum ${s.quorum ?? '-'} of ${s.signers.length} anchor peers`,
  ];
  for (const t of s.targets) {
    const how = t.chain
      ? `final at ${t.chain.confirmations} confirmation(s)`
      : `${t.require ?? 'any'} of ${(t.tsas ?? []).join(', ')}`;
    lines.push(`${t.target} (${how}), epochs of ${t.epoch_ms / 1000} s`);
    const f = t.last_finalized;
    lines.push(
      f
        ? `  last finalized: epoch ${f.epoch} (${f.mode}) root ${f.root}, leader ${f.leader}${f.attempt > 0 ? ` (failover ${f.attempt})` : ''}, ${f.signatures} signatures, ${f.leaves} leaves, anchored ${f.anchor_time} (${Math.round(f.age_ms / 1000)} s ago${f.stale ? ', STALE' : ''})`
        : '  last finalized: none yet',
    );
    const finalized = Object.entries(t.finalized)
      .map(([m, n]) => `${n} ${m}`)
      .join(', ');
    lines.push(
      `  next due ${t.next_due}; pending leaves ${t.pending_leaves}; finalized ${finalized || '0'}; requests ${t.target_requests}; duplicates ${t.duplicates}; failovers ${t.failovers}; abandoned ${t.abandoned}`,
    );
    const skips = Object.entries(t.skips);
    if (skips.length > 0) lines.push(`  skipped: ${skips.map(([r, n]) => `${n} ${r}`).join(', ')}`);
    if (t.chain) {
      const c = t.chain.costs;
      const used = c.unit === 'wei' ? `${c.gas_used ?? '0'} gas` : `${c.vbytes ?? 0} vbytes`;
      lines.push(
        `  costs: ${c.anchors} final anchor(s), ${used}, ${c.fee_total} ${c.unit}; ${c.fee_per_epoch} ${c.unit} per epoch, ${c.fee_per_checkpoint} ${c.unit} per namespace checkpoint (${c.checkpoints})`,
      );
      for (const a of t.chain.in_flight)
        lines.push(`  in flight: epoch ${a.epoch} ${a.txid} ${a.state} (${a.confirmations} confirmation(s))`);
      for (const e of t.chain.recent_events.slice(0, 5))
        lines.push(`    ${e.at} epoch ${e.epoch} ${e.event} ${e.txid}: ${e.detail}`);
    }
    lines.push(`  failures: ${t.failures.total}`);
    for (const x of t.failures.recent.slice(0, 5)) lines.push(`    ${x.at} epoch ${x.epoch ?? '-'}: ${x.reason}`);
  }
  for (const u of s.unconfigured_targets)
    lines.push(`NOT CONFIGURED here: ${u.target}, named by ${u.namespaces.join(', ')}`);
  return lines.join('\n');
}

/** `remembrancer anchor status`: the node's anchoring figures (GET /v1/anchoring/status). */
export function registerAnchor(program: Command): void {
  const anchor = program.command('anchor').description('collaborative anchoring of sealed checkpoints');
  withConnection(anchor.command('status').description('per anchor target: last finalized epoch, pending, failures'))
    .option('--json', 'machine-readable output')
    .action(async (opts: ConnectionOptions & { json?: boolean }) => {
      const s = await clientFrom(opts).json<AnchoringStatus>('GET', '/v1/anchoring/status');
      printResult(opts, s, () => describeStatus(s));
    });
}
