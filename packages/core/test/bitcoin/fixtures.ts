// Bitcoin vectors and a hand-written serializer for the bitcoin tests (not a test file itself).
// The mainnet vectors were cross-checked with Python's hashlib: each header hashes to the block
// hash below, and the genesis coinbase to the genesis merkle root.
import assert from 'node:assert/strict';
import { RemembrancerError, crypto, type ErrorCode } from '../../src/index.js';
import { concatBytes, fromHex } from '../../src/encoding/index.js';

export const SEED = Number(process.env['FC_SEED'] ?? 20250315);

export const GENESIS = {
  header:
    '0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c',
  hash: '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f',
  merkleRoot: '4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b',
  // "The Times 03/Jan/2009 Chancellor on brink of second bailout for banks", 50 BTC to Satoshi's key.
  coinbase:
    '01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000',
} as const;

export const BLOCK_100000 = {
  header:
    '0100000050120119172a610421a6c3011dd330d9df07b63616c2cc1f1cd00200000000006657a9252aacd5c0b2940996ecff952228c3067cc38d4885efb5a4ac4247e9f337221b4d4c86041b0f2b5710',
  hash: '000000000003ba27aa200b1cecaad478d2b00432346c3f1f3986da1afd33e506',
  prevBlock: '000000000002d01c1fccc21636b607dfd930d31d01c3a62104612a1719011250',
  merkleRoot: 'f3e94742aca4b5ef85488dc37c06c3282295ffec960994b2c0d5ac2a25a95766',
  // Display hex, in block order.
  txids: [
    '8c14f0db3df150123e6f3dbbf30f8b955a8249b62ac1d1ff16284aefa3d06d87',
    'fff2525b8931402dd09222c50775608f75787bd2b87e56995a7bdd30f79702c4',
    '6359f0868171b1d194cbee1af2f16ea598ae8fad666d9b012c8ed2b79a236ec4',
    'e9a66845e05d5abc0ad04ec80f774a7e585c6e8db975962d069a522137b80c1d',
  ],
} as const;

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
  return fromHex(s.replace(/\s+/g, ''));
}

/** 32 bytes named by a label, so fixtures differ without looking random. */
export function hashOf(label: string): Uint8Array {
  return crypto.sha256(new TextEncoder().encode(label));
}

export function u32le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

export function i64le(n: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, n, true);
  return b;
}

/** CompactSize, shortest form. */
export function compactSize(n: number): Uint8Array {
  if (n < 0xfd) return Uint8Array.of(n);
  if (n <= 0xffff) return Uint8Array.of(0xfd, n & 0xff, n >>> 8);
  return concatBytes(Uint8Array.of(0xfe), u32le(n));
}

export function varBytes(b: Uint8Array): Uint8Array {
  return concatBytes(compactSize(b.length), b);
}

export interface TxSpec {
  version: number;
  inputs: { prevTxid: Uint8Array; prevIndex: number; script: Uint8Array; sequence: number; witness: Uint8Array[] }[];
  outputs: { value: bigint; script: Uint8Array }[];
  locktime: number;
}

/** The legacy serialization: what the txid hashes, with or without witnesses in the spec. */
export function serializeLegacy(tx: TxSpec): Uint8Array {
  return concatBytes(
    u32le(tx.version),
    compactSize(tx.inputs.length),
    ...tx.inputs.flatMap((i) => [i.prevTxid, u32le(i.prevIndex), varBytes(i.script), u32le(i.sequence)]),
    compactSize(tx.outputs.length),
    ...tx.outputs.flatMap((o) => [i64le(o.value), varBytes(o.script)]),
    u32le(tx.locktime),
  );
}

/** The BIP 144 serialization: marker 0x00, flag 0x01, and a witness stack per input before the locktime. */
export function serializeSegwit(tx: TxSpec): Uint8Array {
  const legacy = serializeLegacy(tx);
  return concatBytes(
    legacy.subarray(0, 4),
    Uint8Array.of(0x00, 0x01),
    legacy.subarray(4, legacy.length - 4),
    ...tx.inputs.flatMap((i) => [compactSize(i.witness.length), ...i.witness.map(varBytes)]),
    u32le(tx.locktime),
  );
}

/**
 * A P2WPKH spend paying change and committing `root` in a `6a20` output: a 71-byte signature and
 * a 33-byte public key in the witness, as a real one would have.
 */
export function anchorTx(root: Uint8Array): TxSpec {
  const signature = concatBytes(Uint8Array.of(0x30, 0x45), hashOf('r'), hashOf('s'), new Uint8Array(5).fill(1));
  const pubkey = concatBytes(Uint8Array.of(0x02), hashOf('pubkey'));
  return {
    version: 2,
    inputs: [
      {
        prevTxid: hashOf('funding'),
        prevIndex: 1,
        script: new Uint8Array(0),
        sequence: 0xfffffffd,
        witness: [signature, pubkey],
      },
    ],
    outputs: [
      { value: 0n, script: concatBytes(Uint8Array.of(0x6a, 0x20), root) },
      { value: 98_765n, script: concatBytes(Uint8Array.of(0x00, 0x14), hashOf('change').subarray(0, 20)) },
    ],
    locktime: 870_000,
  };
}
