import { crypto } from '../crypto/index.js';
import { utf8Encode } from '../encoding/index.js';
import { SIGNATURE_TYPE_ED25519 } from './key-id.js';
import { parseTypedSkey, seedIdentity } from './ed25519-key.js';
import { assertNoteText } from './note-text.js';
import type { NoteSignature } from './signed-note.js';
import { formatSkey } from './skey.js';
import { NoteVerifier } from './note-verifier.js';

/** Signs note texts with an Ed25519 (type 0x01) key, https://c2sp.org/signed-note#ed25519-signatures. */
export class NoteSigner {
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
    } = seedIdentity(name, SIGNATURE_TYPE_ED25519, seed));
  }

  static fromSkey(skey: string): NoteSigner {
    const k = parseTypedSkey(skey, SIGNATURE_TYPE_ED25519, 'an Ed25519 (type 0x01) note key');
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
