import type { NamespaceInfo } from '../api/types.ts';
import type { Health } from './health.ts';

export interface SealView {
  health: Health;
  /** "sealed by beta, gamma (1 required)", "not sealed: 0 of 1 required cosigned", "no checkpoint yet". */
  text: string;
}

/** Whether the namespace's latest checkpoint is sealed under its witness policy, and by whom. */
export function sealView(ns: NamespaceInfo): SealView {
  const cp = ns.checkpoint;
  if (!cp) return { health: 'unknown', text: 'no checkpoint yet' };
  if (cp.sealed) {
    if (cp.min_required === 0) return { health: 'ok', text: 'sealed by the log signature (no witnesses required)' };
    return { health: 'ok', text: `sealed by ${cp.cosigners.join(', ')} (${cp.min_required} required)` };
  }
  const have = cp.cosigners.length;
  const sealed = ns.sealed_checkpoint;
  return {
    health: 'warn',
    text: `not sealed: ${have} of ${cp.min_required} required cosigned${
      sealed ? `; newest sealed checkpoint has size ${sealed.size}` : '; no checkpoint sealed yet'
    }`,
  };
}

/** Milliseconds since the latest checkpoint was signed. */
export function checkpointAgeMs(ns: NamespaceInfo, now: number): number | undefined {
  const at = ns.checkpoint?.signed_at ? Date.parse(ns.checkpoint.signed_at) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, now - at);
}

/** The soonest next due time of the namespace's cadence levels, if it has any. */
export function nextDue(ns: NamespaceInfo): { level: string; target: string; at: string } | undefined {
  let best: { level: string; target: string; at: string } | undefined;
  for (const [level, s] of Object.entries(ns.cadence_schedule ?? {})) {
    if (!best || Date.parse(s.next_due) < Date.parse(best.at)) best = { level, target: s.target, at: s.next_due };
  }
  return best;
}
