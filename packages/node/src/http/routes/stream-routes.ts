import { RemembrancerError } from '@vaultmesh/core';
import type { RouteContext } from '../route-context.js';
import type { HttpArea } from '../scopes.js';

/** Most streams listed each way; past it the answer says `truncated`. */
const MAX_STREAMS_LISTED = 1000;

/** `<node>/<namespace>` → its parts (namespace ids hold no '/', node names may). */
function splitOrigin(origin: string): { node: string; namespace: string } {
  const slash = origin.lastIndexOf('/');
  return { node: origin.slice(0, slash), namespace: origin.slice(slash + 1) };
}

/**
 * `GET /v1/messages/streams`: every stream of cross-namespace messages this node sends or receives
 * on, with its messages counted by state (issue 13, the explorer's Messages page). Public, so a
 * stream is listed only if every namespace of this node in it is public: a private namespace's
 * traffic is not announced, as GET /v1/node does not list its id. Namespaces of other nodes are
 * theirs to show or hide.
 */
export const streamArea: HttpArea = {
  public(app, ctx: RouteContext) {
    app.get('/v1/messages/streams', async () => {
      const streams = ctx.messageStreams;
      if (!streams) throw new RemembrancerError('NOT_FOUND', 'this node does not exchange messages');
      const self = ctx.nodeName;
      const shown = (node: string, namespace: string) =>
        node !== self || ctx.namespaces.directory.rules(namespace)?.spec.visibility === 'public';
      const [sent, received] = await Promise.all([streams.outbox.counts(), streams.inbox.counts()]);
      const outgoing = sent
        .filter((s) => shown(self, s.namespace) && shown(s.target.node, s.target.namespace))
        .map((s) => ({
          source: { node: self, namespace: s.namespace },
          target: s.target,
          last_seq: s.lastSeq,
          queued: s.queued,
          sealed: s.sealed,
          delivered: s.delivered,
          refused: s.refused,
          expired: s.expired,
        }));
      const incoming = received
        .map((s) => ({ s, source: splitOrigin(s.sourceOrigin) }))
        .filter(({ s, source }) => shown(self, s.namespace) && shown(source.node, source.namespace))
        .map(({ s, source }) => ({
          source: { ...source, origin: s.sourceOrigin },
          target: { node: self, namespace: s.namespace },
          last_seq: s.lastSeq,
          next_seq: s.nextSeq,
          accepted: s.accepted,
          held: s.held,
          refused: s.refused,
          expired: s.expired,
        }));
      return {
        node: self,
        outgoing: outgoing.slice(0, MAX_STREAMS_LISTED),
        incoming: incoming.slice(0, MAX_STREAMS_LISTED),
        truncated: outgoing.length > MAX_STREAMS_LISTED || incoming.length > MAX_STREAMS_LISTED,
      };
    });
  },
};
