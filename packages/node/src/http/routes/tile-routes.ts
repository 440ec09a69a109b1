import { RemembrancerError, TILE_WIDTH, parseTilePath } from '@vaultmesh/core';
import { namespaceParam } from '../params.js';
import type { HttpArea } from '../scopes.js';

/** C2SP tlog-tiles: hash tiles and entry bundles (https://c2sp.org/tlog-tiles). */
export const tileArea: HttpArea = {
  namespaceRead(app, ctx) {
    app.get<{ Params: { ns: string; '*': string } }>('/v1/ns/:ns/tile/*', async (request, reply) => {
      const ns = namespaceParam(ctx.engine, request.params.ns);
      const tile = parseTilePath(request.params['*']);
      const bytes =
        tile.level === 'entries'
          ? await ctx.engine.readEntryBundle(ns.id, tile.index, tile.width)
          : await ctx.engine.readTile(ns.id, tile.level, tile.index, tile.width);
      if (!bytes) throw new RemembrancerError('NOT_FOUND', `tile ${request.params['*']} does not exist (yet)`);
      // A full tile never changes again (https://c2sp.org/tlog-tiles): let every cache keep it forever.
      reply
        .type('application/octet-stream')
        .header('cache-control', tile.width === TILE_WIDTH ? 'public, max-age=31536000, immutable' : 'no-cache');
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    });
  },
};
