import { base64Encode, epochStatementDigest } from '@vaultmesh/core';
import type { AnchoringConfig, Rfc3161TargetConfig } from '../config/anchoring-config.js';
import type { AnchorTarget } from './anchor-target.js';
import { chainAnchorTarget } from './chain/chain-anchor-target.js';
import { anchorFieldsOf } from './finalization-check.js';
import { AnchorTargetError, Rfc3161Target } from './rfc3161-target.js';

/**
 * An RFC 3161 target: its TSAs asked in order (`any`) or all of them (`all`); each token is
 * verified in full before it counts (rfc3161-target.ts). The evidence is the tokens over the
 * statement's digest.
 */
function rfc3161AnchorTarget(cfg: Rfc3161TargetConfig): AnchorTarget {
  const tsa = new Rfc3161Target({
    name: cfg.id,
    urls: cfg.tsas.map((t) => t.url),
    // A token must chain to the anchors of the TSA it came from; the coordinator's own check
    // (finalization-check.ts) holds `all` tokens to their TSA's anchors one by one.
    trustAnchorsPem: cfg.tsas.flatMap((t) => t.trustAnchorsPem),
    ...(cfg.policyOid === undefined ? {} : { policyOid: cfg.policyOid }),
    mode: cfg.require,
  });
  return {
    config: cfg,
    async anchor(statement) {
      const r = await tsa.timestamp(epochStatementDigest(statement));
      return {
        anchor: anchorFieldsOf(cfg.id, statement.root, r.tokens[0]!),
        evidence: { type: 'rfc3161', policy: cfg.require, tokens: r.tokens.map((t) => base64Encode(t.tokenDer)) },
        requests: r.attempts.length,
      };
    },
  };
}

/** The configured targets, ready to anchor. */
export function anchorTargets(config: AnchoringConfig): Map<string, AnchorTarget> {
  const out = new Map<string, AnchorTarget>();
  for (const cfg of config.targets.values())
    out.set(cfg.id, cfg.kind === 'rfc3161' ? rfc3161AnchorTarget(cfg) : chainAnchorTarget(cfg));
  return out;
}

/** Requests a failed anchor call made (each TSA retry counts), for status. */
export function failedRequests(e: unknown): number {
  return e instanceof AnchorTargetError ? e.attempts.length : 0;
}
