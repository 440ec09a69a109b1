import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { RemembrancerError } from '@vaultmesh/core';
import { generateKeyFile, readKeyFile, type KeyPurpose } from './key-file.js';

/**
 * Key rotation in two steps, so a node never signs with a key its peers do not yet trust:
 * `prepare` writes `keys/<purpose>.next.key` beside the key in use; the registry version that lists
 * the next key's public half is proposed, signed and applied; the node then `promote`s it (the old
 * key file is kept as `<purpose>.retired-<time>.key`) and signs with it from then on.
 */
export type RotatableKey = Extract<KeyPurpose, 'witness' | 'peer'>;

export function nextKeyPath(dataDir: string, purpose: RotatableKey): string {
  return join(dataDir, 'keys', `${purpose}.next.key`);
}

export function prepareKeyRotation(dataDir: string, purpose: RotatableKey): Uint8Array {
  const path = nextKeyPath(dataDir, purpose);
  if (existsSync(path))
    throw new RemembrancerError(
      'CONFIG_INVALID',
      `${path} already exists: a rotation of the ${purpose} key is under way`,
    );
  return generateKeyFile(path, purpose);
}

export function readNextKey(dataDir: string, purpose: RotatableKey): Uint8Array | undefined {
  const path = nextKeyPath(dataDir, purpose);
  return existsSync(path) ? readKeyFile(path, purpose) : undefined;
}

/** Makes the next key the key in use (atomic renames); returns its seed. */
export function promoteNextKey(dataDir: string, purpose: RotatableKey, now = new Date()): Uint8Array {
  const next = nextKeyPath(dataDir, purpose);
  const seed = readKeyFile(next, purpose);
  const current = join(dataDir, 'keys', `${purpose}.key`);
  renameSync(current, join(dataDir, 'keys', `${purpose}.retired-${now.toISOString().replace(/[:.]/g, '-')}.key`));
  renameSync(next, current);
  return seed;
}
