import { RemembrancerError } from '../errors.js';
import { doubleSha256 } from './bitcoin-hash.js';

/** A block header is always exactly this long; its hash is the block hash. */
export const BLOCK_HEADER_BYTES = 80;

/** The six fields of a block header; hashes in internal byte order. */
export interface BlockHeader {
  /** Signed, as Bitcoin Core declares it (BIP 9 version bits keep it positive in practice). */
  readonly version: number;
  readonly prevBlock: Uint8Array;
  readonly merkleRoot: Uint8Array;
  /** Seconds since the Unix epoch, as the miner claimed it. */
  readonly time: number;
  /** The compact encoding of the proof-of-work target. */
  readonly bits: number;
  readonly nonce: number;
}

function checkLength(bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== BLOCK_HEADER_BYTES) {
    const got = bytes instanceof Uint8Array ? `${bytes.length} bytes` : 'not bytes';
    throw new RemembrancerError('BITCOIN_MALFORMED', `a block header is ${BLOCK_HEADER_BYTES} bytes, got ${got}`);
  }
}

/**
 * The fields of an 80-byte header (little-endian integers, hashes copied in internal order). Any
 * 80 bytes parse: whether they are a real block (proof of work, place in the best chain) is for
 * the caller to establish from a header it trusts.
 */
export function parseBlockHeader(bytes: Uint8Array): BlockHeader {
  checkLength(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    version: view.getInt32(0, true),
    prevBlock: bytes.slice(4, 36),
    merkleRoot: bytes.slice(36, 68),
    time: view.getUint32(68, true),
    bits: view.getUint32(72, true),
    nonce: view.getUint32(76, true),
  };
}

/** The block hash in internal order: the double SHA-256 of the 80 header bytes. */
export function bitcoinBlockHash(header80: Uint8Array): Uint8Array {
  checkLength(header80);
  return doubleSha256(header80);
}
