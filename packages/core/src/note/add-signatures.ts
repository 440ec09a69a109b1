import { RemembrancerError } from '../errors.js';
import { MAX_NOTE_SIGNATURES, formatNote, parseNote, type NoteSignature } from './signed-note.js';

/**
 * Merges signature lines into a signed note, as a log does with the cosignatures its witnesses
 * return (https://c2sp.org/tlog-witness). A signature with the same key name and key ID as one
 * already present replaces it in place (a witness re-cosigning gives a newer timestamp), so the
 * order of existing lines, and with it the log's own signature in first place, never changes;
 * new keys are appended. Signatures are not verified here.
 */
export function addSignatures(noteText: string, sigs: readonly NoteSignature[]): string {
  const note = parseNote(noteText);
  const out = [...note.signatures];
  for (const s of sigs) {
    const i = out.findIndex((o) => o.name === s.name && o.keyId === s.keyId);
    if (i >= 0) out[i] = s;
    else out.push(s);
  }
  if (out.length > MAX_NOTE_SIGNATURES) {
    throw new RemembrancerError('NOTE_MALFORMED', `a note may hold at most ${MAX_NOTE_SIGNATURES} signatures`);
  }
  return formatNote({ text: note.text, signatures: out });
}
