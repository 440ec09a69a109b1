import { RemembrancerError } from '../errors.js';
import { crypto } from '../crypto/index.js';
import { utf8Encode } from '../encoding/index.js';
import { SIGNATURE_TYPE_COSIGNATURE_V1, computeKeyId } from '../note/key-id.js';
import { assertKeyName } from '../note/key-name.js';
import type { NoteSignatureVerifier } from '../note/note-verifier.js';
import { VerificationCache } from '../note/verification-cache.js';
import { formatVkey, parseVkey } from '../note/vkey.js';
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
    assertKeyName(name, 'VKEY_MALFORMED');
    if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
      throw new RemembrancerError('VKEY_MALFORMED', 'Ed25519 public key must be 32 bytes');
    }
    this.name = name;
    this.publicKey = publicKey.slice();
    this.keyId = computeKeyId(name, SIGNATURE_TYPE_COSIGNATURE_V1, this.publicKey);
    this.vkey = formatVkey(name, SIGNATURE_TYPE_COSIGNATURE_V1, this.publicKey);
  }

  static fromVkey(vkey: string): CosignatureVerifier {
    const k = parseVkey(vkey);
    if (k.type !== SIGNATURE_TYPE_COSIGNATURE_V1) {
      throw new RemembrancerError('VKEY_MALFORMED', `verifier key ${JSON.stringify(k.name)} is not a cosignature/v1 (type 0x04) key`);
    }
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
    const ok = crypto.ed25519Verify(this.publicKey, utf8Encode(cosignedMessage(text, parts.timestamp)), parts.signature);
    if (ok) this.#cache.add(key);
    return ok;
  }
}
