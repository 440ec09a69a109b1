import { crypto } from '../crypto/index.js';
import { toHex, utf8Encode } from '../encoding/index.js';

/**
 * The path segment that names a log on a witness's monitoring prefix,
 * https://c2sp.org/tlog-witness#monitor-retrieval-mechanism: "the SHA-256 hash of the log's
 * origin, hex encoded, in lowercase".
 */
export function witnessOriginHash(origin: string): string {
  return toHex(crypto.sha256(utf8Encode(origin)));
}

/** True if s has the syntax of an origin hash: 64 lowercase hex digits. */
export function isWitnessOriginHash(s: string): boolean {
  return typeof s === 'string' && /^[0-9a-f]{64}$/.test(s);
}
