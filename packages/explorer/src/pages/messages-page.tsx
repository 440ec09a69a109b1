/** @jsxRuntime automatic @jsxImportSource preact */
import { ApiError } from '../api/api-error.ts';
import { useDirectory, type NodeDirectory } from '../api/node-directory.ts';
import type { MessageStreams } from '../api/types.ts';
import { KeyValues } from '../components/key-values.tsx';
import { ReadState, UpdatedAt } from '../components/read-state.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { useLive } from '../live.ts';
import { formatCount } from '../model/format.ts';
import { outgoingHealth, streamTotals, type NodeStreams } from '../model/message-streams.ts';

const ep = (e: { node: string; namespace: string }) => `${e.node}/${e.namespace}`;

/** Every node's streams (this node and each registry peer), read at once; a node that fails is named, not hidden. */
async function readAll(dir: NodeDirectory): Promise<NodeStreams[]> {
  const names = dir.self ? [dir.self.name, ...dir.peers.map((p) => p.id).filter((n) => n !== dir.self!.name)] : [];
  if (names.length === 0)
    return [{ node: 'this node', streams: await dir.local.json<MessageStreams>('/v1/messages/streams') }];
  return Promise.all(
    names.map(async (node): Promise<NodeStreams> => {
      try {
        return { node, streams: await dir.clientFor(node)!.json<MessageStreams>('/v1/messages/streams') };
      } catch (e) {
        return { node, error: e instanceof ApiError ? `${e.code}: ${e.message}` : String(e) };
      }
    }),
  );
}

export function MessagesPage() {
  const dir = useDirectory();
  const live = useLive(() => readAll(dir), `messages:${dir.peers.length}`);
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Messages</h1>
      <p>Streams of cross-namespace messages (source namespace → target namespace), as each node counts them.</p>
      <ReadState live={live} what="the message streams">
        {(all) => {
          const t = streamTotals(all);
          const outgoing = all.flatMap((n) => n.streams?.outgoing ?? []);
          const incoming = all.flatMap((n) => n.streams?.incoming ?? []);
          return (
            <>
              <KeyValues
                items={[
                  ['Streams', formatCount(t.streams)],
                  ['Queued (not delivered yet)', formatCount(t.queued)],
                  ['Delivered', formatCount(t.delivered)],
                  ['Refused', formatCount(t.refused)],
                  ['Expired', formatCount(t.expired)],
                  ['Held by receivers (waiting for a gap)', formatCount(t.held)],
                ]}
              />
              {all
                .filter((n) => n.error)
                .map((n) => (
                  <p key={n.node} role="alert" class="read-error">
                    <StatusBadge health="bad" label="Cannot read" /> {n.node}: {n.error}
                  </p>
                ))}
              <div class="table-wrap">
                <table class="streams-out">
                  <caption>Sent: each stream as its sender counts it</caption>
                  <thead>
                    <tr>
                      <th scope="col">Source</th>
                      <th scope="col">Target</th>
                      <th scope="col">Last seq</th>
                      <th scope="col">Queued</th>
                      <th scope="col">Sealed</th>
                      <th scope="col">Delivered</th>
                      <th scope="col">Refused</th>
                      <th scope="col">Expired</th>
                      <th scope="col">State</th>
                    </tr>
                  </thead>
                  <tbody>
                    {outgoing.map((s) => (
                      <tr key={`${ep(s.source)}>${ep(s.target)}`} data-stream={`${ep(s.source)}>${ep(s.target)}`}>
                        <th scope="row">{ep(s.source)}</th>
                        <td>{ep(s.target)}</td>
                        <td>{formatCount(s.last_seq)}</td>
                        <td>{formatCount(s.queued)}</td>
                        <td>{formatCount(s.sealed)}</td>
                        <td data-field="delivered">{formatCount(s.delivered)}</td>
                        <td>{formatCount(s.refused)}</td>
                        <td>{formatCount(s.expired)}</td>
                        <td>
                          <StatusBadge
                            health={outgoingHealth(s)}
                            label={outgoingHealth(s) === 'ok' ? 'OK' : 'Has refusals'}
                          />
                        </td>
                      </tr>
                    ))}
                    {outgoing.length === 0 && (
                      <tr>
                        <td colSpan={9}>No messages sent yet.</td>
                      </tr>
                    )}
                  </tbody>
                </table>
              </div>
              <div class="table-wrap">
                <table class="streams-in">
                  <caption>Received: each stream as its receiver's inbox counts it</caption>
                  <thead>
                    <tr>
                      <th scope="col">Source</th>
                      <th scope="col">Target</th>
                      <th scope="col">Last seq</th>
                      <th scope="col">Accepted</th>
                      <th scope="col">Held</th>
                      <th scope="col">Refused</th>
                      <th scope="col">Expired</th>
                    </tr>
                  </thead>
                  <tbody>
                    {incoming.map((s) => (
                      <tr key={`${ep(s.source)}>${ep(s.target)}`} data-stream={`${ep(s.source)}>${ep(s.target)}`}>
                        <th scope="row">{ep(s.source)}</th>
                        <td>{ep(s.target)}</td>
                        <td>{formatCount(s.last_seq)}</td>
                        <td data-field="accepted">{formatCount(s.accepted)}</td>
                        <td>{formatCount(s.held)}</td>
                        <td>{formatCount(s.refused)}</td>
                        <td>{formatCount(s.expired)}</td>
                      </tr>
                    ))}
                    {incoming.length === 0 && (
                      <tr>
                        <td colSpan={7}>No messages received yet.</td>
                      </tr>
                    )}
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
