import { RemembrancerError } from '../errors.js';
import { concatBytes } from '../encoding/index.js';
import { doubleSha256 } from './bitcoin-hash.js';
import { ByteReader } from './byte-reader.js';

export interface BitcoinTxInput {
  /** The txid of the transaction whose output this spends, internal order. */
  readonly prevTxid: Uint8Array;
  readonly prevIndex: number;
  /** scriptSig. */
  readonly script: Uint8Array;
  readonly sequence: number;
  /** The BIP 141 witness stack; empty for a legacy transaction. */
  readonly witness: readonly Uint8Array[];
}

export interface BitcoinTxOutput {
  /** Satoshis, as the signed 64-bit amount the format carries. */
  readonly value: bigint;
  /** scriptPubKey. */
  readonly script: Uint8Array;
}

export interface BitcoinTransaction {
  /** Unsigned 32-bit, as Bitcoin Core reads it since v28. */
  readonly version: number;
  readonly inputs: readonly BitcoinTxInput[];
  readonly outputs: readonly BitcoinTxOutput[];
  readonly locktime: number;
  /** True for the BIP 144 serialization (marker 0x00, flag 0x01, witness stacks). */
  readonly hasWitness: boolean;
  /** The serialization without marker, flag and witnesses: what the txid is the hash of. */
  readonly stripped: Uint8Array;
}

// The smallest serialized input (outpoint 36, empty script's length 1, sequence 4) and output
// (value 8, empty script's length 1), and a witness item (its length): the floors that bound
// counts before anything is allocated for them.
const MIN_INPUT_BYTES = 41;
const MIN_OUTPUT_BYTES = 9;
const MIN_ITEM_BYTES = 1;

function malformed(message: string): RemembrancerError {
  return new RemembrancerError('BITCOIN_MALFORMED', message);
}

/**
 * Parses a transaction in either serialization, as Bitcoin Core deserializes it: legacy
 * (version, inputs, outputs, locktime) or BIP 144 (version, marker 0x00, flag 0x01, inputs,
 * outputs, one witness stack per input, locktime). The whole input must be one transaction.
 * Refused (BITCOIN_MALFORMED): truncation, trailing bytes, non-canonical CompactSizes, counts that
 * cannot fit in what remains, a zero input count not followed by flag 0x01 (in legacy form it
 * would be read as the segwit marker), no inputs, and a witness serialization whose witnesses are
 * all empty (BIP 144 requires the legacy form then; Core refuses it as superfluous), so that each
 * transaction has one serialization. Consensus rules (amount ranges, at least one output, scripts)
 * are not checked: this reads the format, and the anchor verifier needs no more.
 */
export function parseTransaction(bytes: Uint8Array): BitcoinTransaction {
  if (!(bytes instanceof Uint8Array)) throw malformed('a transaction must be bytes');
  const r = new ByteReader(bytes);
  const version = r.u32('version');
  let hasWitness = false;
  let inputCount = r.compactSize('input count', MIN_INPUT_BYTES);
  // Where the inputs start in the stripped serialization's source: after marker and flag if any.
  let strippedBodyStart = 4;
  if (inputCount === 0) {
    const flag = r.u8('segwit flag');
    if (flag !== 0x01) {
      throw malformed(`no inputs, or a segwit marker with flag 0x${flag.toString(16).padStart(2, '0')} (only 0x01)`);
    }
    hasWitness = true;
    strippedBodyStart = r.offset;
    inputCount = r.compactSize('input count', MIN_INPUT_BYTES);
    if (inputCount === 0) throw malformed('a transaction has at least one input');
  }

  const ins: Array<Omit<BitcoinTxInput, 'witness'>> = [];
  for (let i = 0; i < inputCount; i++) {
    const prevTxid = r.bytes(32, `input ${i} previous txid`);
    const prevIndex = r.u32(`input ${i} previous index`);
    const script = r.bytes(r.compactSize(`input ${i} script length`, 1), `input ${i} script`);
    const sequence = r.u32(`input ${i} sequence`);
    ins.push({ prevTxid, prevIndex, script, sequence });
  }
  const outputCount = r.compactSize('output count', MIN_OUTPUT_BYTES);
  const outputs: BitcoinTxOutput[] = [];
  for (let i = 0; i < outputCount; i++) {
    const value = r.i64(`output ${i} value`);
    const script = r.bytes(r.compactSize(`output ${i} script length`, 1), `output ${i} script`);
    outputs.push({ value, script });
  }
  const bodyEnd = r.offset;

  const witnesses: Uint8Array[][] = [];
  if (hasWitness) {
    let anyItem = false;
    for (let i = 0; i < inputCount; i++) {
      const items = r.compactSize(`input ${i} witness item count`, MIN_ITEM_BYTES);
      const stack: Uint8Array[] = [];
      for (let j = 0; j < items; j++) {
        stack.push(r.bytes(r.compactSize(`input ${i} witness item ${j} length`, 1), `input ${i} witness item ${j}`));
      }
      if (items > 0) anyItem = true;
      witnesses.push(stack);
    }
    if (!anyItem) throw malformed('witness serialization with every witness empty (superfluous witness record)');
  }
  const locktime = r.u32('locktime');
  r.end('transaction');

  const inputs = ins.map((input, i) => ({ ...input, witness: witnesses[i] ?? [] }));
  const stripped = hasWitness
    ? concatBytes(bytes.subarray(0, 4), bytes.subarray(strippedBodyStart, bodyEnd), bytes.subarray(bytes.length - 4))
    : bytes.slice();
  return { version, inputs, outputs, locktime, hasWitness, stripped };
}

/**
 * The txid in internal order: the double SHA-256 of the stripped serialization, so witness data
 * (signatures) never changes it (BIP 141). Bytes are parsed first; a parsed transaction is hashed.
 */
export function bitcoinTxid(tx: BitcoinTransaction | Uint8Array): Uint8Array {
  const parsed = tx instanceof Uint8Array ? parseTransaction(tx) : tx;
  return doubleSha256(parsed.stripped);
}
