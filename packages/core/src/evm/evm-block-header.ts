import { RemembrancerError } from '../errors.js';
import { decodeRlp, keccak256, rlpBytes, rlpFixed, rlpList, rlpSafeInteger, rlpUint } from './evm-rlp.js';

/**
 * An upper bound on a header's RLP. Mainnet headers are about 600 bytes; chains that put validator
 * data in extraData make theirs longer, never near this. It bounds the work hostile input costs.
 */
export const MAX_EVM_HEADER_BYTES = 16 * 1024;

/**
 * The fields every fork's header has at the same positions (the Yellow Paper's H_p, H_r, H_t, H_e,
 * H_i, H_s); forks only ever append fields: 15 before London, then baseFeePerGas (16), Shanghai's
 * withdrawalsRoot (17), Cancun's blobGasUsed, excessBlobGas, parentBeaconBlockRoot (20), Prague's
 * requestsHash (21).
 */
export interface EvmBlockHeader {
  readonly parentHash: Uint8Array;
  readonly stateRoot: Uint8Array;
  /** The root of the block's transaction trie: what a transaction inclusion proof leads to. */
  readonly transactionsRoot: Uint8Array;
  readonly receiptsRoot: Uint8Array;
  readonly number: number;
  /** Seconds since the Unix epoch, as the block's producer set it. */
  readonly timestamp: number;
  /** How many fields the header has, which tells its fork. */
  readonly fieldCount: number;
}

const PRE_LONDON_FIELDS = 15;
const malformed = (message: string) => new RemembrancerError('EVM_MALFORMED', message);

/**
 * Decodes a block header's RLP: a list of at least 15 byte strings (fields after the 15th are not
 * interpreted, so a fork that appends one still decodes), the hashes 32 bytes, the beneficiary 20,
 * the bloom 256, the nonce 8, integers canonical, number and timestamp safe integers. Throws
 * EVM_MALFORMED. Any such bytes decode: whether they are a real block of some chain is for the
 * caller to establish, by comparing the block hash with one it trusts.
 */
export function decodeEvmBlockHeader(headerRlp: Uint8Array): EvmBlockHeader {
  if (headerRlp instanceof Uint8Array && headerRlp.length > MAX_EVM_HEADER_BYTES) {
    throw malformed(`a block header is at most ${MAX_EVM_HEADER_BYTES} bytes, got ${headerRlp.length}`);
  }
  const fields = rlpList(decodeRlp(headerRlp, 'the block header'), 'the block header');
  if (fields.length < PRE_LONDON_FIELDS) {
    throw malformed(`a block header has at least ${PRE_LONDON_FIELDS} fields, got ${fields.length}`);
  }
  fields.forEach((f, i) => rlpBytes(f, `header field ${i}`));
  rlpFixed(fields[1], 32, 'ommersHash');
  rlpFixed(fields[2], 20, 'beneficiary');
  rlpFixed(fields[6], 256, 'logsBloom');
  rlpUint(fields[7], 'difficulty');
  rlpUint(fields[9], 'gasLimit');
  rlpUint(fields[10], 'gasUsed');
  rlpFixed(fields[13], 32, 'mixHash');
  rlpFixed(fields[14], 8, 'nonce');
  return {
    parentHash: rlpFixed(fields[0], 32, 'parentHash'),
    stateRoot: rlpFixed(fields[3], 32, 'stateRoot'),
    transactionsRoot: rlpFixed(fields[4], 32, 'transactionsRoot'),
    receiptsRoot: rlpFixed(fields[5], 32, 'receiptsRoot'),
    number: rlpSafeInteger(fields[8], 'number'),
    timestamp: rlpSafeInteger(fields[11], 'timestamp'),
    fieldCount: fields.length,
  };
}

/**
 * The block hash: Keccak-256 of the header's RLP exactly as given. The bytes must decode as a
 * header (decodeEvmBlockHeader; EVM_MALFORMED otherwise), so a hash is never taken of something
 * that could not be one.
 */
export function evmBlockHash(headerRlp: Uint8Array): Uint8Array {
  decodeEvmBlockHeader(headerRlp);
  return keccak256(headerRlp);
}
