import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import type { CryptoProvider } from './provider.js';

export const cryptoProvider: CryptoProvider = {
  sha256(data) {
    return nobleSha256(data);
  },
  sha256Parts(parts) {
    const h = nobleSha256.create();
    for (const p of parts) h.update(p);
    return h.digest();
  },
  ed25519PublicKey(seed) {
    return ed25519.getPublicKey(seed);
  },
  ed25519Sign(seed, message) {
    return ed25519.sign(message, seed);
  },
  ed25519Verify(publicKey, message, signature) {
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    try {
      // zip215: false gives the strict RFC 8032 verdict OpenSSL gives on the server, so a
      // signature never verifies in the browser but not in Node (or the reverse).
      return ed25519.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },
  randomBytes(length) {
    const out = new Uint8Array(length);
    globalThis.crypto.getRandomValues(out);
    return out;
  },
};
