import { epochEndMs, epochLeader, type RegistrySet } from '@vaultmesh/core';
import type { AnchoringConfig, AnchorTargetConfig } from '../config/anchoring-config.js';

/*
 * When who works on a collaborative epoch (issue 10, items 4 and 6), from the target's period,
 * the registry and the clock alone, so every node reaches the same plan:
 *
 *   attempt 0 (the leader)      from the epoch's close
 *   attempt k ≥ 1 (failover k)  from close + skew window + k · leader timeout
 *   abandoned                   from close + skew window + (signers + 1) · leader timeout
 *
 * The skew window before the first failover keeps a node whose clock runs ahead from taking
 * over while the leader, by its own clock, has only just started.
 */

export interface EpochPlan {
  closesAtMs: number;
  abandonAtMs: number;
  /** The attempts this node leads, with when each starts. */
  mine: { attempt: number; fromMs: number }[];
}

/**
 * How long one leader has: the section's leaderTimeoutMs, or a chain target's own (a chain
 * anchor waits for blocks, which an RFC 3161 answer does not).
 */
export function leaderTimeoutMs(target: AnchorTargetConfig, config: AnchoringConfig): number {
  return target.kind === 'rfc3161' ? config.leaderTimeoutMs : target.leaderTimeoutMs;
}

export function attemptStartMs(
  closesAtMs: number,
  attempt: number,
  config: AnchoringConfig,
  target: AnchorTargetConfig,
): number {
  return attempt === 0 ? closesAtMs : closesAtMs + config.maxClockSkewMs + attempt * leaderTimeoutMs(target, config);
}

export function planEpoch(
  registry: RegistrySet,
  target: AnchorTargetConfig,
  epoch: number,
  self: string,
  signerCount: number,
  config: AnchoringConfig,
): EpochPlan {
  const closesAtMs = epochEndMs(epoch, target.epochMs);
  const mine: EpochPlan['mine'] = [];
  for (let k = 0; k < signerCount; k++) {
    if (epochLeader(registry, target.id, epoch, k).id === self)
      mine.push({ attempt: k, fromMs: attemptStartMs(closesAtMs, k, config, target) });
  }
  return {
    closesAtMs,
    abandonAtMs: closesAtMs + config.maxClockSkewMs + (signerCount + 1) * leaderTimeoutMs(target, config),
    mine,
  };
}

/** How many past epochs can still be in play (not yet abandoned) at any time. */
export function epochsInPlay(target: AnchorTargetConfig, signerCount: number, config: AnchoringConfig): number {
  const span = config.maxClockSkewMs + (signerCount + 1) * leaderTimeoutMs(target, config);
  return Math.min(Math.ceil(span / target.epochMs) + 1, 1024);
}
