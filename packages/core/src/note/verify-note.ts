import { RemembrancerError } from '../errors.js';
import type { NoteSignatureVerifier } from './note-verifier.js';
import { parseNote, type Note, type NoteSignature } from './signed-note.js';

export interface VerifiedNote {
  /** The note text; trustworthy only because `verified` is non-empty. */
  readonly text: string;
  /** The signatures by known keys, each verified (a key that signed twice appears once). */
  readonly verified: NoteSignature[];
}

/**
 * Checks the signatures of an already parsed note, https://c2sp.org/signed-note#signatures:
 * signatures whose (name, key ID) match no verifier are ignored, even if one of the two matches;
 * a matching signature that fails makes the whole note invalid (the spec's SHOULD, taken as a
 * MUST here: a bad signature from a key we trust means forgery or corruption); and at least one
 * must verify.
 */
export function verifyParsedNote(note: Note, verifiers: readonly NoteSignatureVerifier[]): VerifiedNote {
  const verified: NoteSignature[] = [];
  for (const sig of note.signatures) {
    let known = false;
    let ok = false;
    // Colliding (name, key ID) pairs among trusted keys are possible in principle; accept the
    // signature if any of them verifies it.
    for (const v of verifiers) {
      if (v.name !== sig.name || v.keyId !== sig.keyId) continue;
      known = true;
      if (v.verify(note.text, sig.signature)) {
        ok = true;
        break;
      }
    }
    if (!known) continue;
    if (!ok) {
      throw new RemembrancerError(
        'SIGNATURE_INVALID',
        `signature by trusted key ${JSON.stringify(sig.name)} does not verify`,
      );
    }
    if (!verified.some((s) => s.name === sig.name && s.keyId === sig.keyId)) verified.push(sig);
  }
  if (verified.length === 0) {
    const names = verifiers.map((v) => v.name).join(', ');
    throw new RemembrancerError(
      'SIGNATURE_MISSING',
      `note is not signed by any trusted key (${names || 'none given'})`,
    );
  }
  return { text: note.text, verified };
}

/** Parses and verifies a signed note. `noteText` is attacker-controlled. */
export function verifyNote(noteText: string, verifiers: readonly NoteSignatureVerifier[]): VerifiedNote {
  return verifyParsedNote(parseNote(noteText), verifiers);
}
