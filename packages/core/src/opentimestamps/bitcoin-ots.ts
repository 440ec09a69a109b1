import { crypto } from '../crypto/index.js';
import { concatBytes } from '../encoding/index.js';
import { RemembrancerError } from '../errors.js';
import {
  OTS_ATTESTATION,
  OTS_BITCOIN_ATTESTATION_TAG,
  OTS_HEADER_MAGIC,
  OTS_MAJOR_VERSION,
  OTS_MAX_MSG_LENGTH,
  OTS_OP_APPEND,
  OTS_OP_PREPEND,
  OTS_OP_SHA256,
  otsVarbytes,
  otsVaruint,
} from './ots-serialize.js';

export interface BitcoinOtsInput {
  /** The epoch root: the proof's file digest (SHA-256 length). */
  root: Uint8Array;
  /** The anchoring transaction as its txid hashes it (no witness data); it carries `root`. */
  txStripped: Uint8Array;
  /** The transaction's position in its block. */
  index: number;
  /** Sibling hashes from the transaction up to the merkle root, internal byte order. */
  branch: readonly Uint8Array[];
  /** The block's height: the attestation's payload. */
  height: number;
}

export interface BitcoinOtsProof {
  /** The detached `.ots` file. */
  ots: Uint8Array;
  /** What the operations make of the root: the block header's merkle root when the input is right. */
  commitment: Uint8Array;
}

type OtsOp = { tag: typeof OTS_OP_SHA256 } | { tag: typeof OTS_OP_APPEND | typeof OTS_OP_PREPEND; arg: Uint8Array };

function invalid(message: string): never {
  throw new RemembrancerError('INVALID_ARGUMENT', `OpenTimestamps proof: ${message}`);
}

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function apply(op: OtsOp, msg: Uint8Array): Uint8Array {
  if (op.tag === OTS_OP_SHA256) return crypto.sha256(msg);
  return op.tag === OTS_OP_APPEND ? concatBytes(msg, op.arg) : concatBytes(op.arg, msg);
}

/** Bitcoin's double SHA-256 of `x`, as two OpenTimestamps sha256 operations. */
const SHA256D: OtsOp[] = [{ tag: OTS_OP_SHA256 }, { tag: OTS_OP_SHA256 }];

/**
 * The operations from the root to the merkle root: the bytes of the transaction before and after
 * the root (prepend, append), double SHA-256 to its txid, then per level the sibling on its side
 * (bit i of `index` set: the sibling is on the left) and double SHA-256 again.
 */
function opsFor(input: BitcoinOtsInput): OtsOp[] {
  const at = indexOfBytes(input.txStripped, input.root);
  if (at < 0) invalid('the transaction does not carry the root');
  const ops: OtsOp[] = [];
  // The reference refuses empty operation arguments: an empty side is no operation at all.
  if (at > 0) ops.push({ tag: OTS_OP_PREPEND, arg: input.txStripped.subarray(0, at) });
  const after = input.txStripped.subarray(at + input.root.length);
  if (after.length > 0) ops.push({ tag: OTS_OP_APPEND, arg: after });
  ops.push(...SHA256D);
  input.branch.forEach((sibling, level) => {
    if (sibling.length !== 32) invalid(`branch hash ${level} is not 32 bytes`);
    const left = Math.floor(input.index / 2 ** level) % 2 === 1;
    ops.push({ tag: left ? OTS_OP_PREPEND : OTS_OP_APPEND, arg: sibling }, ...SHA256D);
  });
  return ops;
}

/**
 * A Bitcoin anchor as a standard OpenTimestamps detached proof (issue 11, item 4), in the binary
 * format python-opentimestamps reads: header magic, major version 1, the file hash operation
 * (sha256) and digest (the epoch root), then one linear timestamp — each operation's tag and
 * argument followed by the rest — ending in a Bitcoin block-header attestation at `height`. A
 * verifier runs the operations on the root and compares the result with the merkle root of the
 * block header it trusts at that height.
 */
export function bitcoinOtsProof(input: BitcoinOtsInput): BitcoinOtsProof {
  if (input.root.length !== 32) invalid('the root must be 32 bytes');
  if (input.txStripped.length > OTS_MAX_MSG_LENGTH)
    invalid(`the transaction is longer than ${OTS_MAX_MSG_LENGTH} bytes`);
  if (!Number.isSafeInteger(input.index) || input.index < 0 || input.index >= 2 ** input.branch.length)
    invalid('the index does not fit the branch');
  if (!Number.isSafeInteger(input.height) || input.height < 0) invalid('the height must be a non-negative integer');
  const ops = opsFor(input);
  const parts: Uint8Array[] = [OTS_HEADER_MAGIC, Uint8Array.of(OTS_MAJOR_VERSION, OTS_OP_SHA256), input.root];
  let msg = input.root;
  for (const op of ops) {
    parts.push(Uint8Array.of(op.tag));
    if (op.tag !== OTS_OP_SHA256) parts.push(otsVarbytes(op.arg));
    msg = apply(op, msg);
    if (msg.length > OTS_MAX_MSG_LENGTH) invalid('an intermediate message is too long for OpenTimestamps');
  }
  parts.push(Uint8Array.of(OTS_ATTESTATION), OTS_BITCOIN_ATTESTATION_TAG, otsVarbytes(otsVaruint(input.height)));
  return { ots: concatBytes(...parts), commitment: msg };
}
