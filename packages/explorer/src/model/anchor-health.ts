import type { AnchorTargetStatus } from '../api/types.ts';
import type { Health } from './health.ts';
import { formatDuration } from './format.ts';

export interface AnchorHealth {
  health: Health;
  /** Why, in words: every level but OK has at least one. */
  reasons: string[];
  /** Age of the last finalized anchor at `now`, if any. */
  ageMs: number | undefined;
}

/**
 * How a target keeps its cadence: an anchor is on time while its age is within two epochs (one
 * epoch to close, one to finalize) or nothing waits to be anchored, late when leaves wait beyond
 * that, and failing when the node marks it stale or nothing was ever finalized while attempts failed.
 */
export function anchorHealth(t: AnchorTargetStatus, now: number): AnchorHealth {
  const last = t.last_finalized ?? undefined;
  const failures = t.failures?.total ?? 0;
  if (!last) {
    if (failures > 0)
      return {
        health: 'bad',
        reasons: [`no epoch finalized yet; ${failures} failed attempt${failures === 1 ? '' : 's'}`],
        ageMs: undefined,
      };
    return { health: 'unknown', reasons: ['no epoch finalized yet'], ageMs: undefined };
  }
  const finalizedAt = last.finalized_at ? Date.parse(last.finalized_at) : Number.NaN;
  const ageMs = Number.isNaN(finalizedAt) ? last.age_ms : Math.max(0, now - finalizedAt);
  if (last.stale) return { health: 'bad', reasons: ['the node marks the last anchor stale'], ageMs };
  // An old anchor is late only while something waits for one: with nothing new to anchor, the
  // node skips epochs and the last anchor still covers everything.
  const pending = t.pending_leaves ?? 0;
  if (ageMs !== undefined && ageMs > 2 * t.epoch_ms && pending > 0)
    return {
      health: 'warn',
      reasons: [
        `${pending} leaves wait and the last anchor is older than two epochs (${formatDuration(t.epoch_ms)} each)`,
      ],
      ageMs,
    };
  const inFlight = t.chain?.in_flight?.filter((x) => x.state === 'missing') ?? [];
  if (inFlight.length > 0)
    return { health: 'warn', reasons: [`${inFlight.length} transaction(s) missing from the chain`], ageMs };
  return { health: 'ok', reasons: [], ageMs };
}
