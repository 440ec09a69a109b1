import { RemembrancerError } from '../errors.js';

/** Header line of https://c2sp.org/tlog-cosignature#ed25519-signed-message, for domain separation. */
export const COSIGNATURE_V1_HEADER = 'cosignature/v1';

/** https://c2sp.org/tlog-cosignature#format: "It MUST NOT exceed 2^63 - 1". */
export const MAX_COSIGNATURE_TIMESTAMP = (1n << 63n) - 1n;

/** 8-byte big-endian timestamp followed by the 64-byte Ed25519 signature (timestamped_signature). */
export const COSIGNATURE_V1_SIZE = 8 + 64;

/**
 * The bytes a cosignature/v1 signs, as text: "cosignature/v1\n", "time <decimal>\n", then the
 * whole checkpoint note text including extension lines
 * (https://c2sp.org/tlog-cosignature#ed25519-signed-message).
 */
export function cosignedMessage(checkpointBody: string, timestamp: number | bigint): string {
  return `${COSIGNATURE_V1_HEADER}\ntime ${BigInt(timestamp).toString(10)}\n${checkpointBody}`;
}

/** Splits a cosignature/v1 signature payload. `payload` is attacker-controlled. */
export function splitTimestampedSignature(payload: Uint8Array): { timestamp: bigint; signature: Uint8Array } {
  if (payload.length !== COSIGNATURE_V1_SIZE) {
    throw new RemembrancerError(
      'COSIGNATURE_MALFORMED',
      `cosignature is ${payload.length} bytes, expected ${COSIGNATURE_V1_SIZE}`,
    );
  }
  const timestamp = new DataView(payload.buffer, payload.byteOffset, 8).getBigUint64(0, false);
  if (timestamp > MAX_COSIGNATURE_TIMESTAMP) {
    throw new RemembrancerError('COSIGNATURE_MALFORMED', 'cosignature timestamp exceeds 2^63 - 1');
  }
  return { timestamp, signature: payload.subarray(8) };
}

export function joinTimestampedSignature(timestamp: number, signature: Uint8Array): Uint8Array {
  const out = new Uint8Array(COSIGNATURE_V1_SIZE);
  new DataView(out.buffer).setBigUint64(0, BigInt(timestamp), false);
  out.set(signature, 8);
  return out;
}
