import type { Logger } from 'pino';
import { errorMessage } from '@vaultmesh/core';
import type { FederationRegistry } from '../federation/federation-registry.js';
import type { NamespaceDirectory } from '../namespaces/namespace-directory.js';
import type { SealedCheckpoints } from '../namespaces/sealing.js';

export interface SharedStateFollowingOptions {
  directory: NamespaceDirectory;
  registry: FederationRegistry;
  sealing: Pick<SealedCheckpoints, 'invalidate'>;
  /** How often, ms (default 1 s; the governance log is looked at four times as often). */
  everyMs?: number;
  logger?: Logger;
}

/**
 * What every front end of a shared database keeps up with (issue 14), as the lease holder changes
 * it: the governance log (namespaces, writers, schemas, documents taking effect), the federation
 * registry, and which checkpoints are sealed (cosignatures the holder gathered). The logs
 * themselves are followed by the engine. Returns the stop.
 */
export function followSharedState(options: SharedStateFollowingOptions): () => void {
  const everyMs = options.everyMs ?? 1000;
  options.directory.start();
  options.directory.startFollowing(Math.max(25, Math.floor(everyMs / 4)));
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    options.registry
      .refresh()
      .then(() => options.sealing.invalidate())
      .catch((e: unknown) => options.logger?.warn({ err: errorMessage(e) }, 'reloading the federation registry failed'))
      .finally(() => (busy = false));
  }, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    options.directory.stopFollowing();
  };
}
