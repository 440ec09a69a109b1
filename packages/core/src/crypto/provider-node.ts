import {
  createHash,
  createPrivateKey,
  hash as oneShotHash,
  createPublicKey,
  randomBytes as nodeRandomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import type { CryptoProvider } from './provider.js';

// PKCS#8 and SPKI DER prefixes for Ed25519 (RFC 8410); the raw 32-byte key follows each.
const PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);

// KeyObject construction costs more than a verification; verifiers see the same few keys again and again.
const publicKeyCache = new Map<string, KeyObject>();
const privateKeyCache = new Map<string, KeyObject>();
const KEY_CACHE_LIMIT = 1024;

function cached(cache: Map<string, KeyObject>, raw: Uint8Array, make: () => KeyObject): KeyObject {
  const k = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
  let key = cache.get(k);
  if (key === undefined) {
    key = make();
    if (cache.size >= KEY_CACHE_LIMIT) cache.clear();
    cache.set(k, key);
  }
  return key;
}

function privateKey(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new RangeError('Ed25519 seed must be 32 bytes');
  return cached(privateKeyCache, seed, () =>
    createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' }),
  );
}

function publicKeyObject(pub: Uint8Array): KeyObject {
  return cached(publicKeyCache, pub, () =>
    createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pub]), format: 'der', type: 'spki' }),
  );
}

function toU8(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export const cryptoProvider: CryptoProvider = {
  // crypto.hash is OpenSSL's one-shot digest: about twice as fast as createHash() for the
  // small inputs of Merkle hashing, where the per-call overhead dominates.
  sha256(data) {
    return toU8(oneShotHash('sha256', data, 'buffer'));
  },
  sha256Parts(parts) {
    if (parts.length === 1) return toU8(oneShotHash('sha256', parts[0]!, 'buffer'));
    let len = 0;
    for (const p of parts) len += p.length;
    // Merkle node and leaf inputs are small: one copy beats a hash object with several updates.
    if (len <= 4096) {
      const buf = Buffer.allocUnsafe(len);
      let off = 0;
      for (const p of parts) {
        buf.set(p, off);
        off += p.length;
      }
      return toU8(oneShotHash('sha256', buf, 'buffer'));
    }
    const h = createHash('sha256');
    for (const p of parts) h.update(p);
    return toU8(h.digest());
  },
  ed25519PublicKey(seed) {
    const spki = createPublicKey(privateKey(seed)).export({ format: 'der', type: 'spki' });
    return toU8(spki.subarray(SPKI_PREFIX.length));
  },
  ed25519Sign(seed, message) {
    return toU8(sign(null, message, privateKey(seed)));
  },
  ed25519Verify(publicKey, message, signature) {
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    try {
      return verify(null, message, publicKeyObject(publicKey), signature);
    } catch {
      return false;
    }
  },
  randomBytes(length) {
    return toU8(nodeRandomBytes(length));
  },
};
