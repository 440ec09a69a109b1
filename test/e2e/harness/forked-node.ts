import { cpSync } from 'node:fs';
import { canonicalBytes } from '@vaultmesh/core';
import { loadNode, openLogEngine } from '@vaultmesh/node';

/**
 * A copy of a stopped node's data directory: the same name, keys and logs. Started in place of the
 * original after both grew apart, it is that node showing a second history: a split view signed
 * with the node's real log key.
 */
export function copyNodeData(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
}

/**
 * Appends entries to a namespace of a node that is not running, in this process, and signs a
 * checkpoint covering them; returns its size. Nothing is sent anywhere: the fork stays private
 * until a process serves it.
 */
export async function appendOffline(
  dataDir: string,
  namespace: string,
  entries: readonly Record<string, unknown>[],
): Promise<number> {
  const identity = loadNode(dataDir);
  const engine = await openLogEngine({
    dbPath: identity.dbPath,
    nodeName: identity.config.name,
    logSeed: identity.logSeed,
    // No background publishing: the one checkpoint is signed below.
    checkpointIntervalMs: 3_600_000,
  });
  try {
    await engine.append(
      namespace,
      entries.map((e) => canonicalBytes(e)),
    );
    const cp = await engine.publishCheckpoint(namespace);
    if (!cp) throw new Error(`no checkpoint of ${namespace} after appending`);
    return cp.size;
  } finally {
    await engine.close();
  }
}
