import type { RouteContext } from './route-context.js';

/** Most namespaces one status summary lists (the first, in id order); `namespaces_total` counts all. */
export const MAX_LIVE_NAMESPACES = 200;
/** A summary is reused for this long, ms: however many readers, it is built about twice a second. */
const REUSE_MS = 500;

/** What GET /v1/node/events pushes each second (docs/api.md). */
export interface LiveStatus {
  t: number;
  node: string;
  namespaces_total: number;
  namespaces: Array<{ id: string; size: number; checkpoint_size: number | null; checkpoint_age_ms: number | null }>;
  peers: Array<{ id: string; self: boolean; status: string; reachable: boolean | null }>;
  anchoring: Array<{ target: string; epoch_s: number; lag_s: number | null; stale: boolean }>;
  series_t: number | null;
}

interface StatusPeer {
  id: string;
  self: boolean;
  status: string;
  reachable?: boolean;
  gossip?: { reachable: boolean | null };
}

/**
 * The small status summary of the node's live page, from what other routes serve: public
 * namespaces' sizes and checkpoint ages, peers' reachability, anchoring lag per target, and the
 * newest point of the time series (a reader fetches `/v1/node/series?since=` when it moves).
 */
export class LiveStatusSource {
  #cached: { at: number; status: LiveStatus } | undefined;

  constructor(
    private readonly ctx: RouteContext,
    private readonly now: () => number = Date.now,
  ) {}

  async current(): Promise<LiveStatus> {
    const now = this.now();
    if (this.#cached && now - this.#cached.at < REUSE_MS) return this.#cached.status;
    const status = await this.#build(now);
    this.#cached = { at: now, status };
    return status;
  }

  async #build(now: number): Promise<LiveStatus> {
    const { ctx } = this;
    // Private namespaces are not announced, as in GET /v1/node.
    const shown = ctx.namespaces.directory
      .list()
      .filter((r) => r.spec.visibility === 'public')
      .map((r) => r.id)
      .sort();
    const namespaces = shown.slice(0, MAX_LIVE_NAMESPACES).map((id) => {
      const cp = ctx.engine.latestCheckpoint(id);
      return {
        id,
        size: ctx.engine.integratedSize(id),
        checkpoint_size: cp?.size ?? null,
        checkpoint_age_ms: cp ? Math.max(0, now - Date.parse(cp.publishedAt)) : null,
      };
    });
    const fed = (await ctx.federation?.status.status()) as { peers?: StatusPeer[] } | undefined;
    const peers = (fed?.peers ?? []).map((p) => ({
      id: p.id,
      self: p.self,
      status: p.status,
      // As a witness of this node's logs if it is one, else as a gossip peer; null: not yet asked.
      reachable: p.self ? true : (p.reachable ?? p.gossip?.reachable ?? null),
    }));
    const anchoring = ((await ctx.anchoring?.status())?.targets ?? []).map((t) => ({
      target: t.target,
      epoch_s: t.epoch_ms / 1000,
      lag_s: t.last_finalized ? t.last_finalized.age_ms / 1000 : null,
      stale: t.last_finalized?.stale ?? false,
    }));
    return {
      t: Math.round(now) / 1000,
      node: ctx.nodeName,
      namespaces_total: shown.length,
      namespaces,
      peers,
      anchoring,
      series_t: ctx.series?.newestT() ?? null,
    };
  }
}
