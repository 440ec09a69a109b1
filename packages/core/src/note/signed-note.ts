import { RemembrancerError } from '../errors.js';
import { base64Decode, base64Encode, concatBytes } from '../encoding/index.js';
import { assertKeyName, isValidKeyName } from './key-name.js';
import { keyIdBytes } from './key-id.js';
import { hasForbiddenNoteCharacter, noteTextProblem } from './note-text.js';

/**
 * One signature line of a note, https://c2sp.org/signed-note#signatures:
 * `— <key name> base64(32-bit key ID || signature)`.
 */
export interface NoteSignature {
  readonly name: string;
  /** The big-endian uint32 key ID (first four bytes of the decoded signature). */
  readonly keyId: number;
  /** The bytes after the key ID: 64 for Ed25519, 8 + 64 for cosignature/v1. */
  readonly signature: Uint8Array;
}

export interface Note {
  /** The signed text, including its final newline but not the blank separator line. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/**
 * Parsing rejects notes with more signature lines than this. The spec says verifiers SHOULD bound
 * the count and MUST accept at least 16 (https://c2sp.org/signed-note#format); 100 leaves room for
 * large witness sets while bounding the work an attacker can cause.
 */
export const MAX_NOTE_SIGNATURES = 100;

const EM_DASH_SPACE = '\u2014 ';

function malformed(why: string, cause?: unknown): never {
  throw new RemembrancerError('NOTE_MALFORMED', `malformed note: ${why}`, cause === undefined ? undefined : { cause });
}

/** Parses one signature line without its newline. `line` is attacker-controlled. */
export function parseSignatureLine(line: string): NoteSignature {
  if (typeof line !== 'string' || !line.startsWith(EM_DASH_SPACE)) {
    malformed('signature line does not start with an em dash and a space');
  }
  const rest = line.slice(EM_DASH_SPACE.length);
  const sp = rest.indexOf(' ');
  if (sp < 0) malformed('signature line has no space between key name and signature');
  const name = rest.slice(0, sp);
  if (!isValidKeyName(name)) malformed(`invalid key name ${JSON.stringify(name)} in signature line`);
  let raw: Uint8Array;
  try {
    raw = base64Decode(rest.slice(sp + 1));
  } catch (cause) {
    malformed(`signature of ${JSON.stringify(name)} is not valid base64`, cause);
  }
  // 4-byte key ID plus a non-empty signature.
  if (raw.length < 5) malformed(`signature of ${JSON.stringify(name)} is too short`);
  const keyId = ((raw[0]! << 24) | (raw[1]! << 16) | (raw[2]! << 8) | raw[3]!) >>> 0;
  return { name, keyId, signature: raw.slice(4) };
}

/** The signature line including its final newline. */
export function formatSignatureLine(sig: NoteSignature): string {
  assertKeyName(sig.name, 'NOTE_MALFORMED');
  if (!Number.isInteger(sig.keyId) || sig.keyId < 0 || sig.keyId > 0xffffffff) {
    malformed('key ID must be a uint32');
  }
  if (!(sig.signature instanceof Uint8Array) || sig.signature.length === 0) malformed('empty signature');
  return `${EM_DASH_SPACE}${sig.name} ${base64Encode(concatBytes(keyIdBytes(sig.keyId), sig.signature))}\n`;
}

/**
 * Parses a sequence of newline-terminated signature lines, e.g. a tlog-witness add-checkpoint
 * response body (https://c2sp.org/tlog-witness). `lines` is attacker-controlled.
 */
export function parseSignatureLines(lines: string): NoteSignature[] {
  if (typeof lines !== 'string') malformed('not a string');
  if (lines === '') return [];
  if (!lines.endsWith('\n')) malformed('signature lines must end with a newline');
  if (hasForbiddenNoteCharacter(lines)) malformed('contains a control character or invalid UTF-16');
  return parseSignatureBlock(lines);
}

/** Non-empty, newline-terminated lines whose characters were already checked. */
function parseSignatureBlock(lines: string): NoteSignature[] {
  let count = 0;
  for (let i = lines.indexOf('\n'); i >= 0; i = lines.indexOf('\n', i + 1)) {
    if (++count > MAX_NOTE_SIGNATURES) malformed(`more than ${MAX_NOTE_SIGNATURES} signatures`);
  }
  return lines.slice(0, -1).split('\n').map(parseSignatureLine);
}

/**
 * Splits a signed note into text and signatures, https://c2sp.org/signed-note#format. Only the
 * syntax is checked here; the text MUST be ignored until a trusted signature verified it (use
 * verifyNote). `note` is attacker-controlled.
 */
export function parseNote(note: string): Note {
  if (typeof note !== 'string') malformed('not a string');
  if (!note.endsWith('\n')) malformed('a note must end with a newline');
  if (hasForbiddenNoteCharacter(note)) malformed('contains a control character or invalid UTF-16');
  // "the text is separated from the signatures by the last empty line in the note"
  const sep = note.lastIndexOf('\n\n');
  if (sep < 0) malformed('no blank line separates the text from the signatures');
  const text = note.slice(0, sep + 1);
  const block = note.slice(sep + 2);
  if (block === '') malformed('a note needs at least one signature line');
  return { text, signatures: parseSignatureBlock(block) };
}

/** Formats text and signatures (at least one) as a signed note. */
export function formatNote(note: Note): string {
  const why = noteTextProblem(note.text);
  if (why !== undefined) malformed(why);
  if (note.signatures.length === 0) malformed('a note needs at least one signature');
  if (note.signatures.length > MAX_NOTE_SIGNATURES) malformed(`more than ${MAX_NOTE_SIGNATURES} signatures`);
  let out = note.text + '\n';
  for (const s of note.signatures) out += formatSignatureLine(s);
  return out;
}
