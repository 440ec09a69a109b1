import { RemembrancerError } from '../errors.js';
import { MAX_JSON_DEPTH, canonicalBytes, isJsonObject } from '../jcs/index.js';

/*
 * What an entry is, in bytes: the leaf data every log stores and hashes (design: "Entry bytes").
 * Below receipts and namespace rules, which both build on these bounds.
 */

/** Leaf data limit: the tlog-tiles entry bundle length prefix is 16 bits (https://c2sp.org/tlog-tiles). */
export const MAX_ENTRY_BYTES = 65_535;

/**
 * Deepest nesting of an entry (counted as MAX_JSON_DEPTH counts it). Half the bound of any parsed
 * document, so that every document carrying an entry (a batch: +2, a receipt: +1, an envelope of
 * later formats) still parses everywhere: an entry the log accepts always has a receipt that
 * every verifier can read.
 */
export const MAX_ENTRY_DEPTH = 64;

/**
 * Deepest stored entry a receipt is built for and verified with: one level below the receipt
 * around it, so the receipt still parses within MAX_JSON_DEPTH. Looser than MAX_ENTRY_DEPTH on
 * purpose: a stored entry already has its leaf hash in the log, whatever admitted it (a
 * governance document wraps a schema definition of up to 64 levels, an older node took deeper
 * entries), and its receipt must not be refused by today's admission rule.
 */
export const MAX_RECEIPT_ENTRY_DEPTH = MAX_JSON_DEPTH - 1;

/**
 * The leaf data of an entry: UTF-8 of its RFC 8785 canonical JSON (design: "Entry bytes").
 * `maxDepth` is MAX_ENTRY_DEPTH for new entries; a verifier passes the looser bound of what it
 * could parse, so a receipt is judged by its bytes, not by today's admission rule.
 */
export function entryLeafData(entry: unknown, maxDepth = MAX_ENTRY_DEPTH): Uint8Array {
  if (!isJsonObject(entry)) throw new RemembrancerError('ENTRY_NOT_OBJECT', 'an entry must be a JSON object');
  let data: Uint8Array;
  try {
    data = canonicalBytes(entry, { maxDepth });
  } catch (e) {
    if (maxDepth < MAX_JSON_DEPTH && entryDepthExceeds(entry, maxDepth)) {
      throw new RemembrancerError('ENTRY_TOO_DEEP', `entry nests arrays and objects deeper than ${maxDepth} levels`, {
        cause: e,
      });
    }
    throw e;
  }
  if (data.length > MAX_ENTRY_BYTES) {
    throw new RemembrancerError(
      'ENTRY_TOO_LARGE',
      `entry is ${data.length} bytes of canonical JSON, over the ${MAX_ENTRY_BYTES}-byte limit`,
    );
  }
  return data;
}

/** Whether `value` nests containers deeper than `max` (iterative: the value may be arbitrarily deep). */
function entryDepthExceeds(value: unknown, max: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: v, depth } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > max) return true;
    for (const child of Object.values(v)) stack.push({ value: child, depth: depth + 1 });
  }
  return false;
}
