import { RemembrancerError, entryLeafData } from '@vaultmesh/core';

/**
 * Attacker-controlled: turns a parsed JSON entry into the exact bytes the log stores and hashes
 * (core's entryLeafData: RFC 8785 canonical JSON within the tile bundle's 65,535-byte bound),
 * naming the entry's position in a batch when it fails.
 */
export function entryToBytes(entry: unknown, position?: number): Uint8Array {
  try {
    return entryLeafData(entry);
  } catch (e) {
    if (position === undefined || !(e instanceof RemembrancerError)) throw e;
    throw new RemembrancerError(e.code, `entries[${position}]: ${e.message}`, { cause: e });
  }
}
