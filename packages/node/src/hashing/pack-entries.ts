/** Entries laid end to end, as the batch hasher takes them. */
export interface PackedEntries {
  readonly data: Uint8Array;
  /** n + 1 offsets: entry i is `data[offsets[i] .. offsets[i+1])`. */
  readonly offsets: Uint32Array;
}

/** Offsets are 32-bit; batches whose bytes would not fit are cut into several packs. */
export const MAX_PACK_BYTES = 0xffff_ffff;

export function packEntries(datas: readonly Uint8Array[]): PackedEntries {
  const total = totalBytes(datas);
  if (total > MAX_PACK_BYTES)
    throw new RangeError(`entries total ${total} bytes; one pack holds at most ${MAX_PACK_BYTES}`);
  // Every byte is overwritten below, so the zero-fill of new Uint8Array is wasted work.
  const data: Uint8Array = Buffer.allocUnsafe(total);
  const offsets = new Uint32Array(datas.length + 1);
  let at = 0;
  for (let i = 0; i < datas.length; i++) {
    const d = datas[i]!;
    data.set(d, at);
    at += d.length;
    offsets[i + 1] = at;
  }
  return { data, offsets };
}

/**
 * Splits `datas` into consecutive runs whose bytes each fit one pack, so callers can hash any
 * number of entries through the 32-bit offset interface.
 */
export function* packRuns(datas: readonly Uint8Array[], maxBytes = MAX_PACK_BYTES): Generator<PackedEntries> {
  if (totalBytes(datas) <= maxBytes) {
    yield packEntries(datas);
    return;
  }
  let start = 0;
  while (start < datas.length) {
    let end = start;
    let bytes = 0;
    while (end < datas.length && (end === start || bytes + datas[end]!.length <= maxBytes)) {
      bytes += datas[end]!.length;
      end++;
    }
    yield packEntries(datas.slice(start, end));
    start = end;
  }
}

function totalBytes(datas: readonly Uint8Array[]): number {
  let total = 0;
  for (const d of datas) {
    // TypedArray#set would also copy plain arrays of numbers; entries must be bytes.
    if (!(d instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array');
    total += d.length;
  }
  return total;
}

/** 32-byte views of packed hashes (no copies). */
export function splitHashes(packed: Uint8Array, out: Uint8Array[] = []): Uint8Array[] {
  for (let at = 0; at < packed.length; at += 32) out.push(packed.subarray(at, at + 32));
  return out;
}
