import { Certificate } from 'pkijs';
import { RemembrancerError } from '../errors.js';
import { base64Decode } from '../encoding/index.js';
import { BoundedCache, bytesKey } from './bounded-cache.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*?)-----END CERTIFICATE-----/g;

/** The trust anchors of a verification, and a key naming exactly their DER bytes, in order. */
export interface TrustAnchors {
  readonly certificates: readonly Certificate[];
  readonly key: string;
}

/** Parsed anchors by their PEM strings: a verifier passes the same configuration every time. */
const parsedAnchors = new BoundedCache<TrustAnchors>(16);

/**
 * The certificates of PEM strings (RFC 7468 §5), each string holding one or more. These are the
 * caller's configuration, not attacker input, so a string without a certificate is a usage error
 * (INVALID_ARGUMENT) rather than a verification failure.
 */
export function parseTrustAnchors(given: readonly string[]): TrustAnchors {
  // Array.isArray would narrow `given` to any[]: keep the declared type for the code below.
  const pems: readonly string[] = given;
  if (!Array.isArray(given) || pems.length === 0) {
    throw new RemembrancerError('INVALID_ARGUMENT', 'trustAnchorsPem must list at least one PEM certificate');
  }
  pems.forEach((pem, i) => {
    if (typeof pem !== 'string') throw new RemembrancerError('INVALID_ARGUMENT', `trust anchor ${i} is not a string`);
  });
  const cacheKey = JSON.stringify(pems);
  const known = parsedAnchors.get(cacheKey);
  if (known !== undefined) return known;
  const certificates: Certificate[] = [];
  const ders: Uint8Array[] = [];
  pems.forEach((pem, i) => {
    const blocks = [...pem.matchAll(PEM_CERTIFICATE)];
    if (blocks.length === 0) {
      throw new RemembrancerError('INVALID_ARGUMENT', `trust anchor ${i} holds no PEM CERTIFICATE block`);
    }
    for (const block of blocks) {
      try {
        const der = base64Decode(block[1]!.replace(/\s+/g, ''));
        certificates.push(Certificate.fromBER(der));
        ders.push(der);
      } catch (e) {
        throw new RemembrancerError('INVALID_ARGUMENT', `trust anchor ${i} is not a readable X.509 certificate`, {
          cause: e,
        });
      }
    }
  });
  const anchors: TrustAnchors = { certificates, key: bytesKey(...ders) };
  parsedAnchors.set(cacheKey, anchors);
  return anchors;
}
