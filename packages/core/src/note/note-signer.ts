import { RemembrancerError } from '../errors.js';
import { crypto } from '../crypto/index.js';
import { utf8Encode } from '../encoding/index.js';
import { SIGNATURE_TYPE_ED25519, computeKeyId } from './key-id.js';
import { assertKeyName } from './key-name.js';
import { assertNoteText } from './note-text.js';
import type { NoteSignature } from './signed-note.js';
import { formatSkey, parseSkey } from './skey.js';
import { formatVkey } from './vkey.js';
import { NoteVerifier } from './note-verifier.js';

/** Signs note texts with an Ed25519 (type 0x01) key, https://c2sp.org/signed-note#ed25519-signatures. */
export class NoteSigner {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: Uint8Array;
  readonly vkey: string;
  readonly #seed: Uint8Array;

  constructor(name: string, seed: Uint8Array) {
    assertKeyName(name, 'INVALID_ARGUMENT');
    if (!(seed instanceof Uint8Array) || seed.length !== 32) {
      throw new RemembrancerError('INVALID_ARGUMENT', 'Ed25519 seed must be 32 bytes');
    }
    this.name = name;
    this.#seed = seed.slice();
    this.publicKey = crypto.ed25519PublicKey(this.#seed);
    this.keyId = computeKeyId(name, SIGNATURE_TYPE_ED25519, this.publicKey);
    this.vkey = formatVkey(name, SIGNATURE_TYPE_ED25519, this.publicKey);
  }

  static fromSkey(skey: string): NoteSigner {
    const k = parseSkey(skey);
    if (k.type !== SIGNATURE_TYPE_ED25519) {
      throw new RemembrancerError('VKEY_MALFORMED', 'private key is not an Ed25519 (type 0x01) note key');
    }
    return new NoteSigner(k.name, k.seed);
  }

  static generate(name: string): NoteSigner {
    return new NoteSigner(name, crypto.randomBytes(32));
  }

  /** The private key text. Secret: store it with restrictive permissions. */
  skey(): string {
    return formatSkey(this.name, SIGNATURE_TYPE_ED25519, this.#seed);
  }

  verifier(): NoteVerifier {
    return new NoteVerifier(this.name, this.publicKey);
  }

  /** Signs the note text (which must end with a newline and hold no control characters). */
  sign(text: string): NoteSignature {
    assertNoteText(text);
    return { name: this.name, keyId: this.keyId, signature: crypto.ed25519Sign(this.#seed, utf8Encode(text)) };
  }
}
