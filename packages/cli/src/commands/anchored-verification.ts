import type { AnchorVerificationResult } from '@vaultmesh/core';

// The verification of a receipt's anchors is core's (the explorer's Verify page runs the very same
// code in the browser); the CLI's commands keep importing it from here.
export {
  MAX_RECEIPT_ANCHORS,
  anchorNotRun,
  anchorsMember,
  verifyAnchors,
  type AnchorVerificationResult,
  type AnchorsMember,
} from '@vaultmesh/core';

/** One line per check: `ok  anchor[0] quorum: …` or `FAIL anchor[0] anchor: …`. */
export function anchorCheckLines(results: readonly AnchorVerificationResult[]): string[] {
  return results.flatMap((r) =>
    r.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'} anchor[${r.index}] ${c.name}: ${c.detail}`),
  );
}
