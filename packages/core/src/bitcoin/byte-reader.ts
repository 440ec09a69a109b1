import { RemembrancerError } from '../errors.js';

function malformed(message: string): RemembrancerError {
  return new RemembrancerError('BITCOIN_MALFORMED', message);
}

/**
 * A cursor over untrusted Bitcoin serialization. Every read checks the remaining length first, so
 * truncated input is a BITCOIN_MALFORMED error and never an out-of-bounds read, and counts are
 * bounded by what could still fit before anything is allocated for them.
 */
export class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #offset = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get offset(): number {
    return this.#offset;
  }

  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  #need(n: number, what: string): void {
    if (n > this.remaining) throw malformed(`truncated: ${what} needs ${n} bytes, ${this.remaining} remain`);
  }

  /** A copy, so a parsed value does not alias (and keep alive) the caller's buffer. */
  bytes(n: number, what: string): Uint8Array {
    this.#need(n, what);
    const out = this.#bytes.slice(this.#offset, this.#offset + n);
    this.#offset += n;
    return out;
  }

  u8(what: string): number {
    this.#need(1, what);
    return this.#view.getUint8(this.#offset++);
  }

  u32(what: string): number {
    this.#need(4, what);
    const v = this.#view.getUint32(this.#offset, true);
    this.#offset += 4;
    return v;
  }

  i32(what: string): number {
    this.#need(4, what);
    const v = this.#view.getInt32(this.#offset, true);
    this.#offset += 4;
    return v;
  }

  i64(what: string): bigint {
    this.#need(8, what);
    const v = this.#view.getBigInt64(this.#offset, true);
    this.#offset += 8;
    return v;
  }

  /**
   * A CompactSize count of things at least `minItemBytes` long each (a byte length: 1). Only the
   * shortest encoding is accepted, as Bitcoin Core does, so one transaction has one serialization
   * and one txid; a count that cannot fit in the remaining bytes is refused before any allocation.
   */
  compactSize(what: string, minItemBytes: number): number {
    const first = this.u8(what);
    let value: number;
    let min: number;
    if (first < 0xfd) return this.#fits(first, what, minItemBytes);
    if (first === 0xfd) {
      this.#need(2, what);
      value = this.#view.getUint16(this.#offset, true);
      this.#offset += 2;
      min = 0xfd;
    } else if (first === 0xfe) {
      value = this.u32(what);
      min = 0x10000;
    } else {
      this.#need(8, what);
      const big = this.#view.getBigUint64(this.#offset, true);
      this.#offset += 8;
      if (big < 0x100000000n) throw malformed(`${what}: non-canonical CompactSize ${big}`);
      // Anything this large exceeds every input this code will ever see.
      throw malformed(`${what}: CompactSize ${big} exceeds the ${this.remaining} remaining bytes`);
    }
    if (value < min) throw malformed(`${what}: non-canonical CompactSize ${value}`);
    return this.#fits(value, what, minItemBytes);
  }

  #fits(count: number, what: string, minItemBytes: number): number {
    if (count * minItemBytes > this.remaining) {
      throw malformed(`${what}: ${count} cannot fit in the ${this.remaining} remaining bytes`);
    }
    return count;
  }

  /** Refuses trailing bytes: a parsed object must be the whole input, not a prefix of it. */
  end(what: string): void {
    if (this.remaining !== 0) throw malformed(`${what}: ${this.remaining} trailing bytes`);
  }
}
