import type { NoteSigner } from './note-signer.js';
import { formatNote } from './signed-note.js';

/** Signs text with each signer, in order, and returns the signed note. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  return formatNote({ text, signatures: signers.map((s) => s.sign(text)) });
}
