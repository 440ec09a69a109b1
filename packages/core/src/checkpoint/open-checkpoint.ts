import { RemembrancerError } from '../errors.js';
import type { NoteSigner } from '../note/note-signer.js';
import type { NoteVerifier } from '../note/note-verifier.js';
import { formatNote, parseNote, type Note, type NoteSignature } from '../note/signed-note.js';
import { verifyParsedNote } from '../note/verify-note.js';
import { formatCheckpoint, parseCheckpoint, type Checkpoint, type ParsedCheckpoint } from './checkpoint.js';

/**
 * Signs a checkpoint as its log and returns the whole signed note. The log's key name must be the
 * origin: https://c2sp.org/tlog-checkpoint#signatures says it SHOULD match, and our verifiers pick
 * the log key by origin.
 */
export function signCheckpoint(c: Checkpoint, signer: NoteSigner): string {
  if (signer.name !== c.origin) {
    throw new RemembrancerError(
      'ORIGIN_MISMATCH',
      `log key ${JSON.stringify(signer.name)} cannot sign checkpoints of origin ${JSON.stringify(c.origin)}`,
    );
  }
  const body = formatCheckpoint(c);
  return formatNote({ text: body, signatures: [signer.sign(body)] });
}

export interface OpenedCheckpoint {
  readonly checkpoint: ParsedCheckpoint;
  readonly note: Note;
  /** The log signatures that verified (cosignatures are not looked at). */
  readonly verified: NoteSignature[];
}

/**
 * Verifies a signed checkpoint against trusted log keys and returns its contents. Only keys named
 * exactly as the checkpoint's origin count (ORIGIN_MISMATCH if none is); of those, one must have
 * signed (SIGNATURE_MISSING) and none may have a failing signature (SIGNATURE_INVALID).
 * Cosignatures and other unknown signatures are ignored (https://c2sp.org/tlog-checkpoint#signatures).
 * `noteText` is attacker-controlled.
 */
export function openCheckpoint(
  noteText: string,
  logVerifier: NoteVerifier | readonly NoteVerifier[],
): OpenedCheckpoint {
  return openCheckpointNote(parseNote(noteText), logVerifier);
}

/** openCheckpoint for a note that was already parsed. */
export function openCheckpointNote(note: Note, logVerifier: NoteVerifier | readonly NoteVerifier[]): OpenedCheckpoint {
  // Parsing the body before the signature check is safe: nothing is acted upon until the
  // signature verified, and the origin is needed to pick the key.
  const checkpoint = parseCheckpoint(note.text);
  const all: readonly NoteVerifier[] = Array.isArray(logVerifier) ? logVerifier : [logVerifier as NoteVerifier];
  const forOrigin = all.filter((v) => v.name === checkpoint.origin);
  if (forOrigin.length === 0) {
    const names = all.map((v) => JSON.stringify(v.name)).join(', ');
    throw new RemembrancerError(
      'ORIGIN_MISMATCH',
      `checkpoint origin ${JSON.stringify(checkpoint.origin)} has no trusted log key (trusted: ${names || 'none'})`,
    );
  }
  const { verified } = verifyParsedNote(note, forOrigin);
  return { checkpoint, note, verified };
}
