import { RemembrancerError } from '@vaultmesh/core';
import { ANCHOR_PEER_PATH } from '../../anchoring/anchor-peer-client.js';
import { OTS_MEDIA_TYPE, epochOtsFile, otsNodeParam, otsTargetParam } from '../../anchoring/chain/epoch-ots.js';
import { indexParam } from '../params.js';
import type { RouteContext } from '../route-context.js';
import type { HttpArea } from '../scopes.js';

/** Most epochs one `GET /v1/anchoring/epochs` lists. */
const MAX_EPOCHS_LISTED = 100;

function anchoring(ctx: RouteContext) {
  if (ctx.anchoring === undefined)
    throw new RemembrancerError('NOT_FOUND', 'this node does not anchor (no federation registry)');
  return ctx.anchoring;
}

function targetParam(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 100)
    throw new RemembrancerError('INVALID_ARGUMENT', 'target must name an anchor target, e.g. rfc3161:local');
  return raw;
}

function modeParam(raw: unknown): 'collaborative' | 'independent' {
  if (raw === undefined || raw === 'collaborative') return 'collaborative';
  if (raw === 'independent') return 'independent';
  throw new RemembrancerError('INVALID_ARGUMENT', "mode must be 'collaborative' or 'independent'");
}

/**
 * Collaborative anchoring (issue 10, docs/anchoring.md). Public: `GET /v1/anchoring/status` (per
 * target: last finalized epoch, pending leaves, failures, duplicates, failovers) and
 * `GET /v1/anchoring/epochs?target=T[&before=E][&limit=N]` (epochs with their federation
 * receipts, newest first), `GET /v1/anchoring/epochs/{target}/{epoch}.ots` (a Bitcoin epoch's
 * OpenTimestamps proof). Peer-signed: the protocol's four exchanges (anchor-peer-client.ts).
 */
export const anchoringArea: HttpArea = {
  public(app, ctx) {
    app.get('/v1/anchoring/status', async () => anchoring(ctx).status());

    app.get<{ Querystring: Record<string, string> }>('/v1/anchoring/epochs', async (request) => {
      const a = anchoring(ctx);
      const target = targetParam(request.query.target);
      const before =
        request.query.before === undefined ? Number.MAX_SAFE_INTEGER : indexParam('before', request.query.before);
      const limit = request.query.limit === undefined ? 20 : indexParam('limit', request.query.limit);
      if (limit < 1 || limit > MAX_EPOCHS_LISTED)
        throw new RemembrancerError('INVALID_ARGUMENT', `limit must be from 1 to ${MAX_EPOCHS_LISTED}`);
      return {
        target,
        epochs: (await a.epochs(target, before, limit)).map(({ epoch, receipts }) => ({
          epoch: epoch.epoch,
          mode: epoch.mode,
          node: epoch.node === '' ? null : epoch.node,
          status: epoch.status,
          root: epoch.finalization?.statement.root ?? null,
          leader: epoch.finalization?.leader ?? null,
          attempt: epoch.finalization?.attempt ?? null,
          anchor: epoch.finalization?.anchor ?? null,
          finalized_at: epoch.finalization?.finalized_at ?? null,
          federation_receipts: receipts,
        })),
      };
    });

    // Issue 11, item 4: a Bitcoin epoch as an OpenTimestamps proof (epoch-ots.ts), public like
    // the epochs it proves. `?node=` picks that node's independent epoch instead.
    app.get<{ Params: { target: string; epoch: string }; Querystring: Record<string, string> }>(
      '/v1/anchoring/epochs/:target/:epoch.ots',
      async (request, reply) => {
        const target = otsTargetParam(request.params.target);
        const epoch = indexParam('epoch', request.params.epoch);
        const node = otsNodeParam(request.query.node);
        const store = anchoring(ctx).store;
        const file = await epochOtsFile((...key) => store.epoch(...key), {
          target,
          epoch,
          ...(node === undefined ? {} : { node }),
        });
        return reply
          .type(OTS_MEDIA_TYPE)
          .header('content-disposition', `attachment; filename="${file.filename}"`)
          .send(Buffer.from(file.ots));
      },
    );
  },

  peer(app, ctx) {
    app.get<{ Querystring: Record<string, string> }>(`${ANCHOR_PEER_PATH}/leaves`, async (request) => {
      const target = targetParam(request.query.target);
      const epoch = indexParam('epoch', request.query.epoch);
      return { leaves: await anchoring(ctx).peerLeaves(target, epoch) };
    });

    // The body is attacker-controlled (even a registry peer may lie): the signer checks every
    // leaf against the registry before it signs, and signs one root per epoch.
    app.post<{ Body: unknown }>(`${ANCHOR_PEER_PATH}/sign`, async (request) => anchoring(ctx).sign(request.body));

    app.get<{ Querystring: Record<string, string> }>(`${ANCHOR_PEER_PATH}/epoch`, async (request) => {
      const target = targetParam(request.query.target);
      const epoch = indexParam('epoch', request.query.epoch);
      return anchoring(ctx).outcome(target, epoch, modeParam(request.query.mode));
    });

    app.post<{ Body: unknown }>(`${ANCHOR_PEER_PATH}/finalized`, async (request, reply) => {
      const outcome = await anchoring(ctx).accept(request.body);
      return reply.status(outcome === 'new' ? 201 : 200).send({ stored: outcome });
    });
  },
};
