import { crypto } from '../crypto/index.js';
import { utf8Encode } from '../encoding/index.js';
import { SIGNATURE_TYPE_COSIGNATURE_V1 } from '../note/key-id.js';
import { parseTypedVkey, publicKeyIdentity } from '../note/ed25519-key.js';
import type { NoteSignatureVerifier } from '../note/note-verifier.js';
import { VerificationCache } from '../note/verification-cache.js';
import { COSIGNATURE_V1_SIZE, cosignedMessage, splitTimestampedSignature } from './cosigned-message.js';

/**
 * A witness's cosignature/v1 key (signature type 0x04), https://c2sp.org/tlog-cosignature. It plugs
 * into verifyNote like any note verifier: the note text it checks is the checkpoint body.
 */
export class CosignatureVerifier implements NoteSignatureVerifier {
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
    } = publicKeyIdentity(name, SIGNATURE_TYPE_COSIGNATURE_V1, publicKey));
  }

  static fromVkey(vkey: string): CosignatureVerifier {
    const k = parseTypedVkey(vkey, SIGNATURE_TYPE_COSIGNATURE_V1, 'a cosignature/v1 (type 0x04) key');
    return new CosignatureVerifier(k.name, k.publicKey);
  }

  /**
   * True iff `payload` (timestamp || signature) is a valid cosignature of the checkpoint body
   * `text`. Both are attacker-controlled; malformed payloads are simply invalid here.
   */
  verify(text: string, payload: Uint8Array): boolean {
    if (payload.length !== COSIGNATURE_V1_SIZE) return false;
    const key = this.#cache.key(text, payload);
    if (this.#cache.has(key)) return true;
    let parts;
    try {
      parts = splitTimestampedSignature(payload);
    } catch {
      return false;
    }
    const ok = crypto.ed25519Verify(
      this.publicKey,
      utf8Encode(cosignedMessage(text, parts.timestamp)),
      parts.signature,
    );
    if (ok) this.#cache.add(key);
    return ok;
  }
}
