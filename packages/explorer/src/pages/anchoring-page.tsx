/** @jsxRuntime automatic @jsxImportSource preact */
import { useDirectory } from '../api/node-directory.ts';
import type { AnchorTargetStatus, AnchoringStatus } from '../api/types.ts';
import { KeyValues } from '../components/key-values.tsx';
import { ReadState, UpdatedAt } from '../components/read-state.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { useLive, useNow } from '../live.ts';
import { anchorHealth } from '../model/anchor-health.ts';
import { formatAge, formatCount, formatDuration, formatUtc, shortHash } from '../model/format.ts';

function counts(record: Record<string, number> | undefined): string {
  const parts = Object.entries(record ?? {}).map(([k, v]) => `${formatCount(v)} ${k}`);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

function Target({ t, now }: { t: AnchorTargetStatus; now: number }) {
  const h = anchorHealth(t, now);
  const last = t.last_finalized ?? undefined;
  const chain = t.chain;
  return (
    <article class="card" data-target={t.target} aria-labelledby={`t-${t.target}`}>
      <h2 id={`t-${t.target}`}>
        {t.target} <span class="sub">({t.kind})</span>
      </h2>
      <p>
        <StatusBadge health={h.health} label={h.health === 'ok' ? 'On time' : undefined} />
        {h.reasons.length > 0 && <> {h.reasons.join('; ')}</>}
      </p>
      <KeyValues
        items={[
          ['Cadence', `an epoch every ${formatDuration(t.epoch_ms)}; next closes ${formatAge(t.next_due, now)}`],
          ['Last finalized epoch', last ? `${last.epoch} (${last.mode ?? '—'})` : 'none yet'],
          [
            'Anchor age',
            h.ageMs === undefined ? '—' : `${formatDuration(h.ageMs)} (cadence ${formatDuration(t.epoch_ms)})`,
          ],
          ['Leader', last?.leader ? `${last.leader}${last.attempt ? `, attempt ${last.attempt + 1}` : ''}` : '—'],
          ['Signatures', last?.signatures !== undefined ? String(last.signatures) : '—'],
          ['Root', last?.root ? <code title={last.root}>{shortHash(last.root, 16)}</code> : '—'],
          ['Anchor time', formatUtc(last?.anchor_time)],
          ['Pending leaves', formatCount(t.pending_leaves ?? 0)],
          ['Finalized', counts(t.finalized)],
          ['Abandoned', formatCount(t.abandoned ?? 0)],
          ['Failovers', formatCount(t.failovers ?? 0)],
          ['Duplicates', formatCount(t.duplicates ?? 0)],
          ['Skips', counts(t.skips)],
          ...(chain
            ? ([
                ['Confirmations required', String(chain.confirmations ?? '—')],
                [
                  'Costs',
                  chain.costs
                    ? `${chain.costs['fee_total']} ${chain.costs['unit']} for ${chain.costs['anchors']} anchors (${chain.costs['fee_per_checkpoint']} per checkpoint)`
                    : '—',
                ],
              ] as [string, string][])
            : []),
          ...(t.tsas ? ([['TSAs', `${t.tsas.join(', ')} (require ${t.require ?? 'any'})`]] as [string, string][]) : []),
        ]}
      />
      {chain?.in_flight && chain.in_flight.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption>Transactions not final yet</caption>
            <thead>
              <tr>
                <th scope="col">Epoch</th>
                <th scope="col">Transaction</th>
                <th scope="col">State</th>
                <th scope="col">Confirmations</th>
              </tr>
            </thead>
            <tbody>
              {chain.in_flight.map((x) => (
                <tr key={x.txid}>
                  <td>{x.epoch}</td>
                  <td>
                    <code title={x.txid}>{shortHash(x.txid, 18)}</code>
                  </td>
                  <td>{x.state}</td>
                  <td>{x.confirmations ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <details open={(t.failures?.recent.length ?? 0) > 0 && h.health !== 'ok'}>
        <summary>Failures: {formatCount(t.failures?.total ?? 0)}</summary>
        {(t.failures?.recent.length ?? 0) === 0 ? (
          <p>None.</p>
        ) : (
          <ul class="failures">
            {t.failures!.recent.map((f, i) => (
              <li key={`${f.epoch}-${i}`}>
                {formatUtc(f.at)} — epoch {f.epoch}: {f.reason}
              </li>
            ))}
          </ul>
        )}
      </details>
    </article>
  );
}

export function AnchoringPage() {
  const dir = useDirectory();
  const live = useLive(() => dir.local.json<AnchoringStatus>('/v1/anchoring/status'), 'anchoring');
  const now = useNow();
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Anchoring health</h1>
      <ReadState
        live={live}
        what="the anchoring status"
        absent={{
          code: 'NOT_FOUND',
          text: 'Anchoring is not configured on this node: it anchors to no external target.',
        }}
      >
        {(s) => (
          <>
            <p>
              As seen by {s.node}
              {s.strategy ? `, strategy ${s.strategy}` : ''}.
              {s.unconfigured_targets && s.unconfigured_targets.length > 0 && (
                <>
                  {' '}
                  <StatusBadge health="warn" label="Unconfigured" /> targets named by cadences but not configured here:{' '}
                  {s.unconfigured_targets.join(', ')}.
                </>
              )}
            </p>
            {s.targets.length === 0 && <p>No anchor targets.</p>}
            <div class="cards">
              {s.targets.map((t) => (
                <Target key={t.target} t={t} now={now} />
              ))}
            </div>
          </>
        )}
      </ReadState>
      <UpdatedAt at={live.updatedAt} />
    </section>
  );
}
