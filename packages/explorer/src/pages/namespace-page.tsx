/** @jsxRuntime automatic @jsxImportSource preact */
import { useState } from 'preact/hooks';
import { ApiError } from '../api/api-error.ts';
import { useDirectory } from '../api/node-directory.ts';
import { nsPath, type NodeClient } from '../api/node-client.ts';
import type { EntriesPage, EntryRow, NamespaceInfo } from '../api/types.ts';
import { KeyValues } from '../components/key-values.tsx';
import { Link } from '../components/link.tsx';
import { ReadState, UpdatedAt } from '../components/read-state.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { useLive, useNow } from '../live.ts';
import { formatAge, formatCount, formatDuration, formatUtc } from '../model/format.ts';
import { parseSearch } from '../model/leaf-search.ts';
import { checkpointAgeMs, sealView } from '../model/namespace-view.ts';
import { routePath } from '../router.ts';
import { UnknownNode } from './unknown-node.tsx';

export const PAGE_SIZE = 20;

function limitsText(limits: NamespaceInfo['limits']): string {
  if (!limits) return '—';
  const parts = Object.entries(limits)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k.replace(/_/g, ' ')} ${formatCount(v)}`);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

function Rules({ ns, now }: { ns: NamespaceInfo; now: number }) {
  const wp = ns.witness_policy;
  return (
    <>
      <h2>Rules (version {ns.version ?? '—'})</h2>
      <KeyValues
        items={[
          ['Visibility', ns.visibility ?? 'public'],
          [
            'Witness policy',
            wp ? (wp.min_required === 0 ? 'none required' : `${wp.min_required} of ${wp.allowlist.join(', ')}`) : '—',
          ],
          ['Schema policy', ns.schema_policy ? ns.schema_policy.allow.join(', ') : '—'],
          ['Writers', ns.writers && ns.writers.length > 0 ? `${ns.writers.length} named` : 'the admin token'],
          ['Limits', limitsText(ns.limits)],
          [
            'Messaging',
            ns.messaging
              ? ns.messaging.accept_from.length === 0
                ? 'accepts no messages'
                : `accepts ${ns.messaging.actions.join(', ')} from ${ns.messaging.accept_from.join(', ')} (operations ${ns.messaging.operations.join(', ')}, ${ns.messaging.min_witnesses} witness${ns.messaging.min_witnesses === 1 ? '' : 'es'})`
              : '—',
          ],
        ]}
      />
      <div class="table-wrap">
        <table class="cadence">
          <caption>Anchoring cadence</caption>
          <thead>
            <tr>
              <th scope="col">Level</th>
              <th scope="col">Target</th>
              <th scope="col">Every</th>
              <th scope="col">Confirmations</th>
              <th scope="col">Next due</th>
              <th scope="col">Anchored size</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(ns.cadence_schedule ?? {}).map(([level, s]) => (
              <tr key={level}>
                <th scope="row">{level}</th>
                <td>{s.target}</td>
                <td>{s.every}</td>
                <td>{s.confirmations}</td>
                <td>
                  {formatUtc(s.next_due)} ({formatAge(s.next_due, now)})
                </td>
                <td>
                  {ns.anchoring?.[s.target]
                    ? ns.anchoring[s.target]!.configured
                      ? formatCount(ns.anchoring[s.target]!.anchored_size)
                      : 'target not configured on this node'
                    : '—'}
                </td>
              </tr>
            ))}
            {Object.keys(ns.cadence_schedule ?? {}).length === 0 && (
              <tr>
                <td colSpan={6}>No cadence: this namespace is not anchored.</td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </>
  );
}

function EntryTable({ rows, caption }: { rows: EntryRow[]; caption: string }) {
  return (
    <div class="table-wrap">
      <table class="entries">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Index</th>
            <th scope="col">Leaf hash</th>
            <th scope="col">Entry</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.index} data-index={r.index}>
              <th scope="row">{r.index}</th>
              <td>
                <code class="hash">{r.leaf_hash}</code>
              </td>
              <td>
                <pre class="entry">{JSON.stringify(r.entry, null, 1)}</pre>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

async function findEntry(client: NodeClient, ns: string, text: string): Promise<EntryRow> {
  const q = parseSearch(text);
  if (q.kind === 'invalid') throw new ApiError('INVALID_SEARCH', q.why);
  const index =
    q.kind === 'index' ? q.index : (await client.json<{ index: number }>(nsPath(ns, `/leaf/${q.hex}`))).index;
  const page = await client.json<EntriesPage>(nsPath(ns, `/entries?before=${index + 1}&limit=1`));
  const row = page.entries.find((e) => e.index === index);
  if (!row) throw new ApiError('NOT_FOUND', `no entry ${index} in ${ns}`);
  return row;
}

function Search({ client, ns, initial }: { client: NodeClient; ns: string; initial: string }) {
  const [text, setText] = useState(initial);
  const [found, setFound] = useState<{ row?: EntryRow; error?: string }>({});
  const run = async (e: Event) => {
    e.preventDefault();
    try {
      setFound({ row: await findEntry(client, ns, text) });
    } catch (err) {
      setFound({ error: err instanceof ApiError ? `${err.code}: ${err.message}` : String(err) });
    }
  };
  return (
    <form class="search" role="search" onSubmit={(e) => void run(e)}>
      <label for="entry-search">Find an entry by index or leaf hash</label>
      <input
        id="entry-search"
        name="q"
        value={text}
        onInput={(e) => setText((e.target as HTMLInputElement).value)}
        placeholder="42, or a 64-hex or base64 leaf hash"
        autocomplete="off"
      />
      <button type="submit">Find</button>
      {found.error && (
        <p role="alert" class="read-error">
          <StatusBadge health="bad" label="Not found" /> {found.error}
        </p>
      )}
      {found.row && <EntryTable rows={[found.row]} caption={`Entry ${found.row.index}`} />}
    </form>
  );
}

export function NamespacePage({ node, ns, query }: { node: string; ns: string; query: URLSearchParams }) {
  const dir = useDirectory();
  const client = dir.clientFor(node);
  const beforeParam = query.get('before');
  const before = beforeParam !== null && /^[0-9]+$/.test(beforeParam) ? Number(beforeParam) : undefined;
  const info = useLive(async () => {
    if (!client) throw new Error('unknown node');
    return client.json<NamespaceInfo>(nsPath(ns));
  }, `ns:${node}:${ns}`);
  const entries = useLive(
    async () => {
      if (!client) throw new Error('unknown node');
      const q = before === undefined ? `limit=${PAGE_SIZE}` : `before=${before}&limit=${PAGE_SIZE}`;
      return client.json<EntriesPage>(nsPath(ns, `/entries?${q}`));
    },
    `entries:${node}:${ns}:${before ?? 'latest'}`,
    // The newest page follows appends; an older page does not change.
    before === undefined ? 2000 : 0,
  );
  const now = useNow();
  if (!client) return <UnknownNode node={node} />;
  const here = routePath({ page: 'namespace', node, ns });
  return (
    <section aria-labelledby="page-title">
      <p class="crumbs">
        <Link href={routePath({ page: 'node', node })}>{node}</Link> /
      </p>
      <h1 id="page-title">Namespace {ns}</h1>
      <ReadState live={info} what={`namespace ${ns}`}>
        {(n) => {
          const seal = sealView(n);
          const age = checkpointAgeMs(n, now);
          return (
            <>
              <KeyValues
                items={[
                  ['Origin', <code>{n.origin}</code>],
                  ['Size', `${formatCount(n.size)} entries`],
                  [
                    'Checkpoint',
                    `size ${formatCount(n.checkpoint_size)}, signed ${age === undefined ? '—' : `${formatDuration(age)} ago`}`,
                  ],
                  [
                    'Sealed',
                    <>
                      <StatusBadge health={seal.health} label={seal.health === 'ok' ? 'Sealed' : 'Not sealed'} />{' '}
                      {seal.text}
                    </>,
                  ],
                  ['Log key', <code class="hash">{n.log_vkey}</code>],
                ]}
              />
              <Rules ns={n} now={now} />
            </>
          );
        }}
      </ReadState>
      <h2>Entries</h2>
      <Search client={client} ns={ns} initial={query.get('q') ?? ''} />
      <ReadState live={entries} what="the entries">
        {(page) => (
          <>
            <EntryTable
              rows={page.entries}
              caption={before === undefined ? 'Newest entries' : `Entries before index ${before}`}
            />
            <nav class="pager" aria-label="Entry pages">
              {before !== undefined && <Link href={here}>Newest</Link>}
              {page.next !== undefined && page.next !== null && (
                <Link href={`${here}?before=${page.next}`}>Older entries</Link>
              )}
              {page.entries.length === 0 && <span>No entries.</span>}
            </nav>
          </>
        )}
      </ReadState>
      <UpdatedAt at={info.updatedAt} />
    </section>
  );
}
