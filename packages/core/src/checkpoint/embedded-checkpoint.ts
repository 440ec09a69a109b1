import { RemembrancerError, type ErrorCode } from '../errors.js';
import { parseNote, type Note } from '../note/signed-note.js';
import { parseCheckpoint, type ParsedCheckpoint } from './checkpoint.js';

/**
 * A signed checkpoint carried inside another text (a tlog-proof bundle, an add-checkpoint
 * request): its note and body, parsed. Any failure is reported as the carrier's own error `code`,
 * `<context>: invalid checkpoint: …`, so callers branch on one code per format. Signatures are
 * not verified here. `text` is attacker-controlled.
 */
export function parseEmbeddedCheckpoint(
  text: string,
  code: ErrorCode,
  context: string,
): { note: Note; parsedCheckpoint: ParsedCheckpoint } {
  try {
    const note = parseNote(text);
    return { note, parsedCheckpoint: parseCheckpoint(note.text) };
  } catch (cause) {
    throw new RemembrancerError(
      code,
      `${context}: invalid checkpoint: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}
