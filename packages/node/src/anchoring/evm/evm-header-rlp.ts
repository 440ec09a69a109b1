import { RemembrancerError, evmBlockHash, toHex } from '@vaultmesh/core';
import { hexToBytes, toRlp, type Hex } from 'viem';
import { rpcData, rpcHash, rpcObject, rpcQuantity } from './evm-rpc-answer.js';
import type { EvmRpcCaller } from './evm-rpc.js';

/*
 * A block header's RLP, which the anchor evidence carries and whose Keccak-256 is the block hash.
 * Geth and its relatives serve it as debug_getRawHeader; nodes without the debug namespace (anvil,
 * most hosted endpoints) serve only the header's fields as JSON, from which it is rebuilt: the
 * fields in the order the header lists them, as RLP byte strings. Either way the bytes are used
 * only once they hash to the block hash, so a node cannot slip in a header of another block.
 */

type FieldKind = 'quantity' | 'hash' | 'address' | 'bloom' | 'nonce' | 'data';

/**
 * The header's fields in RLP order with their JSON names: the Yellow Paper's fifteen (section 4.3,
 * https://ethereum.github.io/yellowpaper/paper.pdf), then each fork's appended ones: London's
 * baseFeePerGas (EIP-1559), Shanghai's withdrawalsRoot (EIP-4895), Cancun's blobGasUsed and
 * excessBlobGas (EIP-4844) and parentBeaconBlockRoot (EIP-4788), Prague's requestsHash (EIP-7685).
 */
const HEADER_FIELDS: ReadonlyArray<readonly [string, FieldKind]> = [
  ['parentHash', 'hash'],
  ['sha3Uncles', 'hash'],
  ['miner', 'address'],
  ['stateRoot', 'hash'],
  ['transactionsRoot', 'hash'],
  ['receiptsRoot', 'hash'],
  ['logsBloom', 'bloom'],
  ['difficulty', 'quantity'],
  ['number', 'quantity'],
  ['gasLimit', 'quantity'],
  ['gasUsed', 'quantity'],
  ['timestamp', 'quantity'],
  ['extraData', 'data'],
  ['mixHash', 'hash'],
  ['nonce', 'nonce'],
  ['baseFeePerGas', 'quantity'],
  ['withdrawalsRoot', 'hash'],
  ['blobGasUsed', 'quantity'],
  ['excessBlobGas', 'quantity'],
  ['parentBeaconBlockRoot', 'hash'],
  ['requestsHash', 'hash'],
];
/** Fields every header has; those after them appear only from the fork that added them on. */
const PRE_LONDON_FIELDS = 15;
const FIXED_BYTES: Record<Exclude<FieldKind, 'quantity' | 'data'>, number> = {
  hash: 32,
  address: 20,
  bloom: 256,
  nonce: 8,
};
/** extraData is at most 32 bytes on mainnet; chains that keep validator lists in it go beyond. */
const MAX_EXTRA_DATA_BYTES = 8 * 1024;

/** How the header was obtained, for diagnostics. */
export type EvmHeaderSource = 'debug_getRawHeader' | 'block-json';

export interface EvmHeaderRlp {
  readonly rlp: Uint8Array;
  readonly source: EvmHeaderSource;
}

/** An integer as RLP carries it: big-endian bytes without leading zeros, zero as no bytes. */
function quantityBytes(value: bigint): Hex {
  if (value === 0n) return '0x';
  const digits = value.toString(16);
  return `0x${digits.length % 2 === 1 ? '0' : ''}${digits}`;
}

function fieldBytes(method: string, name: string, kind: FieldKind, value: unknown): Hex {
  if (kind === 'quantity') return quantityBytes(rpcQuantity(method, value, name));
  const max = kind === 'data' ? MAX_EXTRA_DATA_BYTES : FIXED_BYTES[kind];
  const bytes = rpcData(method, value, name, max);
  if (kind !== 'data' && bytes.length !== max) {
    throw new RemembrancerError('CHAIN_RPC_ERROR', `${method} answered a ${name} of ${bytes.length} bytes, not ${max}`);
  }
  return `0x${toHex(bytes)}`;
}

