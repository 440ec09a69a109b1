import { bytesEqual, toHex } from '../encoding/index.js';
import { RemembrancerError } from '../errors.js';
import { decodeRlp, keccak256, rlpEncode, type RlpItem } from './evm-rlp.js';
import { MAX_EVM_TX_BYTES } from './evm-transaction.js';

/*
 * A block's transaction trie is a Merkle-Patricia trie (Yellow Paper, appendix D) mapping the key
 * rlp(i) to the i-th transaction exactly as the block carries it (legacy: its RLP list; typed: the
 * type byte then the RLP payload). A node is an RLP list: a branch of 17 items (16 children by
 * nibble, then a value), a leaf [hexPrefix(rest of key, leaf), value] or an extension
 * [hexPrefix(shared nibbles), child]. A parent references a child by the Keccak-256 of its RLP, or
 * embeds the child itself when that RLP is under 32 bytes; the root is always hashed.
 *
 * A proof, in the form of eth_getProof's account proofs and @ethereumjs/trie's createProof, is the
 * RLP of each hashed node on the path from the root to the key, in order; embedded nodes come
 * inside their parents.
 */

/** A proof needs one node per key nibble at most (16 for rlp of a safe integer); this bounds the walk. */
export const MAX_EVM_PROOF_NODES = 64;
// A node is a leaf holding a transaction, or a branch (16 hashes at most, and perhaps a value).
const MAX_NODE_BYTES = MAX_EVM_TX_BYTES + 1024;
const EMPTY = new Uint8Array(0);

/** The root of a block's transaction trie and the proof of one transaction in it. */
export interface EvmTxProof {
  /** Keccak-256 of the root node: the header's transactionsRoot when the transactions are the block's. */
  readonly root: Uint8Array;
  /** The RLP of each hashed node from the root to the transaction's leaf. */
  readonly proof: Uint8Array[];
}

const invalid = (message: string) => new RemembrancerError('EVM_PROOF_INVALID', message);

function checkIndex(index: unknown): number {
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) {
    throw new RemembrancerError('INVALID_ARGUMENT', 'a transaction index must be a non-negative safe integer');
  }
  return index;
}

/** rlp(index): the trie key of the index-th transaction of a block. */
function txKey(index: number): Uint8Array {
  const bytes: number[] = [];
  for (let n = BigInt(index); n > 0n; n >>= 8n) bytes.unshift(Number(n & 0xffn));
  return rlpEncode(Uint8Array.from(bytes));
}

function nibbles(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (const b of bytes) out.push(b >> 4, b & 0x0f);
  return out;
}

function nibblesEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

/**
 * Hex-prefix encoding (Yellow Paper, appendix C): a flag nibble (2 for a leaf, plus 1 when the
 * path has an odd number of nibbles), a zero nibble to pad an even path, then the path.
 */
