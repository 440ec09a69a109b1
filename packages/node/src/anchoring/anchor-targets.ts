import type { AnchoringConfig } from '../config/anchoring-config.js';
import type { AnchorTarget } from './epoch-coordinator.js';
import { Rfc3161Target } from './rfc3161-target.js';

/**
 * The configured targets, ready to anchor. RFC 3161 targets ask their TSAs in order (`any`) or
 * all of them (`all`); each token is verified in full before it counts (rfc3161-target.ts).
 */
export function anchorTargets(config: AnchoringConfig): Map<string, AnchorTarget> {
  const out = new Map<string, AnchorTarget>();
  for (const cfg of config.targets.values()) {
    const tsa = new Rfc3161Target({
      name: cfg.id,
      urls: cfg.tsas.map((t) => t.url),
      // A token must chain to the anchors of the TSA it came from; the coordinator's own check
      // (finalization-check.ts) holds `all` tokens to their TSA's anchors one by one.
      trustAnchorsPem: cfg.tsas.flatMap((t) => t.trustAnchorsPem),
      ...(cfg.policyOid === undefined ? {} : { policyOid: cfg.policyOid }),
      mode: cfg.require,
    });
    out.set(cfg.id, {
      config: cfg,
      async timestamp(digest) {
        const r = await tsa.timestamp(digest);
        return { tokens: r.tokens, requests: r.attempts.length };
      },
    });
  }
  return out;
}
