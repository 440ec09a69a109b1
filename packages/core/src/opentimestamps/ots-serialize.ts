import { concatBytes } from '../encoding/index.js';

/**
 * The OpenTimestamps proof format's building blocks, as python-opentimestamps (the reference)
 * reads them: unsigned LEB128 integers (`varuint`), length-prefixed bytes (`varbytes`), the
 * operation tags and the Bitcoin block-header attestation tag.
 */

/** `\x00OpenTimestamps\x00\x00Proof\x00` and 8 magic bytes: the start of every detached `.ots` file. */
export const OTS_HEADER_MAGIC = Uint8Array.from([
  0x00, 0x4f, 0x70, 0x65, 0x6e, 0x54, 0x69, 0x6d, 0x65, 0x73, 0x74, 0x61, 0x6d, 0x70, 0x73, 0x00, 0x00, 0x50, 0x72,
  0x6f, 0x6f, 0x66, 0x00, 0xbf, 0x89, 0xe2, 0xe8, 0x84, 0xe8, 0x92, 0x94,
]);
export const OTS_MAJOR_VERSION = 1;

export const OTS_OP_SHA256 = 0x08;
export const OTS_OP_APPEND = 0xf0;
export const OTS_OP_PREPEND = 0xf1;
/** Before an attestation, in place of an operation tag. */
export const OTS_ATTESTATION = 0x00;
/** A Bitcoin block-header attestation: the message is that block's merkle root; payload = height. */
export const OTS_BITCOIN_ATTESTATION_TAG = Uint8Array.from([0x05, 0x88, 0x96, 0x0d, 0x73, 0xd7, 0x19, 0x01]);

/** The reference refuses operation arguments and messages longer than this. */
export const OTS_MAX_MSG_LENGTH = 4096;

/** Unsigned LEB128 (seven bits a byte, least significant first). */
export function otsVaruint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError('varuint must be a non-negative safe integer');
  const out: number[] = [];
  let v = value;
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) b |= 0x80;
    out.push(b);
  } while (v > 0);
  return Uint8Array.from(out);
}

export function otsVarbytes(bytes: Uint8Array): Uint8Array {
  return concatBytes(otsVaruint(bytes.length), bytes);
}
