import { base64Encode } from '@vaultmesh/core';
import type { PublishedCheckpoint } from '../log/log-engine.js';
import type { FederationStore } from './federation-store.js';

/** The checkpoint as served: the log-signed note followed by every witness cosignature held for it. */
export function cosignedCheckpointNote(store: FederationStore, origin: string, cp: PublishedCheckpoint): string {
  const lines = store.cosignatures(origin, cp.size, base64Encode(cp.root));
  return lines.length === 0 ? cp.note : cp.note + lines.map((l) => l.line).join('');
}
