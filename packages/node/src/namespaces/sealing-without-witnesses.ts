import type { LogEngine, NamespaceRecord, PublishedCheckpoint } from '../log/log-engine.js';
import type { SealState, SealedCheckpoint, Sealing } from './sealing.js';
import { namespacePolicyText } from './sealing-policy-text.js';

/** A fresh state each time: callers own what they get (and may change its arrays). */
function sealedByLog(): SealState {
  return { sealed: true, min_required: 0, allowlist: [], cosigners: [] };
}

/**
 * Sealing for a node that has no witness policies to apply (no federation wired in): every
 * namespace behaves as if its policy were k = 0, so each checkpoint is sealed by the log's
 * signature alone and the policy served is `quorum none`.
 */
export class LogSignatureSealing implements Sealing {
  constructor(
    private readonly engine: LogEngine,
    private readonly nodeUrl?: () => string | undefined,
  ) {}

  async sealState(_ns: NamespaceRecord, _cp: PublishedCheckpoint): Promise<SealState> {
    return sealedByLog();
  }

  async latestSealed(ns: NamespaceRecord): Promise<SealedCheckpoint | undefined> {
    const cp = this.engine.latestCheckpoint(ns.id);
    return cp && { checkpoint: cp, state: sealedByLog() };
  }

  policyText(ns: NamespaceRecord): string {
    const logUrl = this.nodeUrl?.();
    return namespacePolicyText({ ns, minRequired: 0, witnesses: [], ...(logUrl === undefined ? {} : { logUrl }) });
  }
}
