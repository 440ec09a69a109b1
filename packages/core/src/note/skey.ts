import { RemembrancerError } from '../errors.js';
import { crypto } from '../crypto/index.js';
import { base64Decode, base64Encode, concatBytes } from '../encoding/index.js';
import { isValidKeyName } from './key-name.js';
import {
  SIGNATURE_TYPE_COSIGNATURE_V1,
  SIGNATURE_TYPE_ED25519,
  computeKeyId,
  formatKeyId,
  parseKeyId,
} from './key-id.js';
import { formatVkey } from './vkey.js';

/**
 * A decoded private signer key. The text form `PRIVATE+KEY+<name>+hex(key ID)+base64(type || seed)`
 * is the one Go's golang.org/x/mod/sumdb/note and the transparency-dev tools read and write; the
 * C2SP spec defines only verifier keys. The leading `PRIVATE+KEY` makes a leaked secret easy to
 * recognise and cannot be mistaken for a vkey (key names may not contain "+").
 */
export interface Skey {
  readonly name: string;
  readonly keyId: number;
  readonly type: number;
  /** The 32-byte Ed25519 seed. Secret. */
  readonly seed: Uint8Array;
}

const SUPPORTED = new Set([SIGNATURE_TYPE_ED25519, SIGNATURE_TYPE_COSIGNATURE_V1]);

// Messages never include the key text: it is a secret.
function malformed(why: string): never {
  throw new RemembrancerError('VKEY_MALFORMED', `malformed private key: ${why}`);
}

export function parseSkey(skey: string): Skey {
  if (typeof skey !== 'string') malformed('not a string');
  // The base64 key may itself contain "+": split off the first four fields only.
  const prefix = 'PRIVATE+KEY+';
  if (!skey.startsWith(prefix)) malformed('expected PRIVATE+KEY+<name>+<key ID>+<key>');
  const p1 = skey.indexOf('+', prefix.length);
  const p2 = p1 < 0 ? -1 : skey.indexOf('+', p1 + 1);
  if (p2 < 0) malformed('expected PRIVATE+KEY+<name>+<key ID>+<key>');
  const name = skey.slice(prefix.length, p1);
  const hex = skey.slice(p1 + 1, p2);
  const b64 = skey.slice(p2 + 1);
  if (!isValidKeyName(name)) malformed('invalid key name');
  const keyId = parseKeyId(hex);
  if (keyId === undefined) malformed('key ID must be 8 lowercase hex digits');
  let raw: Uint8Array;
  try {
    raw = base64Decode(b64);
  } catch {
    malformed('key is not valid base64');
  }
  const type = raw[0];
  if (type === undefined || !SUPPORTED.has(type)) malformed('unsupported signature type');
  if (raw.length !== 33) malformed('Ed25519 seed must be 32 bytes');
  const seed = raw.slice(1);
  if (computeKeyId(name, type, crypto.ed25519PublicKey(seed)) !== keyId)
    malformed('key ID does not match name and key');
  return { name, keyId, type, seed };
}

export function formatSkey(name: string, type: number, seed: Uint8Array): string {
  if (!isValidKeyName(name)) malformed('invalid key name');
  if (!SUPPORTED.has(type)) malformed('unsupported signature type');
  if (!(seed instanceof Uint8Array) || seed.length !== 32) malformed('Ed25519 seed must be 32 bytes');
  const keyId = computeKeyId(name, type, crypto.ed25519PublicKey(seed));
  return `PRIVATE+KEY+${name}+${formatKeyId(keyId)}+${base64Encode(concatBytes(Uint8Array.of(type), seed))}`;
}

/**
 * A fresh key pair as text: the private `skey` and its public `vkey`. `type` is 0x01 for log keys
 * and 0x04 for witness (cosignature/v1) keys.
 */
export function generateKeyPair(name: string, type: number = SIGNATURE_TYPE_ED25519): { skey: string; vkey: string } {
  const seed = crypto.randomBytes(32);
  const skey = formatSkey(name, type, seed);
  return { skey, vkey: formatVkey(name, type, crypto.ed25519PublicKey(seed)) };
}
