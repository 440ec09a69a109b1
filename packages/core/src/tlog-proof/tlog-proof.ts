import { RemembrancerError } from '../errors.js';
import { base64Decode, base64Encode } from '../encoding/index.js';
import { isCanonicalUint, parseCanonicalDecimal } from '../checkpoint/decimal.js';
import type { ParsedCheckpoint } from '../checkpoint/checkpoint.js';
import { parseEmbeddedCheckpoint } from '../checkpoint/embedded-checkpoint.js';
import type { Note } from '../note/signed-note.js';

/** First line of every proof, https://c2sp.org/tlog-proof#format. */
export const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1';

/**
 * Inclusion proofs for trees of up to 2^53 leaves have at most 53 hashes; anything longer is
 * rejected before decoding, bounding the work an attacker can cause.
 */
export const MAX_TLOG_PROOF_HASHES = 64;

const HASH_SIZE = 32;

/** The parts of a c2sp.org/tlog-proof@v1 text. */
export interface TlogProof {
  /** Zero-based index of the entry in the log. */
  readonly index: number;
  /** RFC 6962 inclusion proof, from the leaf's sibling up to the root's child. */
  readonly proof: readonly Uint8Array[];
  /** The signed checkpoint note, verbatim (with any cosignatures). */
  readonly checkpoint: string;
  /** Opaque, unauthenticated application data (the `extra` line); absent if there is none. */
  readonly extraData?: Uint8Array;
}

export interface ParsedTlogProof extends TlogProof {
  readonly note: Note;
  /** The checkpoint's contents; not yet verified. */
  readonly parsedCheckpoint: ParsedCheckpoint;
}

function malformed(why: string, cause?: unknown): never {
  throw new RemembrancerError(
    'TLOG_PROOF_MALFORMED',
    `malformed tlog-proof: ${why}`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Formats https://c2sp.org/tlog-proof#format: header line, optional `extra <base64>` line,
 * `index <decimal>`, one base64 hash per line, an empty line, then the checkpoint verbatim.
 * An `extraData` of zero bytes is written as `extra ` (base64 of nothing) and parses back as such.
 */
export function formatTlogProof(p: TlogProof): string {
  if (!isCanonicalUint(p.index)) malformed('index must be a non-negative safe integer');
  if (p.proof.length > MAX_TLOG_PROOF_HASHES) malformed(`more than ${MAX_TLOG_PROOF_HASHES} proof hashes`);
  if (typeof p.checkpoint !== 'string') malformed('checkpoint must be a string');
  parseEmbeddedCheckpoint(p.checkpoint, 'TLOG_PROOF_MALFORMED', 'malformed tlog-proof');
  let out = TLOG_PROOF_HEADER + '\n';
  if (p.extraData !== undefined) {
    if (!(p.extraData instanceof Uint8Array)) malformed('extra data must be bytes');
    out += `extra ${base64Encode(p.extraData)}\n`;
  }
  out += `index ${p.index}\n`;
  for (const h of p.proof) {
    if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) malformed('proof hashes must be 32 bytes');
    out += base64Encode(h) + '\n';
  }
  return out + '\n' + p.checkpoint;
}

/**
 * Parses a tlog-proof text strictly: every line must be exactly as the spec writes it, the
 * checkpoint must be a syntactically valid signed checkpoint note, and nothing may follow it.
 * Nothing is verified; see verifyTlogProof. `text` is attacker-controlled.
 */
export function parseTlogProof(text: string): ParsedTlogProof {
  if (typeof text !== 'string') malformed('not a string');
  let pos = 0;
  const nextLine = (what: string): string => {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) malformed(`missing ${what}`);
    const line = text.slice(pos, nl);
    pos = nl + 1;
    return line;
  };
  if (nextLine('header line') !== TLOG_PROOF_HEADER) malformed(`first line must be ${TLOG_PROOF_HEADER}`);

  let line = nextLine('index line');
  let extraData: Uint8Array | undefined;
  if (line.startsWith('extra ')) {
    try {
      extraData = base64Decode(line.slice('extra '.length));
    } catch (cause) {
      malformed('extra data is not valid base64', cause);
    }
    line = nextLine('index line');
  }
  if (!line.startsWith('index ')) malformed('expected the index line');
  const index = parseCanonicalDecimal(line.slice('index '.length));
  if (index === undefined) malformed('index is not a canonical decimal');

  const proof: Uint8Array[] = [];
  for (;;) {
    line = nextLine('empty line before the checkpoint');
    if (line === '') break;
    if (proof.length >= MAX_TLOG_PROOF_HASHES) malformed(`more than ${MAX_TLOG_PROOF_HASHES} proof hashes`);
    let h: Uint8Array;
    try {
      h = base64Decode(line);
    } catch (cause) {
      malformed(`proof hash ${proof.length} is not valid base64`, cause);
    }
    if (h.length !== HASH_SIZE) malformed(`proof hash ${proof.length} is ${h.length} bytes, expected ${HASH_SIZE}`);
    proof.push(h);
  }

  const checkpoint = text.slice(pos);
  const { note, parsedCheckpoint } = parseEmbeddedCheckpoint(
    checkpoint,
    'TLOG_PROOF_MALFORMED',
    'malformed tlog-proof',
  );
  return extraData === undefined
    ? { index, proof, checkpoint, note, parsedCheckpoint }
    : { index, proof, checkpoint, extraData, note, parsedCheckpoint };
}
