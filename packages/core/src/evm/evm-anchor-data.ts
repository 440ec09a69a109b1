import { crypto } from '../crypto/index.js';
import { bytesEqual, utf8Decode, utf8Encode } from '../encoding/index.js';
import { RemembrancerError } from '../errors.js';

/*
 * The data of an EVM anchor transaction: one transaction per anchored epoch root, its calldata
 * exactly these 81 bytes, with no ABI encoding (nothing executes it; it is read back by offset):
 *
 *   offset  length  field
 *        0       8  tag: ASCII "VMANCHOR" (56 4d 41 4e 43 48 4f 52)
 *        8       1  version: 0x01
 *        9      32  SHA-256 of the UTF-8 bytes of the federation id
 *       41       8  epoch number, unsigned 64-bit big-endian
 *       49      32  the epoch root
 *
 * The tag and version let anyone scanning a chain tell an anchor from other calldata and let a
 * later layout coexist; the federation id hash and the epoch say which root of which federation
 * it is, so the same address can carry the anchors of several federations without ambiguity.
 */

const TAG = utf8Encode('VMANCHOR');
const VERSION = 0x01;
const ID_HASH_AT = TAG.length + 1;
const EPOCH_AT = ID_HASH_AT + 32;
const ROOT_AT = EPOCH_AT + 8;

/** The length of the data of an EVM anchor transaction (layout version 1). */
export const EVM_ANCHOR_DATA_BYTES = ROOT_AT + 32;

/** What the data of an anchor transaction says, as decodeEvmAnchorData reads it. */
export interface EvmAnchorData {
  readonly version: number;
  /** SHA-256 of the UTF-8 federation id: compare with evmFederationIdHash(id). */
  readonly federationIdHash: Uint8Array;
  readonly epoch: number;
  readonly root: Uint8Array;
}

export interface EvmAnchorDataInput {
  readonly federationId: string;
  readonly epoch: number;
  readonly root: Uint8Array;
}

const invalid = (message: string) => new RemembrancerError('INVALID_ARGUMENT', message);
const malformed = (message: string) => new RemembrancerError('EVM_MALFORMED', message);

/**
 * SHA-256 of the UTF-8 federation id. A string with a lone surrogate is refused: UTF-8 cannot
 * carry it, and the encoder would substitute U+FFFD, giving two ids one hash.
 */
export function evmFederationIdHash(federationId: string): Uint8Array {
  if (typeof federationId !== 'string' || federationId.length === 0) {
    throw invalid('the federation id must be a non-empty string');
  }
  const bytes = utf8Encode(federationId);
  if (utf8Decode(bytes) !== federationId) throw invalid('the federation id is not well-formed Unicode');
  return crypto.sha256(bytes);
}

function checkEpoch(epoch: unknown): number {
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0) {
    throw invalid('the epoch must be a non-negative safe integer');
  }
  return epoch;
}

function checkRoot(root: unknown): Uint8Array {
  if (!(root instanceof Uint8Array) || root.length !== 32) throw invalid('the root must be 32 bytes');
  return root;
}

/** The 81 bytes of anchor data for an epoch root (the layout above). Throws INVALID_ARGUMENT. */
export function encodeEvmAnchorData(input: EvmAnchorDataInput): Uint8Array {
  if (typeof input !== 'object' || input === null) throw invalid('the anchor data input must be an object');
  const idHash = evmFederationIdHash(input.federationId);
  const epoch = checkEpoch(input.epoch);
  const root = checkRoot(input.root);
  const out = new Uint8Array(EVM_ANCHOR_DATA_BYTES);
  out.set(TAG, 0);
  out[TAG.length] = VERSION;
  out.set(idHash, ID_HASH_AT);
  new DataView(out.buffer).setBigUint64(EPOCH_AT, BigInt(epoch), false);
  out.set(root, ROOT_AT);
  return out;
}

/**
 * Reads anchor data, strictly: exactly 81 bytes, the tag, version 1, and an epoch a JavaScript
 * number holds exactly (below 2^53; epochs count periods since 1970, far below that). Anything
 * else throws EVM_MALFORMED: calldata that merely resembles an anchor is not one.
 */
export function decodeEvmAnchorData(bytes: Uint8Array): EvmAnchorData {
  if (!(bytes instanceof Uint8Array)) throw malformed('anchor data must be bytes');
  if (bytes.length !== EVM_ANCHOR_DATA_BYTES) {
    throw malformed(`anchor data is ${EVM_ANCHOR_DATA_BYTES} bytes, got ${bytes.length}`);
  }
  if (!bytesEqual(bytes.subarray(0, TAG.length), TAG)) throw malformed('anchor data does not start with VMANCHOR');
  const version = bytes[TAG.length]!;
  if (version !== VERSION) throw malformed(`anchor data version ${version} is not ${VERSION}`);
  const epoch = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(EPOCH_AT, false);
  if (epoch > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed(`anchor data epoch ${epoch} is beyond 2^53 - 1`);
  return {
    version,
    federationIdHash: bytes.slice(ID_HASH_AT, EPOCH_AT),
    epoch: Number(epoch),
    root: bytes.slice(ROOT_AT, ROOT_AT + 32),
  };
}
