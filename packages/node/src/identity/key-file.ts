import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { RemembrancerError, base64Decode, base64Encode, crypto } from '@vaultmesh/core';

/**
 * A node's secret Ed25519 seed on disk: a one-line JSON file, mode 0600. JSON rather than a C2SP
 * `PRIVATE+KEY+…` string because one log seed signs the checkpoints of many origins (key names).
 */
export type KeyPurpose = 'log' | 'witness' | 'peer' | 'operator';

interface KeyFileBody {
  type: 'ed25519';
  purpose: KeyPurpose;
  seed: string;
}

export const SECRET_FILE_MODE = 0o600;

export function writeSecretFile(path: string, contents: string): void {
  // `wx` refuses to overwrite: an existing identity is never silently replaced.
  writeFileSync(path, contents, { mode: SECRET_FILE_MODE, flag: 'wx' });
  chmodSync(path, SECRET_FILE_MODE);
}

export function generateKeyFile(path: string, purpose: KeyPurpose): Uint8Array {
  const seed = crypto.randomBytes(32);
  const body: KeyFileBody = { type: 'ed25519', purpose, seed: base64Encode(seed) };
  writeSecretFile(path, JSON.stringify(body) + '\n');
  return seed;
}

export function readKeyFile(path: string, purpose: KeyPurpose): Uint8Array {
  if (!existsSync(path))
    throw new RemembrancerError('CONFIG_INVALID', `key file ${path} is missing (run 'remembrancer init')`);
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new RemembrancerError(
      'CONFIG_INVALID',
      `key file ${path} is readable by others (mode ${mode.toString(8)}); chmod 600 it`,
    );
  }
  let body: Partial<KeyFileBody>;
  try {
    body = JSON.parse(readFileSync(path, 'utf8')) as Partial<KeyFileBody>;
  } catch (cause) {
    throw new RemembrancerError('CONFIG_INVALID', `key file ${path} is not valid JSON`, { cause });
  }
  if (body.type !== 'ed25519' || body.purpose !== purpose || typeof body.seed !== 'string') {
    throw new RemembrancerError('CONFIG_INVALID', `key file ${path} is not an ed25519 ${purpose} key`);
  }
  const seed = base64Decode(body.seed);
  if (seed.length !== 32)
    throw new RemembrancerError('CONFIG_INVALID', `key file ${path} has a seed of ${seed.length} bytes, want 32`);
  return seed;
}
