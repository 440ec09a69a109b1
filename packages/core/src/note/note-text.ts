import { RemembrancerError } from '../errors.js';

// https://c2sp.org/signed-note#format: notes "MUST be valid UTF-8 and MUST NOT contain any ASCII
// control characters (those below U+0020) other than newline". A JavaScript string is UTF-16, so
// the UTF-8 rule becomes "no lone surrogates" (they would be silently replaced when encoding,
// changing the signed bytes).
const FORBIDDEN = /[\u0000-\u0009\u000b-\u001f\p{Cs}]/u;

/** Why text cannot be a note text, or undefined if it can. */
export function noteTextProblem(text: string): string | undefined {
  if (typeof text !== 'string') return 'not a string';
  if (text.length === 0 || !text.endsWith('\n')) return 'text must end with a newline';
  if (FORBIDDEN.test(text)) return 'contains a control character or invalid UTF-16';
  return undefined;
}

export function assertNoteText(text: string): void {
  const why = noteTextProblem(text);
  if (why !== undefined) throw new RemembrancerError('NOTE_MALFORMED', `invalid note text: ${why}`);
}

/** True if s contains a character that a note may never contain. */
export function hasForbiddenNoteCharacter(s: string): boolean {
  return FORBIDDEN.test(s);
}

// A single line of a note text: the note's character rules, and no newline either.
const FORBIDDEN_IN_LINE = /[\u0000-\u001f\p{Cs}]/u;

/** True if s cannot be one line of a note text. */
export function hasForbiddenLineCharacter(s: string): boolean {
  return FORBIDDEN_IN_LINE.test(s);
}
