import { RemembrancerError } from '../errors.js';
import { decodeRlp, rlpBytes, rlpList, rlpUint, type RlpItem } from './evm-rlp.js';

/**
 * An upper bound on a raw transaction: geth's transaction pool refuses anything larger (128 KiB),
 * and an anchor transaction is under 300 bytes. It bounds the work hostile input costs.
 */
export const MAX_EVM_TX_BYTES = 128 * 1024;

/** What an anchor verifier needs of a transaction. */
export interface EvmTransaction {
  /** 0 for a legacy transaction, else its EIP-2718 type: 1 (EIP-2930), 2 (EIP-1559), 3 (EIP-4844), 4 (EIP-7702). */
  readonly type: number;
  /** The 20-byte recipient; undefined for a contract creation. */
  readonly to: Uint8Array | undefined;
  /** The calldata. */
  readonly data: Uint8Array;
  /** The chain id it is signed for; undefined for a legacy transaction without EIP-155 replay protection. */
  readonly chainId?: bigint;
}

/**
 * The fields of each form, by position, as the EIPs define their payloads: how many, where the
 * recipient and the data are, and which fields are lists (access lists, blob hashes,
 * authorizations); every other field is a byte string.
 */
interface TxForm {
  readonly fields: number;
  readonly to: number;
  readonly data: number;
  readonly lists: readonly number[];
  /** Blob and set-code transactions cannot create a contract: their recipient is required. */
  readonly toRequired: boolean;
}

const LEGACY: TxForm = { fields: 9, to: 3, data: 5, lists: [], toRequired: false };
const TYPED: ReadonlyMap<number, TxForm> = new Map([
  // [chainId, nonce, gasPrice, gasLimit, to, value, data, accessList, yParity, r, s]
  [1, { fields: 11, to: 4, data: 6, lists: [7], toRequired: false }],
  // [chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gasLimit, to, value, data, accessList, yParity, r, s]
  [2, { fields: 12, to: 5, data: 7, lists: [8], toRequired: false }],
  // [... as type 2 ..., accessList, maxFeePerBlobGas, blobVersionedHashes, yParity, r, s] (the block form, no blobs)
  [3, { fields: 14, to: 5, data: 7, lists: [8, 10], toRequired: true }],
  // [... as type 2 ..., accessList, authorizationList, yParity, r, s]
  [4, { fields: 13, to: 5, data: 7, lists: [8, 9], toRequired: true }],
]);

const malformed = (message: string) => new RemembrancerError('EVM_MALFORMED', message);

function fieldsOf(item: RlpItem, form: TxForm, what: string): RlpItem[] {
  const fields = rlpList(item, what);
  if (fields.length !== form.fields) throw malformed(`${what} has ${form.fields} fields, got ${fields.length}`);
  fields.forEach((f, i) => {
    if (form.lists.includes(i)) rlpList(f, `${what} field ${i}`);
    else rlpBytes(f, `${what} field ${i}`);
  });
  return fields;
}

function recipient(item: RlpItem | undefined, form: TxForm): Uint8Array | undefined {
  const to = rlpBytes(item, 'to');
  if (to.length === 0 && !form.toRequired) return undefined;
  if (to.length !== 20) throw malformed(`to is 20 bytes, got ${to.length}`);
  return to;
}

/**
 * Decodes a raw transaction as a block carries it: legacy (an RLP list of 9 fields) or typed
 * (EIP-2718: a type byte then the RLP list of that type's payload; types 1, 2, 3, 4). Strict about
 * shape: field counts, which fields are lists, a 20-byte or empty recipient, canonical chain id and
 * legacy v. Signatures are not checked: an anchor is vouched for by the block that includes it,
 * not by who sent it. Throws EVM_MALFORMED.
 */
export function decodeEvmTransaction(raw: Uint8Array): EvmTransaction {
  if (!(raw instanceof Uint8Array) || raw.length === 0) throw malformed('a transaction must be non-empty bytes');
  if (raw.length > MAX_EVM_TX_BYTES)
    throw malformed(`a transaction is at most ${MAX_EVM_TX_BYTES} bytes, got ${raw.length}`);
  const first = raw[0]!;
  // EIP-2718: a legacy transaction is an RLP list (0xc0 and up); 0x00–0x7f is a type byte.
  if (first >= 0xc0) {
    const fields = fieldsOf(decodeRlp(raw, 'the transaction'), LEGACY, 'the legacy transaction');
    const v = rlpUint(fields[6], 'v');
    let chainId: bigint | undefined;
    // v is 27 or 28 before EIP-155, else chainId * 2 + 35 or + 36.
    if (v >= 35n) chainId = (v - 35n) / 2n;
    else if (v !== 27n && v !== 28n) throw malformed(`legacy v ${v} is neither 27, 28 nor EIP-155`);
    const tx = { type: 0, to: recipient(fields[LEGACY.to], LEGACY), data: rlpBytes(fields[LEGACY.data], 'data') };
    return chainId === undefined ? tx : { ...tx, chainId };
  }
  const byte = `0x${first.toString(16).padStart(2, '0')}`;
  if (first > 0x7f) throw malformed(`a transaction starts with a type byte or an RLP list, not ${byte}`);
  const form = TYPED.get(first);
  if (form === undefined) throw malformed(`transaction type ${byte} is not known`);
  const what = `the type-${first} transaction`;
  const fields = fieldsOf(decodeRlp(raw.subarray(1), what), form, what);
  return {
    type: first,
    to: recipient(fields[form.to], form),
    data: rlpBytes(fields[form.data], 'data'),
    chainId: rlpUint(fields[0], 'chainId'),
  };
}
