import { RemembrancerError } from '../errors.js';
import { base64Decode, base64Encode } from '../encoding/index.js';
import { hasForbiddenLineCharacter } from '../note/note-text.js';
import { isCanonicalUint, parseCanonicalDecimal } from './decimal.js';

/** A log's signed tree head, https://c2sp.org/tlog-checkpoint. */
export interface Checkpoint {
  /** The log identity; here `<node name>/<namespace>`. */
  readonly origin: string;
  /** Number of leaves. */
  readonly size: number;
  /** RFC 6962 Merkle tree hash at `size` (32 bytes). */
  readonly root: Uint8Array;
}

export interface ParsedCheckpoint extends Checkpoint {
  /** Opaque extension lines after the root (without newlines); we never write any. */
  readonly extensions: readonly string[];
}

const HASH_SIZE = 32;

function malformed(why: string, cause?: unknown): never {
  throw new RemembrancerError(
    'CHECKPOINT_MALFORMED',
    `malformed checkpoint: ${why}`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * The note text of a checkpoint: origin, decimal size and base64 root, each newline-terminated.
 * Extension lines are never written: the spec does not recommend them (they are not auditable)
 * and the design fixes checkpoints to exactly three lines.
 */
export function formatCheckpoint(c: Checkpoint): string {
  if (typeof c.origin !== 'string' || c.origin === '' || hasForbiddenLineCharacter(c.origin)) {
    malformed('origin must be a non-empty line without control characters');
  }
  if (!isCanonicalUint(c.size)) malformed('size must be a non-negative safe integer');
  if (!(c.root instanceof Uint8Array) || c.root.length !== HASH_SIZE) malformed('root must be 32 bytes');
  return `${c.origin}\n${c.size}\n${base64Encode(c.root)}\n`;
}

/**
 * Parses a checkpoint note text, https://c2sp.org/tlog-checkpoint#note-text: at least three
 * non-empty newline-terminated lines; strict decimal size; 32-byte base64 root; any further lines
 * are non-empty extension lines. `body` is attacker-controlled, and must not be trusted before
 * the note signature was verified.
 */
export function parseCheckpoint(body: string): ParsedCheckpoint {
  if (typeof body !== 'string') malformed('not a string');
  if (!body.endsWith('\n')) malformed('text must end with a newline');
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) malformed('expected origin, size and root lines');
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin === '') malformed('empty origin line');
  if (hasForbiddenLineCharacter(origin)) malformed('origin contains a control character or invalid UTF-16');
  const size = parseCanonicalDecimal(sizeLine);
  if (size === undefined) malformed(`tree size ${JSON.stringify(sizeLine.slice(0, 40))} is not a canonical decimal`);
  let root: Uint8Array;
  try {
    root = base64Decode(rootLine);
  } catch (cause) {
    malformed('root hash is not valid base64', cause);
  }
  if (root.length !== HASH_SIZE) malformed(`root hash is ${root.length} bytes, expected ${HASH_SIZE}`);
  for (const e of extensions) {
    if (e === '') malformed('empty extension line');
    if (hasForbiddenLineCharacter(e)) malformed('extension line contains a control character or invalid UTF-16');
  }
  return { origin, size, root, extensions };
}
