import { RemembrancerError, canonicalBytes } from '@vaultmesh/core';

/** The tlog-tiles entry bundle encodes lengths in 2 bytes, so no entry may exceed this. */
export const MAX_ENTRY_BYTES = 65535;

/**
 * Attacker-controlled: turns a parsed JSON entry into the exact bytes the log stores and hashes
 * (RFC 8785 canonical JSON, UTF-8), refusing anything but a JSON object within the size bound.
 */
export function entryToBytes(entry: unknown, position?: number): Uint8Array {
  const where = position === undefined ? 'entry' : `entries[${position}]`;
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    throw new RemembrancerError('ENTRY_NOT_OBJECT', `${where} must be a JSON object`);
  }
  const bytes = canonicalBytes(entry);
  if (bytes.length > MAX_ENTRY_BYTES) {
    throw new RemembrancerError('ENTRY_TOO_LARGE', `${where} is ${bytes.length} bytes as canonical JSON; the limit is ${MAX_ENTRY_BYTES}`);
  }
  return bytes;
}
