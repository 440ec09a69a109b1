import type { ErrorCode } from '../errors.js';
import { utf8Encode } from '../encoding/index.js';
import { canonicalBytes } from '../jcs/index.js';
import { ORIGIN_PATTERN } from '../federation/equivocation-evidence.js';
import { NODE_NAME_PATTERN } from '../federation/registry-set.js';
import { MAX_WITNESS_ALLOWLIST } from '../namespace/namespace-spec.js';
import { arrayOf, child, integerIn, objectWith, refuse, stringMatching } from '../namespace/json-members.js';
import { base64Hash, codePointsAtMost, requireMembers } from './document-members.js';

/*
 * One leaf of an epoch tree: a sealed checkpoint of one log, with the witness policy it was sealed
 * by. Leaves arrive from peers (a leader proposes them, receipts carry them), so parseEpochLeaf
 * treats its input as attacker-controlled; verifyEpochLeaf checks the signatures.
 */

export interface EpochLeaf {
  /** `<node name>/<namespace id>`. */
  origin: string;
  size: number;
  /** Standard base64 of the 32-byte root hash. */
  root: string;
  /** The whole signed note: the log signature and the cosignatures that sealed it. */
  checkpoint: string;
  /** The namespace's witness policy the checkpoint met: `min_required` of `allowlist` (peer ids). */
  witness_policy: { min_required: number; allowlist: string[] };
}

const E = 'EPOCH_LEAF_INVALID' as const;
const LEAF_MEMBERS = ['origin', 'size', 'root', 'checkpoint', 'witness_policy'];
const POLICY_MEMBERS = ['min_required', 'allowlist'];

/** In code points; a checkpoint note with 100 signature lines (the note parser's bound) fits easily. */
export const MAX_EPOCH_LEAF_NOTE_LENGTH = 65_536;

/**
 * Checks an epoch leaf (attacker-controlled) and returns a copy holding exactly its members.
 * Throws EPOCH_LEAF_INVALID with the offending member's JSON pointer. Only the form is checked;
 * see verifyEpochLeaf.
 */
export function parseEpochLeaf(value: unknown): EpochLeaf {
  return epochLeafMembers(E, value, '');
}

/** parseEpochLeaf for a leaf at `pointer` inside an enclosing document, failing with that document's `code`. */
export function epochLeafMembers(code: ErrorCode, value: unknown, pointer: string): EpochLeaf {
  const o = requireMembers(code, objectWith(code, value, pointer, LEAF_MEMBERS), pointer, LEAF_MEMBERS);
  const origin = stringMatching(
    code,
    o['origin'],
    child(pointer, 'origin'),
    ORIGIN_PATTERN,
    '"<node name>/<namespace id>"',
  );
  const size = integerIn(code, o['size'], child(pointer, 'size'), 1, Number.MAX_SAFE_INTEGER);
  const root = base64Hash(code, o['root'], child(pointer, 'root'));
  const checkpoint = o['checkpoint'];
  if (
    typeof checkpoint !== 'string' ||
    checkpoint === '' ||
    !codePointsAtMost(checkpoint, MAX_EPOCH_LEAF_NOTE_LENGTH)
  ) {
    refuse(
      code,
      child(pointer, 'checkpoint'),
      `must be a signed note of 1 to ${MAX_EPOCH_LEAF_NOTE_LENGTH} characters`,
    );
  }
  const wp = child(pointer, 'witness_policy');
  const p = requireMembers(code, objectWith(code, o['witness_policy'], wp, POLICY_MEMBERS), wp, POLICY_MEMBERS);
  const min_required = integerIn(code, p['min_required'], child(wp, 'min_required'), 0, MAX_WITNESS_ALLOWLIST);
  const allowlist = arrayOf(code, p['allowlist'], child(wp, 'allowlist'), MAX_WITNESS_ALLOWLIST, (v, at) =>
    stringMatching(code, v, at, NODE_NAME_PATTERN, 'a peer id (a node name)'),
  );
  allowlist.forEach((id, i) => {
    if (allowlist.indexOf(id) !== i) refuse(code, child(child(wp, 'allowlist'), i), `peer ${id} is listed twice`);
  });
  return { origin, size, root, checkpoint, witness_policy: { min_required, allowlist } };
}

/** The leaf's data in the epoch tree: UTF-8 of the RFC 8785 canonical JSON of exactly its members. */
export function epochLeafData(leaf: EpochLeaf): Uint8Array {
  return canonicalBytes(parseEpochLeaf(leaf));
}

function compareUtf8(a: string, b: string): number {
  const x = utf8Encode(a);
  const y = utf8Encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** The order of leaves in an epoch tree: by origin (UTF-8 bytes), then by size. */
export function compareEpochLeaves(a: EpochLeaf, b: EpochLeaf): number {
  return compareUtf8(a.origin, b.origin) || a.size - b.size;
}
