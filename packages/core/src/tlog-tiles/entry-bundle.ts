import { RemembrancerError } from '../errors.js';
import { TILE_WIDTH } from './tile-geometry.js';

/**
 * "Entry bundles are sequences of big-endian uint16 length-prefixed log entries"
 * (https://c2sp.org/tlog-tiles#log-entries): no entry of a tiled log can be longer than this.
 */
export const MAX_BUNDLE_ENTRY_BYTES = 0xffff;

/**
 * The entry bundle of `entries`, in order: each as a big-endian uint16 length, then its bytes.
 * A bundle holds the entries of one level-0 tile, so 1…256 of them ("Empty tiles MUST NOT be
 * served"). Throws ENTRY_TOO_LARGE for an entry over MAX_BUNDLE_ENTRY_BYTES, INVALID_ARGUMENT
 * for a count outside 1…256.
 */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  if (entries.length < 1 || entries.length > TILE_WIDTH) {
    throw new RemembrancerError(
      'INVALID_ARGUMENT',
      `an entry bundle holds 1..${TILE_WIDTH} entries, not ${entries.length}`,
    );
  }
  let total = 0;
  for (const e of entries) {
    if (e.length > MAX_BUNDLE_ENTRY_BYTES) {
      throw new RemembrancerError(
        'ENTRY_TOO_LARGE',
        `entry of ${e.length} bytes does not fit a bundle's 16-bit length`,
      );
    }
    total += 2 + e.length;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const e of entries) {
    out[o] = e.length >>> 8;
    out[o + 1] = e.length & 0xff;
    out.set(e, o + 2);
    o += 2 + e.length;
  }
  return out;
}

/**
 * The entries of an entry bundle, as views into `bundle`. Attacker-controlled (fetched from a log
 * or a mirror): a truncated length or entry, trailing bytes, an empty bundle or more than 256
 * entries are INVALID_ARGUMENT. With `width` (the `.p/<W>` of the path, 256 for a full bundle)
 * the bundle must hold exactly that many entries, one per hash of the level-0 tile it matches.
 */
export function parseEntryBundle(bundle: Uint8Array, width?: number): Uint8Array[] {
  if (width !== undefined && (!Number.isSafeInteger(width) || width < 1 || width > TILE_WIDTH)) {
    throw new RemembrancerError('INVALID_ARGUMENT', `bundle width must be 1..${TILE_WIDTH}, got ${String(width)}`);
  }
  const malformed = (why: string): never => {
    throw new RemembrancerError('INVALID_ARGUMENT', `malformed entry bundle: ${why}`);
  };
  const out: Uint8Array[] = [];
  let o = 0;
  while (o < bundle.length) {
    if (out.length === (width ?? TILE_WIDTH)) malformed(`more than ${width ?? TILE_WIDTH} entries`);
    if (o + 2 > bundle.length) malformed(`truncated length prefix at byte ${o}`);
    const len = (bundle[o]! << 8) | bundle[o + 1]!;
    const start = o + 2;
    if (start + len > bundle.length)
      malformed(`entry ${out.length} needs ${len} bytes, ${bundle.length - start} remain`);
    out.push(bundle.subarray(start, start + len));
    o = start + len;
  }
  if (out.length === 0) malformed('no entries');
  if (width !== undefined && out.length !== width) malformed(`${out.length} entries, the path says ${width}`);
  return out;
}