function hexPrefix(path: readonly number[], leaf: boolean): Uint8Array {
  const odd = path.length % 2 === 1;
  const flagged = [(leaf ? 2 : 0) + (odd ? 1 : 0), ...(odd ? [] : [0]), ...path];
  const out = new Uint8Array(flagged.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = (flagged[2 * i]! << 4) | flagged[2 * i + 1]!;
  return out;
}

/** The inverse of hexPrefix, strict: a known flag, a zero pad nibble for an even path. */
function readHexPrefix(item: RlpItem | undefined): { path: number[]; leaf: boolean } {
  if (!(item instanceof Uint8Array) || item.length === 0) throw invalid('a leaf or extension path must be bytes');
  const flag = item[0]! >> 4;
  if (flag > 3) throw invalid(`hex-prefix flag ${flag} is not 0 to 3`);
  const odd = (flag & 1) === 1;
  if (!odd && (item[0]! & 0x0f) !== 0) throw invalid('an even hex-prefix path must pad with a zero nibble');
  const all = nibbles(item);
  return { path: all.slice(odd ? 1 : 2), leaf: (flag & 2) === 2 };
}

// ---- building (for the node making evidence, and for tests) ----

interface Entry {
  readonly key: readonly number[];
  readonly value: Uint8Array;
}

/** A built node: its RLP structure and bytes, and what a key walks into below it. */
type Built =
  | { readonly kind: 'leaf'; readonly item: RlpItem; readonly rlp: Uint8Array }
  | {
      readonly kind: 'extension';
      readonly item: RlpItem;
      readonly rlp: Uint8Array;
      readonly path: readonly number[];
      readonly child: Built;
    }
  | {
      readonly kind: 'branch';
      readonly item: RlpItem;
      readonly rlp: Uint8Array;
      readonly children: (Built | undefined)[];
    };

function reference(node: Built): RlpItem {
  return node.rlp.length < 32 ? node.item : keccak256(node.rlp);
}

/** How many nibbles, from `depth`, every key shares. */
function sharedLength(entries: readonly Entry[], depth: number): number {
  const first = entries[0]!.key;
  let shared = first.length - depth;
  for (const e of entries) {
    let i = 0;
    while (i < shared && e.key[depth + i] === first[depth + i]) i++;
    shared = i;
  }
  return shared;
}

function build(entries: readonly Entry[], depth: number): Built {
  const first = entries[0]!;
  if (entries.length === 1) {
    const item = [hexPrefix(first.key.slice(depth), true), first.value];
    return { kind: 'leaf', item, rlp: rlpEncode(item) };
  }
  const shared = sharedLength(entries, depth);
  if (shared > 0) {
    const path = first.key.slice(depth, depth + shared);
    const child = build(entries, depth + shared);
    const item = [hexPrefix(path, false), reference(child)];
    return { kind: 'extension', item, rlp: rlpEncode(item), path, child };
  }
  const children: (Built | undefined)[] = [];
  for (let n = 0; n < 16; n++) {
    const group = entries.filter((e) => e.key.length > depth && e.key[depth] === n);
    children.push(group.length > 0 ? build(group, depth + 1) : undefined);
  }
  // Keys rlp(i) are prefix-free, so a transaction trie never has a value here; a trie may.
  const value = entries.find((e) => e.key.length === depth)?.value ?? EMPTY;
  const item = [...children.map((c) => (c === undefined ? EMPTY : reference(c))), value];
  return { kind: 'branch', item, rlp: rlpEncode(item), children };
}

/**
 * Builds the transaction trie of a block whose transactions are `rawTxs` (each exactly as the
 * block carries it, as eth_getRawTransactionByHash returns it) and the proof of the one at
 * `index`. The root equals the header's transactionsRoot exactly when the list is the block's, in
 * order. Throws INVALID_ARGUMENT (not a list of non-empty byte arrays, a bad index) or
 * INDEX_OUT_OF_RANGE.
 */
export function buildEvmTxProof(rawTxs: readonly Uint8Array[], index: number): EvmTxProof {
  // Checked at run time too: callers in plain JavaScript, or with data from the network.
  const list: unknown = rawTxs;
  if (!Array.isArray(list) || !list.every((t) => t instanceof Uint8Array && t.length > 0)) {
    throw new RemembrancerError('INVALID_ARGUMENT', 'transactions must be non-empty byte arrays');
  }
  checkIndex(index);
  if (index >= rawTxs.length) {
    throw new RemembrancerError('INDEX_OUT_OF_RANGE', `index ${index} is not below ${rawTxs.length} transactions`);
  }
  const root = build(
    rawTxs.map((value, i) => ({ key: nibbles(txKey(i)), value })),
    0,
  );
  const key = nibbles(txKey(index));
  const proof = [root.rlp];
  let node: Built = root;
  let at = 0;
  for (;;) {
    let child: Built | undefined;
    if (node.kind === 'leaf') break;
    if (node.kind === 'extension') {
      at += node.path.length;
      child = node.child;
    } else {
      if (at === key.length) break;
      child = node.children[key[at]!];
      at++;
    }
    if (child === undefined) throw new RemembrancerError('INTERNAL', 'a built trie lacks one of its own keys');
    if (child.rlp.length >= 32) proof.push(child.rlp);
    node = child;
  }
  return { root: keccak256(root.rlp), proof };
}

// ---- verifying ----

/**
 * The value a Merkle-Patricia proof proves under `key`, walking from `root`: each proof node must
 * hash to the reference its parent holds (the first to the root), embedded nodes must be under 32
 * bytes, and every node of the proof must be on the path. Throws EVM_PROOF_INVALID when the proof
 * does not hold together or shows the key absent.
 */
function provenValue(root: Uint8Array, key: readonly number[], proof: readonly Uint8Array[]): Uint8Array {
  let used = 0;
  const fetch = (hash: Uint8Array): RlpItem => {
    const node = proof[used];
    if (node === undefined) throw invalid(`the proof ends after ${used} nodes, before the node 0x${toHex(hash)}`);
    if (!(node instanceof Uint8Array) || node.length > MAX_NODE_BYTES) {
      throw invalid(`proof node ${used} must be at most ${MAX_NODE_BYTES} bytes`);
    }
    if (!bytesEqual(keccak256(node), hash)) throw invalid(`proof node ${used} does not hash to 0x${toHex(hash)}`);
    return decodeRlp(node, `proof node ${used++}`, 'EVM_PROOF_INVALID');
  };
  const follow = (ref: RlpItem | undefined, where: string): RlpItem => {
    if (Array.isArray(ref)) {
      if (rlpEncode(ref).length >= 32) throw invalid(`${where} embeds a node of 32 bytes or more instead of its hash`);
      return ref;
    }
    if (ref instanceof Uint8Array && ref.length === 32) return fetch(ref);
    if (ref instanceof Uint8Array && ref.length === 0) throw invalid(`the key is not in the trie: ${where} is empty`);
    throw invalid(`${where} is neither a 32-byte hash nor an embedded node`);
  };

  let node = fetch(root);
  let at = 0;
  let value: RlpItem | undefined;
  while (value === undefined) {
    if (!Array.isArray(node)) throw invalid('a trie node must be an RLP list');
    if (node.length === 17) {
      if (at === key.length) value = node[16];
      else node = follow(node[key[at]!], `branch child ${key[at++]!}`);
    } else if (node.length === 2) {
      const { path, leaf } = readHexPrefix(node[0]);
      const rest = key.slice(at);
      if (leaf) {
        if (!nibblesEqual(path, rest))
          throw invalid('the key is not in the trie: the leaf on its path holds another key');
        value = node[1];
      } else {
        if (path.length === 0) throw invalid('an extension node has an empty path');
        if (!nibblesEqual(path, rest.slice(0, path.length))) {
          throw invalid('the key is not in the trie: it leaves the extension on its path');
        }
        at += path.length;
        node = follow(node[1], 'the extension child');
      }
    } else {
      throw invalid(`a trie node has 2 or 17 items, got ${node.length}`);
    }
  }
  if (!(value instanceof Uint8Array)) throw invalid('a trie value must be a byte string');
  if (value.length === 0) throw invalid('the key is not in the trie: its value is empty');
  if (used !== proof.length) throw invalid(`the proof has ${proof.length - used} nodes off the path`);
  return value;
}

/**
 * The raw transaction that `proof` proves at `index` in the transaction trie whose root is
 * `transactionsRoot` (a block header's). Throws INVALID_ARGUMENT for a root not 32 bytes or a bad
 * index, EVM_PROOF_INVALID for a proof over MAX_EVM_PROOF_NODES nodes or one that does not prove
 * a transaction at that index.
 */
export function evmTxFromProof(transactionsRoot: Uint8Array, index: number, proof: readonly Uint8Array[]): Uint8Array {
  if (!(transactionsRoot instanceof Uint8Array) || transactionsRoot.length !== 32) {
    throw new RemembrancerError('INVALID_ARGUMENT', 'a transactions root is 32 bytes');
  }
  checkIndex(index);
  // Checked at run time too: callers in plain JavaScript, or with data from the network.
  const nodes: unknown = proof;
  if (!Array.isArray(nodes)) throw invalid('a proof must be an array of nodes');
  if (nodes.length > MAX_EVM_PROOF_NODES) {
    throw invalid(`a proof has at most ${MAX_EVM_PROOF_NODES} nodes, got ${nodes.length}`);
  }
  return provenValue(transactionsRoot, nibbles(txKey(index)), proof);
}
