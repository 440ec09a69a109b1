import { RemembrancerError, isRemembrancerError } from '@vaultmesh/core';
import type { OutboxService } from '../../messaging/messaging-wire.js';
import { MAX_SEND_BATCH } from '../../messaging/outbox/send-request.js';
import { bearerToken } from '../../namespaces/writer-authorization.js';
import { messageBatchOf } from '../message-batch.js';
import { namespaceIdParam, namespaceParam } from '../params.js';
import type { RouteContext } from '../route-context.js';
import type { HttpArea } from '../scopes.js';

const MESSAGE_ID = /^[0-9a-f]{64}$/;

function outboxOf(ctx: RouteContext): OutboxService {
  if (!ctx.outbox) throw new RemembrancerError('NOT_FOUND', 'this node does not send messages');
  return ctx.outbox;
}

/**
 * A refusal of the only message of a batch, aimed at it: the outbox points into a request of
 * several messages by `/messages/<i>`, and into a lone one from its root.
 */
function inBatchOfOne(e: unknown): unknown {
  if (!isRemembrancerError(e) || e.pointer === undefined || e.pointer.startsWith('/messages')) return e;
  const head = `${e.pointer || '/'}: `;
  const why = e.message.startsWith(head) ? e.message.slice(head.length) : e.message;
  return new RemembrancerError(e.code, `/messages/0${e.pointer}: ${why}`, {
    cause: e,
    pointer: `/messages/0${e.pointer}`,
  });
}

/**
 * Cross-namespace messages, the sending side (issue 12, item 2): `POST /v1/ns/{src}/messages`
 * appends a message (or `{"messages": [...]}`, all or none) to the source namespace's log and
 * answers 202 — accepted for delivery, which the outbox does once a sealed checkpoint covers it —
 * and `GET /v1/ns/{src}/messages/{id}` shows how its delivery goes, with both proofs.
 */
export const messageArea: HttpArea = {
  writer(app, ctx) {
    app.post<{ Params: { ns: string }; Body: unknown }>(
      '/v1/ns/:ns/messages',
      { bodyLimit: ctx.batchBodyLimitBytes },
      async (request, reply) => {
        const ns = namespaceIdParam(request.params.ns);
        // The writer scope let in a request without a token where key writers could sign entries
        // in the body; a message entry is built by the node and carries no writer's signature.
        if (bearerToken(request.headers.authorization) === undefined)
          throw new RemembrancerError('UNAUTHORIZED', `sending messages from ${ns} needs a writer's bearer token`);
        const outbox = outboxOf(ctx);
        const { messages, batch } = messageBatchOf(request.body, MAX_SEND_BATCH);
        if (batch) {
          let sent;
          try {
            sent = await outbox.send(ns, messages);
          } catch (e) {
            throw messages.length === 1 ? inBatchOfOne(e) : e;
          }
          return reply.status(202).send({ messages: sent });
        }
        const [one] = await outbox.send(ns, messages);
        return reply
          .status(202)
          .header('location', `/v1/ns/${encodeURIComponent(ns)}/messages/${one!.id}`)
          .send(one);
      },
    );
  },

  namespaceRead(app, ctx) {
    app.get<{ Params: { ns: string; id: string } }>('/v1/ns/:ns/messages/:id', async (request) => {
      const ns = namespaceParam(ctx.engine, request.params.ns);
      const id = request.params.id;
      if (!MESSAGE_ID.test(id))
        throw new RemembrancerError('INVALID_ARGUMENT', 'a message id is 64 lowercase hex digits');
      const view = await outboxOf(ctx).status(ns.id, id);
      if (!view) throw new RemembrancerError('NOT_FOUND', `${ns.id} sent no message ${id}`);
      return view;
    });
  },
};
