import { RemembrancerError, fromDisplayHex } from '@vaultmesh/core';

/*
 * The unsigned transaction a wallet is asked to sign, in the legacy serialization
 * (https://developer.bitcoin.org/reference/transactions.html#raw-transaction-format): version,
 * inputs with empty scriptSigs, outputs, locktime. Written here rather than by
 * createrawtransaction so that what is signed is exactly what we chose (scripts, not addresses a
 * node may encode for another network; satoshis, not BTC as floating point), and checked against
 * what comes back signed.
 */

export interface UnsignedInput {
  /** The spent output's transaction, display hex. */
  readonly txid: string;
  readonly vout: number;
  readonly sequence: number;
}

export interface UnsignedOutput {
  readonly sats: number;
  readonly script: Uint8Array;
}

export interface UnsignedTransaction {
  readonly version: number;
  readonly inputs: readonly UnsignedInput[];
  readonly outputs: readonly UnsignedOutput[];
  readonly locktime: number;
}

function u32le(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new RemembrancerError('INVALID_ARGUMENT', `${n} is not an unsigned 32-bit integer`);
  }
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, true);
  return out;
}

function u64le(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RemembrancerError('INVALID_ARGUMENT', `${n} is not an amount`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  return out;
}

/** A CompactSize; counts and scripts here stay far below 2^32. */
function compactSize(n: number): Uint8Array {
  if (n < 0xfd) return Uint8Array.of(n);
  if (n <= 0xffff) return Uint8Array.of(0xfd, n & 0xff, n >>> 8);
  return Uint8Array.from([0xfe, ...u32le(n)]);
}

export function writeUnsignedTransaction(tx: UnsignedTransaction): Uint8Array {
  if (tx.inputs.length === 0 || tx.outputs.length === 0) {
    throw new RemembrancerError('INVALID_ARGUMENT', 'a transaction needs inputs and outputs');
  }
  const parts: Uint8Array[] = [u32le(tx.version), compactSize(tx.inputs.length)];
  for (const input of tx.inputs) {
    // Outpoints are serialized in internal byte order, the reverse of the display hex.
    parts.push(fromDisplayHex(input.txid), u32le(input.vout), compactSize(0), u32le(input.sequence));
  }
  parts.push(compactSize(tx.outputs.length));
  for (const output of tx.outputs) parts.push(u64le(output.sats), compactSize(output.script.length), output.script);
  parts.push(u32le(tx.locktime));
  return new Uint8Array(Buffer.concat(parts));
}
