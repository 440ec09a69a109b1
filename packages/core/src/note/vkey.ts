import { RemembrancerError } from '../errors.js';
import { base64Decode, base64Encode, concatBytes } from '../encoding/index.js';
import { isValidKeyName } from './key-name.js';
import {
  SIGNATURE_TYPE_COSIGNATURE_V1,
  SIGNATURE_TYPE_ED25519,
  computeKeyId,
  formatKeyId,
  parseKeyId,
} from './key-id.js';

/** A decoded verifier key, https://c2sp.org/signed-note#verifier-keys. */
export interface Vkey {
  readonly name: string;
  readonly keyId: number;
  /** The signature type byte (0x01 Ed25519, 0x04 cosignature/v1, ...). */
  readonly type: number;
  /** The public key material after the type byte. */
  readonly publicKey: Uint8Array;
}

/** Types whose key ID this module can recompute, with their public key length. */
const ED25519_TYPES = new Set([SIGNATURE_TYPE_ED25519, SIGNATURE_TYPE_COSIGNATURE_V1]);

function malformed(why: string, cause?: unknown): never {
  throw new RemembrancerError(
    'VKEY_MALFORMED',
    `malformed verifier key: ${why}`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Parses `<key name>+hex(key ID)+base64(signature type || public key)`. For the Ed25519-based types
 * (0x01, 0x04) the key must be 32 bytes and the key ID must be the one the spec derives from name
 * and key, so a vkey cannot claim an ID that signatures by its key would never carry. `vkey` may
 * come from configuration or a peer and is treated as untrusted.
 */
export function parseVkey(vkey: string): Vkey {
  if (typeof vkey !== 'string') malformed('not a string');
  // Names and key IDs hold no "+", but the base64 key may: split at the first two only.
  const p1 = vkey.indexOf('+');
  const p2 = p1 < 0 ? -1 : vkey.indexOf('+', p1 + 1);
  if (p2 < 0) malformed('expected <name>+<key ID>+<key>');
  const name = vkey.slice(0, p1);
  const hex = vkey.slice(p1 + 1, p2);
  const b64 = vkey.slice(p2 + 1);
  if (!isValidKeyName(name)) malformed(`invalid key name ${JSON.stringify(name)}`);
  const keyId = parseKeyId(hex);
  if (keyId === undefined) malformed('key ID must be 8 lowercase hex digits');
  let raw: Uint8Array;
  try {
    raw = base64Decode(b64);
  } catch (cause) {
    malformed('key is not valid base64', cause);
  }
  if (raw.length < 2) malformed('key too short');
  const type = raw[0]!;
  const publicKey = raw.slice(1);
  if (ED25519_TYPES.has(type)) {
    if (publicKey.length !== 32) malformed('Ed25519 public key must be 32 bytes');
    if (computeKeyId(name, type, publicKey) !== keyId) malformed('key ID does not match name and key');
  }
  return { name, keyId, type, publicKey };
}

export function formatVkey(name: string, type: number, publicKey: Uint8Array): string {
  if (!isValidKeyName(name)) malformed(`invalid key name ${JSON.stringify(name)}`);
  if (!Number.isInteger(type) || type < 0 || type > 255) malformed('type must be a byte');
  if (ED25519_TYPES.has(type) && publicKey.length !== 32) malformed('Ed25519 public key must be 32 bytes');
  const keyId = computeKeyId(name, type, publicKey);
  return `${name}+${formatKeyId(keyId)}+${base64Encode(concatBytes(Uint8Array.of(type), publicKey))}`;
}
