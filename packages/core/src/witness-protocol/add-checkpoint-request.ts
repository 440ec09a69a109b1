import { RemembrancerError } from '../errors.js';
import { base64Decode, base64Encode } from '../encoding/index.js';
import { isCanonicalUint, parseCanonicalDecimal } from '../checkpoint/decimal.js';
import type { ParsedCheckpoint } from '../checkpoint/checkpoint.js';
import { parseEmbeddedCheckpoint } from '../checkpoint/embedded-checkpoint.js';
import type { Note } from '../note/signed-note.js';
import { MAX_CONSISTENCY_PROOF_LINES, MAX_WITNESS_BODY_BYTES, exceedsUtf8Bytes } from './limits.js';

/** The parts of an add-checkpoint request body, https://c2sp.org/tlog-witness#add-checkpoint. */
export interface AddCheckpointRequest {
  /** Size of the latest checkpoint the client believes the witness cosigned (0 if none). */
  readonly oldSize: number;
  /** RFC 6962 consistency proof from `oldSize` to the checkpoint's size. */
  readonly proof: readonly Uint8Array[];
  /** The signed checkpoint note, verbatim (it may carry several signatures). */
  readonly checkpoint: string;
}

export interface ParsedAddCheckpointRequest extends AddCheckpointRequest {
  readonly note: Note;
  /** The checkpoint's contents; not yet verified. */
  readonly parsedCheckpoint: ParsedCheckpoint;
}

const HASH_SIZE = 32;
const OLD_PREFIX = 'old ';

function malformed(why: string, cause?: unknown): never {
  throw new RemembrancerError(
    'WITNESS_REQUEST_MALFORMED',
    `malformed add-checkpoint request: ${why}`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Formats the request body: `old <size>`, one base64 hash per line, an empty line, then the
 * checkpoint verbatim; every line newline-terminated. Only the syntax is enforced, so a client
 * (or a test) can still send a request the witness will refuse on its merits (old size above the
 * checkpoint size, a proof with an old size of 0, a wrong proof).
 */
export function formatAddCheckpointRequest(r: AddCheckpointRequest): string {
  if (!isCanonicalUint(r.oldSize)) malformed('old size must be a non-negative safe integer');
  if (!Array.isArray(r.proof)) malformed('proof must be an array');
  if (r.proof.length > MAX_CONSISTENCY_PROOF_LINES)
    malformed(`more than ${MAX_CONSISTENCY_PROOF_LINES} consistency proof lines`);
  if (typeof r.checkpoint !== 'string') malformed('checkpoint must be a string');
  parseEmbeddedCheckpoint(r.checkpoint, 'WITNESS_REQUEST_MALFORMED', 'malformed add-checkpoint request');
  let out = `${OLD_PREFIX}${r.oldSize}\n`;
  for (const h of r.proof) {
    if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) malformed('proof hashes must be 32 bytes');
    out += base64Encode(h) + '\n';
  }
  out += '\n' + r.checkpoint;
  if (exceedsUtf8Bytes(out, MAX_WITNESS_BODY_BYTES)) malformed(`request exceeds ${MAX_WITNESS_BODY_BYTES} bytes`);
  return out;
}

/**
 * Parses an add-checkpoint request body strictly (https://c2sp.org/tlog-witness#add-checkpoint):
 * the old size line is exactly `old` SP canonical-decimal; each proof line is the canonical base64
 * of one 32-byte hash, at most 63 of them; then one empty line; then a signed note whose text is
 * a checkpoint, with nothing after it. Every line ends in U+000A (no CR). Nothing is verified:
 * the old size may exceed the checkpoint size and the proof may be wrong; the spec answers those
 * with 400 and 422 only after the log signature has been checked, so the witness does that.
 * `body` is attacker-controlled (any client may POST to a witness).
 */
export function parseAddCheckpointRequest(body: string): ParsedAddCheckpointRequest {
  if (typeof body !== 'string') malformed('not a string');
  // Bound the work before looking at the content.
  if (exceedsUtf8Bytes(body, MAX_WITNESS_BODY_BYTES)) malformed(`request exceeds ${MAX_WITNESS_BODY_BYTES} bytes`);
  let pos = 0;
  const nextLine = (what: string): string => {
    const nl = body.indexOf('\n', pos);
    if (nl < 0) malformed(`missing ${what} (every line must end with a newline)`);
    const line = body.slice(pos, nl);
    pos = nl + 1;
    return line;
  };

  const oldLine = nextLine('old size line');
  if (!oldLine.startsWith(OLD_PREFIX)) malformed('the first line must be "old <size>"');
  const oldSize = parseCanonicalDecimal(oldLine.slice(OLD_PREFIX.length));
  if (oldSize === undefined) malformed('old size is not a canonical decimal');

  const proof: Uint8Array[] = [];
  for (;;) {
    const line = nextLine('empty line before the checkpoint');
    if (line === '') break;
    if (proof.length >= MAX_CONSISTENCY_PROOF_LINES)
      malformed(`more than ${MAX_CONSISTENCY_PROOF_LINES} consistency proof lines`);
    let h: Uint8Array;
    try {
      h = base64Decode(line);
    } catch (cause) {
      malformed(`consistency proof line ${proof.length + 1} is not valid base64`, cause);
    }
    if (h.length !== HASH_SIZE)
      malformed(`consistency proof line ${proof.length + 1} is ${h.length} bytes, expected ${HASH_SIZE}`);
    proof.push(h);
  }

  const checkpoint = body.slice(pos);
  const { note, parsedCheckpoint } = parseEmbeddedCheckpoint(
    checkpoint,
    'WITNESS_REQUEST_MALFORMED',
    'malformed add-checkpoint request',
  );
  return { oldSize, proof, checkpoint, note, parsedCheckpoint };
}
