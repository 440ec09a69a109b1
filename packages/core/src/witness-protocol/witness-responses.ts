import { RemembrancerError } from '../errors.js';
import { isArray } from '../jcs/index.js';
import { isCanonicalUint, parseCanonicalDecimal } from '../checkpoint/decimal.js';
import {
  MAX_NOTE_SIGNATURES,
  formatSignatureLine,
  parseSignatureLines,
  type NoteSignature,
} from '../note/signed-note.js';
import { MAX_WITNESS_BODY_BYTES, exceedsUtf8Bytes } from './limits.js';

function malformed(why: string, cause?: unknown): never {
  throw new RemembrancerError(
    'WITNESS_RESPONSE_MALFORMED',
    `malformed witness response: ${why}`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * The body of a 200 answer to add-checkpoint, https://c2sp.org/tlog-witness#add-checkpoint: "a
 * sequence of one or more note signature lines, each starting with the `—` character (U+2014)
 * and ending with a newline character (U+000A)".
 */
export function formatCosignatureResponse(sigs: readonly NoteSignature[]): string {
  if (!isArray(sigs) || sigs.length === 0) malformed('a cosignature response needs at least one signature line');
  if (sigs.length > MAX_NOTE_SIGNATURES) malformed(`more than ${MAX_NOTE_SIGNATURES} signature lines`);
  let out = '';
  for (const s of sigs) {
    try {
      out += formatSignatureLine(s);
    } catch (cause) {
      malformed(cause instanceof Error ? cause.message : String(cause), cause);
    }
  }
  return out;
}

/**
 * Parses a 200 add-checkpoint body into its signature lines (at least one). Nothing is verified:
 * per the spec the client ignores lines from unknown keys and verifies the rest against the
 * checkpoint (e.g. addSignatures, then collectCosignatures). `body` is attacker-controlled.
 */
export function parseCosignatureResponse(body: string): NoteSignature[] {
  if (typeof body !== 'string') malformed('not a string');
  if (exceedsUtf8Bytes(body, MAX_WITNESS_BODY_BYTES)) malformed(`response exceeds ${MAX_WITNESS_BODY_BYTES} bytes`);
  if (body === '') malformed('a cosignature response needs at least one signature line');
  try {
    return parseSignatureLines(body);
  } catch (cause) {
    malformed(cause instanceof Error ? cause.message : String(cause), cause);
  }
}

/**
 * The body of a 409 Conflict answer (Content-Type text/x.tlog.size): "the tree size of the latest
 * cosigned checkpoint in decimal, followed by a newline (U+000A)".
 */
export function formatSizeResponse(size: number): string {
  if (!isCanonicalUint(size)) malformed('size must be a non-negative safe integer');
  return `${size}\n`;
}

/** Parses a 409 body: a canonical decimal and one newline, nothing else. `text` is attacker-controlled. */
export function parseSizeResponse(text: string): number {
  if (typeof text !== 'string') malformed('not a string');
  if (text.length > 32 || !text.endsWith('\n')) malformed('a size response is one decimal followed by a newline');
  const size = parseCanonicalDecimal(text.slice(0, -1));
  if (size === undefined) malformed('size is not a canonical decimal');
  return size;
}
