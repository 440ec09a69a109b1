import type { HttpArea } from '../scopes.js';

/** `GET /v1/node`: who this node is. */
export const nodeArea: HttpArea = {
  public(app, ctx) {
    app.get('/v1/node', async () => {
      const self = ctx.self();
      return {
        name: ctx.nodeName,
        version: ctx.version,
        endpoint: self.endpoint,
        log_vkey: self.log_vkey,
        witness_vkey: self.witness_vkey,
        auth_key: self.auth_key,
        // Private namespaces are not announced; their readers know their ids.
        namespaces: ctx.namespaces.directory
          .list()
          .filter((r) => r.spec.visibility === 'public')
          .map((r) => r.id),
      };
    });
  },
};
