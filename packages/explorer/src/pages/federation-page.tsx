/** @jsxRuntime automatic @jsxImportSource preact */
import { useDirectory } from '../api/node-directory.ts';
import { NodeClient } from '../api/node-client.ts';
import type { FederationStatus, NodeInfo } from '../api/types.ts';
import { KeyValues } from '../components/key-values.tsx';
import { Link } from '../components/link.tsx';
import { ReadState, UpdatedAt } from '../components/read-state.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { useLive, useNow } from '../live.ts';
import { peerRows, type Probe } from '../model/federation-view.ts';
import { formatAge, formatCount, formatDuration } from '../model/format.ts';
import { routePath } from '../router.ts';
import { ApiError } from '../api/api-error.ts';

interface FederationRead {
  status: FederationStatus;
  probes: Map<string, Probe>;
}

/** The node's federation status plus the browser's own GET /v1/node of every peer, at once. */
async function readFederation(local: NodeClient): Promise<FederationRead> {
  const status = await local.json<FederationStatus>('/v1/federation/status');
  const probes = new Map<string, Probe>();
  await Promise.all(
    status.peers.map(async (p) => {
      const client = p.self ? local : new NodeClient(p.endpoint);
      try {
        const info = await client.json<NodeInfo>('/v1/node');
        probes.set(p.id, { ok: true, name: info.name });
      } catch (e) {
        probes.set(p.id, { ok: false, error: e instanceof ApiError ? e.message : String(e) });
      }
    }),
  );
  return { status, probes };
}

export function FederationPage() {
  const dir = useDirectory();
  const live = useLive(() => readFederation(dir.local), 'federation');
  const now = useNow();
  const alone = (
    <>
      This node has not joined a federation: it runs alone. See{' '}
      <Link href={routePath({ page: 'node', node: dir.self?.name ?? '' })}>the node</Link>.
    </>
  );
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Federation</h1>
      <ReadState live={live} what="the federation status" absent={{ code: 'NOT_FOUND', text: alone }}>
        {({ status, probes }) => {
          // A node without a registry answers its status with no federation id and no peers.
          if (status.federation_id == null) return <p class="absent">{alone}</p>;
          const rows = peerRows(status, probes);
          const up = rows.filter((r) => r.reachable).length;
          return (
            <>
              <KeyValues
                items={[
                  ['Federation', status.federation_id],
                  ['Seen from', status.node],
                  ['Registry version', String(status.registry_version)],
                  ['Nodes reachable', `${up} of ${rows.length}`],
                  ['Witness quorum', String(status.quorum?.witness ?? '—')],
                  [
                    'Cosigning round',
                    status.cosigning?.round_p50_ms != null
                      ? `p50 ${formatDuration(status.cosigning.round_p50_ms)}, p99 ${formatDuration(status.cosigning.round_p99_ms ?? NaN)}`
                      : '—',
                  ],
                  [
                    'Equivocation evidence',
                    `${formatCount(status.equivocation?.evidence ?? 0)} log, ${formatCount(status.equivocation?.epoch_evidence ?? 0)} epoch`,
                  ],
                ]}
              />
              <div class="table-wrap">
                <table class="peers">
                  <caption>Nodes of the registry, as this browser and {status.node} see them</caption>
                  <thead>
                    <tr>
                      <th scope="col">Node</th>
                      <th scope="col">Status</th>
                      <th scope="col">Reachable</th>
                      <th scope="col">Registry</th>
                      <th scope="col">Witness lag</th>
                      <th scope="col">Cosigning latency</th>
                      <th scope="col">Last cosigned</th>
                      <th scope="col">Suspects</th>
                      <th scope="col">Evidence</th>
                    </tr>
                  </thead>
                  <tbody>
                    {rows.map((r) => (
                      <tr key={r.id} data-node={r.id}>
                        <th scope="row">
                          <Link href={routePath({ page: 'node', node: r.id })}>{r.id}</Link>
                          {r.self && <span class="tag"> (this node)</span>}
                          <div class="sub">{r.endpoint}</div>
                        </th>
                        <td>
                          <StatusBadge health={r.health} />
                          {r.reasons.length > 0 && (
                            <ul class="reasons">
                              {r.reasons.map((x) => (
                                <li key={x}>{x}</li>
                              ))}
                            </ul>
                          )}
                        </td>
                        <td data-field="reachable">
                          {r.reachable === undefined ? (
                            <StatusBadge health="unknown" label="Checking" />
                          ) : r.reachable ? (
                            <StatusBadge health="ok" label="Reachable" />
                          ) : (
                            <StatusBadge health="bad" label="Unreachable" />
                          )}
                        </td>
                        <td data-field="registry">{r.registryVersion ?? '—'}</td>
                        <td data-field="witness-lag">
                          {r.witnessLag === undefined ? '—' : `${formatCount(r.witnessLag)} entries`}
                        </td>
                        <td data-field="cosign-latency">
                          {r.cosignLatencyMs === undefined ? '—' : formatDuration(r.cosignLatencyMs)}
                        </td>
                        <td>{r.self ? '—' : formatAge(r.lastCosignedAt, now)}</td>
                        <td>{r.suspects.length === 0 ? 'none' : r.suspects.join(', ')}</td>
                        <td>
                          {r.evidence === 0 ? 'none' : <Link href={routePath({ page: 'evidence' })}>{r.evidence}</Link>}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          );
        }}
      </ReadState>
      <UpdatedAt at={live.updatedAt} />
    </section>
  );
}