/**
 * The header RLP rebuilt from a block's JSON (eth_getBlockByHash or eth_getBlockByNumber): the
 * fields of later forks are taken while present and stop at the first absent one, as forks only
 * append. Throws CHAIN_RPC_ERROR for a field of the wrong form or a header without the fifteen
 * original fields. Whether the result is the block's header is for the caller to check against
 * the block hash (a fork this list does not know yet adds a field, and the hash then differs).
 */
export function evmHeaderRlpFromJson(block: Record<string, unknown>, method = 'eth_getBlockByHash'): Uint8Array {
  const fields: Hex[] = [];
  for (const [name, kind] of HEADER_FIELDS) {
    const value = block[name];
    if (value === undefined || value === null) break;
    fields.push(fieldBytes(method, name, kind, value));
  }
  if (fields.length < PRE_LONDON_FIELDS) {
    throw new RemembrancerError(
      'CHAIN_RPC_ERROR',
      `${method} answered a block without ${HEADER_FIELDS[fields.length]![0]}, one of the header's first ${PRE_LONDON_FIELDS} fields`,
    );
  }
  return hexToBytes(toRlp(fields));
}

function checkHash(rlp: Uint8Array, blockHash: string, how: string): Uint8Array {
  let hash: string;
  try {
    hash = `0x${toHex(evmBlockHash(rlp))}`;
  } catch (cause) {
    throw new RemembrancerError('EVM_PROOF_INVALID', `the header ${how} is not a block header`, { cause });
  }
  if (hash !== blockHash) {
    throw new RemembrancerError(
      'EVM_PROOF_INVALID',
      `the header ${how} hashes to ${hash}, not to block ${blockHash} (a header field this node adds that we do not know?)`,
    );
  }
  return rlp;
}

/**
 * The RLP of the header of block `blockHash` from an EVM node: debug_getRawHeader when the node
 * serves it, else rebuilt from the block's JSON (`block`, if the caller has already fetched it by
 * this hash, or eth_getBlockByHash). Throws EVM_PROOF_INVALID when what the node gives does not
 * hash to `blockHash`, NOT_FOUND when the node does not know the block, INVALID_ARGUMENT for a
 * hash that is not 32 bytes of hex, CHAIN_RPC_ERROR for a malformed answer, CHAIN_RPC_UNREACHABLE.
 */
export async function evmHeaderRlp(
  rpc: EvmRpcCaller,
  blockHash: string,
  block?: Record<string, unknown>,
): Promise<EvmHeaderRlp> {
  if (typeof blockHash !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(blockHash)) {
    throw new RemembrancerError('INVALID_ARGUMENT', 'a block hash is 0x and 64 hex digits');
  }
  const hash = blockHash.toLowerCase();

  let raw: unknown;
  try {
    raw = await rpc.call('debug_getRawHeader', [hash]);
  } catch (e) {
    // A node without the debug namespace (or that refuses it) still has the JSON; one that cannot
    // be reached has neither.
    if (!(e instanceof RemembrancerError) || e.code !== 'CHAIN_RPC_ERROR') throw e;
    raw = undefined;
  }
  if (raw !== undefined && raw !== null) {
    const bytes = rpcData('debug_getRawHeader', raw, 'a header', MAX_EXTRA_DATA_BYTES + 1024);
    return { rlp: checkHash(bytes, hash, 'from debug_getRawHeader'), source: 'debug_getRawHeader' };
  }

  const json = block ?? (await rpc.call('eth_getBlockByHash', [hash, false]));
  if (json === null) throw new RemembrancerError('NOT_FOUND', `the node does not know block ${hash}`);
  const fields = rpcObject('eth_getBlockByHash', json, 'a block');
  if (rpcHash('eth_getBlockByHash', fields.hash, 'a block hash') !== hash) {
    throw new RemembrancerError('CHAIN_RPC_ERROR', `eth_getBlockByHash answered another block than ${hash}`);
  }
  return { rlp: checkHash(evmHeaderRlpFromJson(fields), hash, 'rebuilt from the JSON fields'), source: 'block-json' };
}
