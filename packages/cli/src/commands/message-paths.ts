import type { ApiClient } from '../client/api-client.js';

/** GET /v1/ns/{src}/messages/{id}: what the source node knows of a message it sent. */
export function statusPath(client: ApiClient, namespace: string, id: string): string {
  return client.nsPath(namespace, `/messages/${encodeURIComponent(id)}`);
}

/** GET /v1/ns/{dst}/inbox: the items after `after`, at most `limit`, waiting up to `waitSeconds` for one. */
export function inboxReadPath(
  client: ApiClient,
  namespace: string,
  query: { after: number; limit?: number; waitSeconds?: number },
): string {
  const q = new URLSearchParams({ after: String(query.after) });
  if (query.limit !== undefined) q.set('limit', String(query.limit));
  if (query.waitSeconds !== undefined && query.waitSeconds > 0) q.set('wait', String(query.waitSeconds));
  return client.nsPath(namespace, `/inbox?${q.toString()}`);
}
