import { crypto } from '../crypto/index.js';
import { utf8Encode } from '../encoding/index.js';
import { SIGNATURE_TYPE_ED25519 } from './key-id.js';
import { parseTypedVkey, publicKeyIdentity } from './ed25519-key.js';
import { VerificationCache } from './verification-cache.js';

/**
 * Anything that can check one note signature: identified by key name and key ID
 * (https://c2sp.org/signed-note#signatures), it says whether `signature` (the bytes after the key
 * ID) is valid for the note text. Ed25519 note keys and cosignature/v1 witness keys both fit.
 */
export interface NoteSignatureVerifier {
  readonly name: string;
  readonly keyId: number;
  verify(text: string, signature: Uint8Array): boolean;
}

/** An Ed25519 (type 0x01) note verifier, https://c2sp.org/signed-note#ed25519-signatures. */
export class NoteVerifier implements NoteSignatureVerifier {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: Uint8Array;
  readonly vkey: string;
  readonly #cache = new VerificationCache();

  constructor(name: string, publicKey: Uint8Array) {
    ({
      name: this.name,
      keyId: this.keyId,
      publicKey: this.publicKey,
      vkey: this.vkey,
    } = publicKeyIdentity(name, SIGNATURE_TYPE_ED25519, publicKey));
  }

  /** Parse a vkey once and reuse the verifier: parsing costs a hash, verifying may hit the cache. */
  static fromVkey(vkey: string): NoteVerifier {
    const k = parseTypedVkey(vkey, SIGNATURE_TYPE_ED25519, 'an Ed25519 (type 0x01) note key');
    return new NoteVerifier(k.name, k.publicKey);
  }

  /** `text` and `signature` are attacker-controlled. */
  verify(text: string, signature: Uint8Array): boolean {
    if (signature.length !== 64) return false;
    const key = this.#cache.key(text, signature);
    if (this.#cache.has(key)) return true;
    const ok = crypto.ed25519Verify(this.publicKey, utf8Encode(text), signature);
    if (ok) this.#cache.add(key);
    return ok;
  }
}
