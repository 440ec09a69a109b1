import { crypto } from '../crypto/index.js';
import { utf8Encode } from '../encoding/index.js';

/** https://c2sp.org/signed-note#signature-types: Ed25519 note signatures. */
export const SIGNATURE_TYPE_ED25519 = 0x01;
/** https://c2sp.org/tlog-cosignature: timestamped Ed25519 checkpoint cosignatures (cosignature/v1). */
export const SIGNATURE_TYPE_COSIGNATURE_V1 = 0x04;

/**
 * key ID = SHA-256(key name || 0x0A || signature type || public key)[:4], read as a big-endian
 * uint32 (https://c2sp.org/signed-note#signatures). The type byte keeps one key usable for two
 * signature types without their IDs colliding.
 */
export function computeKeyId(name: string, type: number, publicKey: Uint8Array): number {
  const h = crypto.sha256Parts([utf8Encode(name), Uint8Array.of(0x0a, type), publicKey]);
  return ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
}

/** Fixed-length lowercase hex, as vkeys spell key IDs (https://c2sp.org/signed-note#conventions-used-in-this-document). */
export function formatKeyId(keyId: number): string {
  return (keyId >>> 0).toString(16).padStart(8, '0');
}

/** Parses exactly eight lowercase hex digits; undefined otherwise. */
export function parseKeyId(hex: string): number | undefined {
  if (!/^[0-9a-f]{8}$/.test(hex)) return undefined;
  return parseInt(hex, 16) >>> 0;
}

export function keyIdBytes(keyId: number): Uint8Array {
  return Uint8Array.of((keyId >>> 24) & 255, (keyId >>> 16) & 255, (keyId >>> 8) & 255, keyId & 255);
}
