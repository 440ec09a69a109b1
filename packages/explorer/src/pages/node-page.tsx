/** @jsxRuntime automatic @jsxImportSource preact */
import { useDirectory } from '../api/node-directory.ts';
import type { NamespaceInfo, NodeInfo } from '../api/types.ts';
import { KeyValues } from '../components/key-values.tsx';
import { Link } from '../components/link.tsx';
import { ReadState, UpdatedAt } from '../components/read-state.tsx';
import { SeriesChart } from '../components/series-chart.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { useLive, useNow } from '../live.ts';
import { formatAge, formatCount, formatDuration, shortHash } from '../model/format.ts';
import { checkpointAgeMs, nextDue, sealView } from '../model/namespace-view.ts';
import { seriesCharts, type SeriesAnswer } from '../model/series-charts.ts';
import { routePath } from '../router.ts';
import { UnknownNode } from './unknown-node.tsx';

export function NodePage({ node }: { node: string }) {
  const dir = useDirectory();
  const client = dir.clientFor(node);
  const info = useLive(async () => {
    if (!client) throw new Error('unknown node');
    const [n, ns] = await Promise.all([
      client.json<NodeInfo>('/v1/node'),
      client.json<{ namespaces: NamespaceInfo[] }>('/v1/ns'),
    ]);
    return { node: n, namespaces: ns.namespaces };
  }, `node:${node}`);
  const series = useLive(
    async () => {
      if (!client) throw new Error('unknown node');
      return client.json<SeriesAnswer>('/v1/node/series');
    },
    `series:${node}`,
    5000,
  );
  const now = useNow();
  if (!client) return <UnknownNode node={node} />;
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Node {node}</h1>
      <ReadState live={info} what={`node ${node}`}>
        {({ node: n, namespaces }) => (
          <>
            <KeyValues
              items={[
                ['Endpoint', n.endpoint],
                ['Version', n.version],
                ['Log key', <code title={n.log_vkey}>{shortHash(n.log_vkey, 48)}</code>],
                ['Witness key', <code title={n.witness_vkey}>{shortHash(n.witness_vkey, 48)}</code>],
                ['Public namespaces', String(namespaces.length)],
              ]}
            />
            <div class="table-wrap">
              <table class="namespaces">
                <caption>Namespaces of {n.name}</caption>
                <thead>
                  <tr>
                    <th scope="col">Namespace</th>
                    <th scope="col">Size</th>
                    <th scope="col">Checkpoint</th>
                    <th scope="col">Checkpoint age</th>
                    <th scope="col">Sealed</th>
                    <th scope="col">Next anchor due</th>
                  </tr>
                </thead>
                <tbody>
                  {namespaces.map((ns) => {
                    const seal = sealView(ns);
                    const due = nextDue(ns);
                    const age = checkpointAgeMs(ns, now);
                    return (
                      <tr key={ns.id} data-ns={ns.id}>
                        <th scope="row">
                          <Link href={routePath({ page: 'namespace', node, ns: ns.id })}>{ns.id}</Link>
                          {ns.description && <div class="sub">{ns.description}</div>}
                        </th>
                        <td data-field="size">{formatCount(ns.size)}</td>
                        <td data-field="checkpoint">{formatCount(ns.checkpoint_size)}</td>
                        <td>{age === undefined ? '—' : formatDuration(age)}</td>
                        <td>
                          <StatusBadge
                            health={seal.health}
                            label={seal.health === 'ok' ? 'Sealed' : seal.health === 'warn' ? 'Not sealed' : 'None'}
                          />
                          <div class="sub">{seal.text}</div>
                        </td>
                        <td>{due ? `${formatAge(due.at, now)} (${due.level}, ${due.target})` : 'no cadence'}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          </>
        )}
      </ReadState>
      <h2>Last hour</h2>
      <ReadState live={series} what="the node's time series">
        {(s) => (
          <div class="charts">
            {seriesCharts(s).map((spec) => (
              <SeriesChart key={spec.id} spec={spec} />
            ))}
          </div>
        )}
      </ReadState>
      <UpdatedAt at={info.updatedAt} />
    </section>
  );
}
