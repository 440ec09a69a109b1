import { base64Encode } from '@vaultmesh/core';
import type { PublishedCheckpoint } from '../log/log-engine.js';
import type { FederationStorage } from './federation-storage.js';

/** The checkpoint as served: the log-signed note followed by every witness cosignature held for it. */
export async function cosignedCheckpointNote(
  store: FederationStorage,
  origin: string,
  cp: PublishedCheckpoint,
): Promise<string> {
  const lines = await store.cosignatures(origin, cp.size, base64Encode(cp.root));
  return lines.length === 0 ? cp.note : cp.note + lines.map((l) => l.line).join('');
}
