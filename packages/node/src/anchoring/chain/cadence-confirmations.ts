import { CADENCE_LEVELS, RemembrancerError, type CadenceSpec } from '@vaultmesh/core';
import type { AnchoringConfig } from '../../config/anchoring-config.js';

/**
 * A cadence level asks for `confirmations` at a target; this node's chain target makes an anchor
 * final at its own `confirmations`. A level asking for more than the target gives would be
 * reported anchored before it is as deep as its namespace wants, so the node refuses such a
 * cadence when its operator proposes it (POLICY_INVALID naming the level). Targets this node has
 * not configured are not judged here: status lists them as unconfigured.
 */
export function checkCadenceConfirmations(cadence: CadenceSpec, config: AnchoringConfig): void {
  for (const name of CADENCE_LEVELS) {
    const level = cadence[name];
    if (level === undefined) continue;
    const target = config.targets.get(level.target);
    if (target === undefined || target.kind === 'rfc3161') continue;
    if (level.confirmations > target.confirmations)
      throw new RemembrancerError(
        'POLICY_INVALID',
        `/${name}/confirmations: ${level.confirmations} is more than this node's ${level.target} target makes an anchor final at (${target.confirmations}); raise the target's confirmations in config.json or ask for fewer`,
        { pointer: `/${name}/confirmations` },
      );
  }
}
