import { RemembrancerError } from '../errors.js';
import { crypto } from '../crypto/index.js';
import { computeKeyId } from './key-id.js';
import { assertKeyName } from './key-name.js';
import { parseSkey } from './skey.js';
import { formatVkey, parseVkey } from './vkey.js';

/**
 * What identifies a named Ed25519 key in C2SP notes, for any signature type (0x01 note keys,
 * 0x04 cosignature keys): the key ID and vkey both commit to name, type and public key.
 */
export interface Ed25519KeyIdentity {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: Uint8Array;
  readonly vkey: string;
}

/** Identity of a verifier key; bad input is VKEY_MALFORMED (it usually comes from configuration). */
export function publicKeyIdentity(name: string, type: number, publicKey: Uint8Array): Ed25519KeyIdentity {
  assertKeyName(name, 'VKEY_MALFORMED');
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw new RemembrancerError('VKEY_MALFORMED', 'Ed25519 public key must be 32 bytes');
  }
  const pk = publicKey.slice();
  return { name, keyId: computeKeyId(name, type, pk), publicKey: pk, vkey: formatVkey(name, type, pk) };
}

/** Identity of a signing key from its 32-byte seed; the returned seed is a private copy. */
export function seedIdentity(name: string, type: number, seed: Uint8Array): Ed25519KeyIdentity & { seed: Uint8Array } {
  assertKeyName(name, 'INVALID_ARGUMENT');
  if (!(seed instanceof Uint8Array) || seed.length !== 32) {
    throw new RemembrancerError('INVALID_ARGUMENT', 'Ed25519 seed must be 32 bytes');
  }
  const s = seed.slice();
  const publicKey = crypto.ed25519PublicKey(s);
  return {
    name,
    keyId: computeKeyId(name, type, publicKey),
    publicKey,
    vkey: formatVkey(name, type, publicKey),
    seed: s,
  };
}

/** Parses a vkey that must be of `type` (`what` names the type in the error). */
export function parseTypedVkey(vkey: string, type: number, what: string): { name: string; publicKey: Uint8Array } {
  const k = parseVkey(vkey);
  if (k.type !== type)
    throw new RemembrancerError('VKEY_MALFORMED', `verifier key ${JSON.stringify(k.name)} is not ${what}`);
  return k;
}

/** Parses a private key that must be of `type`; never echoes the secret. */
export function parseTypedSkey(skey: string, type: number, what: string): { name: string; seed: Uint8Array } {
  const k = parseSkey(skey);
  if (k.type !== type) throw new RemembrancerError('VKEY_MALFORMED', `private key is not ${what}`);
  return k;
}
