// EVM vectors and builders for the evm tests (not a test file itself). The builders write RLP with
// @ethereumjs/rlp by hand, field by field, so the decoders are tested against the formats as the
// Yellow Paper and the EIPs define them rather than against themselves.
import assert from 'node:assert/strict';
import { RLP } from '@ethereumjs/rlp';
import fc from 'fast-check';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { RemembrancerError, crypto, type ErrorCode } from '../../src/index.js';
import { concatBytes, fromHex } from '../../src/encoding/index.js';

export const SEED = Number(process.env['FC_SEED'] ?? 20250315);

/** The code a call fails with, or undefined when it returns; anything but a RemembrancerError fails. */
export function codeOf(fn: () => unknown): ErrorCode | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    assert.ok(e instanceof RemembrancerError, `threw a non-RemembrancerError: ${String(e)}`);
    return e.code;
  }
}

export function hex(s: string): Uint8Array {
  return fromHex(s.replace(/^0x/, '').replace(/\s+/g, ''));
}

export function keccak(bytes: Uint8Array): Uint8Array {
  return keccak_256(bytes);
}

/** 32 bytes named by a label, so fixtures differ without looking random. */
export function hashOf(label: string): Uint8Array {
  return crypto.sha256(new TextEncoder().encode(label));
}

/** An unsigned integer as Ethereum's RLP carries it: big-endian, no leading zeros, 0 empty. */
export function uint(n: bigint | number): Uint8Array {
  const out: number[] = [];
  for (let v = BigInt(n); v > 0n; v >>= 8n) out.unshift(Number(v & 0xffn));
  return Uint8Array.from(out);
}

export const EMPTY_TRIE_ROOT = '56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421';
const EMPTY_OMMERS = '1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347';

/**
 * Ethereum mainnet's genesis block and block 1, field by field. Their RLP hashes to the block
 * hashes every explorer shows (d4e567…, 88e96d…); a wrong field or a wrong Keccak would not.
 */
export const MAINNET = {
  genesis: {
    hash: 'd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3',
    number: 0,
    timestamp: 0,
    stateRoot: 'd7f8974fb5ac78d9ac099b9ad5018bedc2ce0a72dad1827a1709da30580f0544',
    rlp: RLP.encode([
      new Uint8Array(32),
      hex(EMPTY_OMMERS),
      new Uint8Array(20),
      hex('d7f8974fb5ac78d9ac099b9ad5018bedc2ce0a72dad1827a1709da30580f0544'),
      hex(EMPTY_TRIE_ROOT),
      hex(EMPTY_TRIE_ROOT),
      new Uint8Array(256),
      uint(0x400000000n),
      uint(0),
      uint(5000),
      uint(0),
      uint(0),
      hex('11bbe8db4e347b4e8c937c1c8370e4b5ed33adb3db69cbdb7a38e1e50b1b82fa'),
      new Uint8Array(32),
      hex('0000000000000042'),
    ]),
  },
  block1: {
    hash: '88e96d4537bea4d9c05d12549907b32561d3bf31f45aae734cdc119f13406cb6',
    number: 1,
    timestamp: 1438269988,
    parentHash: 'd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3',
    rlp: RLP.encode([
      hex('d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3'),
      hex(EMPTY_OMMERS),
      hex('05a56e2d52c817161883f50c441c3228cfe54d9f'),
      hex('d67e4d450343046425ae4271474353857ab860dbc0a1dde64b41b5cd3a532bf3'),
      hex(EMPTY_TRIE_ROOT),
      hex(EMPTY_TRIE_ROOT),
      new Uint8Array(256),
      uint(0x3ff800000n),
      uint(1),
      uint(5000),
      uint(0),
      uint(1438269988),
      new TextEncoder().encode('Geth/v1.0.0/linux/go1.4.2'),
      hex('969b900de27b6ac6a67742365dd65f55a0526c41fd18e1b16f1a1215c2e66f59'),
      hex('539bd4979fef1ec4'),
    ]),
  },
} as const;

/**
 * The signed example of EIP-155 (nonce 9, 20 gwei, 21000 gas, 1 ether to 0x3535…35, chain id 1,
 * v = 37). Its signing hash, Keccak-256 of rlp([nonce … data, 1, 0, 0]), is the EIP's daf5a779…;
 * recovering the signature gives the EIP's sender 0x9d8a62f6… (checked once with @noble/curves).
 */
