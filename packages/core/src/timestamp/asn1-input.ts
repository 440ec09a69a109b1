import { fromBER, type AsnType } from 'asn1js';
import { failCheck, underCheckSync } from './timestamp-check.js';

/**
 * Upper bound of a time-stamp response or token: a token is a few kilobytes (TSTInfo, one
 * signature, the TSA certificate and perhaps its chain). It bounds the parser's work on hostile input.
 */
export const MAX_TIMESTAMP_BYTES = 1024 * 1024;

/**
 * Decodes one BER/DER element (attacker-controlled) that must span `bytes` exactly: trailing
 * bytes are refused, so one token has one encoding to hash and store. Fails TIMESTAMP_MALFORMED.
 */
export function decodeWhole(bytes: Uint8Array, what: string): AsnType {
  if (!(bytes instanceof Uint8Array)) failCheck('TIMESTAMP_MALFORMED', 'structure', `${what} must be bytes`);
  if (bytes.length === 0) failCheck('TIMESTAMP_MALFORMED', 'structure', `${what} is empty`);
  if (bytes.length > MAX_TIMESTAMP_BYTES) {
    failCheck('TIMESTAMP_MALFORMED', 'structure', `${what} is ${bytes.length} bytes, over ${MAX_TIMESTAMP_BYTES}`);
  }
  // asn1js reports most errors in the result but throws for some (a malformed GeneralizedTime).
  const decoded = underCheckSync('TIMESTAMP_MALFORMED', 'structure', `${what} is not BER/DER`, () =>
    fromBER(bytes, { maxDepth: 64, maxNodes: 10_000 }),
  );
  if (decoded.offset === -1 || decoded.result.error !== '') {
    failCheck('TIMESTAMP_MALFORMED', 'structure', `${what} is not BER/DER: ${decoded.result.error || 'undecodable'}`);
  }
  if (decoded.offset !== bytes.length) {
    failCheck('TIMESTAMP_MALFORMED', 'structure', `${what} has ${bytes.length - decoded.offset} trailing bytes`);
  }
  return decoded.result;
}

/** The exact encoded bytes of a decoded element (a copy, detached from the input). */
export function encodedBytes(node: AsnType): Uint8Array {
  return node.valueBeforeDecodeView.slice();
}
