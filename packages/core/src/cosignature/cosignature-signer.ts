import { RemembrancerError } from '../errors.js';
import { crypto } from '../crypto/index.js';
import { utf8Encode } from '../encoding/index.js';
import { parseCheckpoint } from '../checkpoint/checkpoint.js';
import { SIGNATURE_TYPE_COSIGNATURE_V1 } from '../note/key-id.js';
import { parseTypedSkey, seedIdentity } from '../note/ed25519-key.js';
import type { NoteSignature } from '../note/signed-note.js';
import { formatSkey } from '../note/skey.js';
import { cosignedMessage, joinTimestampedSignature } from './cosigned-message.js';
import { CosignatureVerifier } from './cosignature-verifier.js';

/**
 * A witness's cosignature/v1 signer, https://c2sp.org/tlog-cosignature. The Ed25519 message does
 * not commit to the cosigner's name, so one key must never serve two cosigners; and a witness key
 * is never a log key (design: `<node name>/witness`).
 */
export class CosignatureSigner {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: Uint8Array;
  readonly vkey: string;
  readonly #seed: Uint8Array;

  constructor(name: string, seed: Uint8Array) {
    ({
      name: this.name,
      keyId: this.keyId,
      publicKey: this.publicKey,
      vkey: this.vkey,
      seed: this.#seed,
    } = seedIdentity(name, SIGNATURE_TYPE_COSIGNATURE_V1, seed));
  }

  static fromSkey(skey: string): CosignatureSigner {
    const k = parseTypedSkey(skey, SIGNATURE_TYPE_COSIGNATURE_V1, 'a cosignature/v1 (type 0x04) key');
    return new CosignatureSigner(k.name, k.seed);
  }

  static generate(name: string): CosignatureSigner {
    return new CosignatureSigner(name, crypto.randomBytes(32));
  }

  /** The private key text. Secret. */
  skey(): string {
    return formatSkey(this.name, SIGNATURE_TYPE_COSIGNATURE_V1, this.#seed);
  }

  verifier(): CosignatureVerifier {
    return new CosignatureVerifier(this.name, this.publicKey);
  }

  /**
   * Cosigns a checkpoint note text at `timestamp` (POSIX seconds). The body must be a well-formed
   * checkpoint: a cosignature is a statement about a tree head, never about arbitrary text.
   */
  cosign(checkpointBody: string, timestamp: number): NoteSignature {
    parseCheckpoint(checkpointBody);
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
      throw new RemembrancerError('INVALID_ARGUMENT', 'timestamp must be a non-negative integer number of seconds');
    }
    const sig = crypto.ed25519Sign(this.#seed, utf8Encode(cosignedMessage(checkpointBody, timestamp)));
    return { name: this.name, keyId: this.keyId, signature: joinTimestampedSignature(timestamp, sig) };
  }
}