export const EIP155_TX = {
  raw: 'f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83',
  signingHash: 'daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53',
  to: '3535353535353535353535353535353535353535',
} as const;

export const ANCHOR_ADDRESS = hex('00000000000000000000000000000000000a4c40');
const SIGNATURE = [uint(1), hashOf('r'), hashOf('s')] as const;

export interface TxSpec {
  readonly to?: Uint8Array;
  readonly data?: Uint8Array;
  readonly nonce?: number;
  readonly chainId?: number;
}

/**
 * A transaction of each form with a signature-shaped (not valid) signature: nothing here checks
 * signatures. Field orders as EIP-155 (type 0), 2930 (1), 1559 (2), 4844 (3), 7702 (4) define them.
 */
export function rawTx(type: 0 | 1 | 2 | 3 | 4, spec: TxSpec = {}): Uint8Array {
  const to = spec.to ?? ANCHOR_ADDRESS;
  const data = spec.data ?? new Uint8Array(0);
  const nonce = uint(spec.nonce ?? 7);
  const chainId = uint(spec.chainId ?? 31337);
  const [, r, s] = SIGNATURE;
  const yParity = uint(1);
  const gas = uint(60_000);
  const fee = uint(2_000_000_000);
  const value = uint(0);
  const accessList = [[hashOf('account').subarray(0, 20), [hashOf('slot')]]];
  if (type === 0) {
    const v = uint((spec.chainId ?? 31337) * 2 + 36);
    return RLP.encode([nonce, fee, gas, to, value, data, v, r, s]);
  }
  const payload =
    type === 1
      ? [chainId, nonce, fee, gas, to, value, data, accessList, yParity, r, s]
      : type === 2
        ? [chainId, nonce, uint(1), fee, gas, to, value, data, accessList, yParity, r, s]
        : type === 3
          ? [chainId, nonce, uint(1), fee, gas, to, value, data, accessList, uint(1), [hashOf('blob')], yParity, r, s]
          : [
              chainId,
              nonce,
              uint(1),
              fee,
              gas,
              to,
              value,
              data,
              accessList,
              [[chainId, hashOf('delegate').subarray(0, 20), uint(0), yParity, r, s]],
              yParity,
              r,
              s,
            ];
  return concatBytes(Uint8Array.of(type), RLP.encode(payload));
}

/** The fork layouts of a header, by field count. */
export const HEADER_FORKS = { frontier: 15, london: 16, shanghai: 17, cancun: 20, prague: 21 } as const;

/** A header of `fields` fields (see HEADER_FORKS) for a block at `number` with the given transactionsRoot. */
export function headerRlp(transactionsRoot: Uint8Array, number = 21_000_000, fields = 21): Uint8Array {
  const all = [
    hashOf('parent'),
    hex(EMPTY_OMMERS),
    hashOf('beneficiary').subarray(0, 20),
    hashOf('state'),
    transactionsRoot,
    hashOf('receipts'),
    new Uint8Array(256).fill(0x11),
    uint(0),
    uint(number),
    uint(36_000_000),
    uint(12_345_678),
    uint(1_730_000_000),
    new TextEncoder().encode('vaultmesh test'),
    hashOf('prevrandao'),
    new Uint8Array(8),
    uint(1_000_000_000), // baseFeePerGas (London)
    hashOf('withdrawals'), // withdrawalsRoot (Shanghai)
    uint(131_072), // blobGasUsed (Cancun)
    uint(0), // excessBlobGas
    hashOf('beacon'), // parentBeaconBlockRoot
    hashOf('requests'), // requestsHash (Prague)
  ];
  return RLP.encode(all.slice(0, fields));
}

/** Where `needle` first occurs in `haystack`, a byte offset. */
export function offsetOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error('not found');
}

type Tree = Uint8Array | Tree[];

/** RLP of random item trees: valid RLP, mostly not a valid header or transaction. */
export const rlpBytesArbitrary = fc
  .letrec<{ item: Tree }>((tie) => ({
    item: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.uint8Array({ maxLength: 70 }),
      fc.array(tie('item'), { maxLength: 22 }),
    ),
  }))
  .item.map((t) => RLP.encode(t));
