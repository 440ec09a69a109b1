import { Certificate } from 'pkijs';
import { RemembrancerError } from '../errors.js';
import { base64Decode } from '../encoding/index.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*?)-----END CERTIFICATE-----/g;

/**
 * The certificates of PEM strings (RFC 7468 §5), each string holding one or more. These are the
 * caller's configuration, not attacker input, so a string without a certificate is a usage error
 * (INVALID_ARGUMENT) rather than a verification failure.
 */
export function parseTrustAnchors(pems: readonly string[]): Certificate[] {
  if (!Array.isArray(pems) || pems.length === 0) {
    throw new RemembrancerError('INVALID_ARGUMENT', 'trustAnchorsPem must list at least one PEM certificate');
  }
  const anchors: Certificate[] = [];
  pems.forEach((pem, i) => {
    if (typeof pem !== 'string') throw new RemembrancerError('INVALID_ARGUMENT', `trust anchor ${i} is not a string`);
    const blocks = [...pem.matchAll(PEM_CERTIFICATE)];
    if (blocks.length === 0) {
      throw new RemembrancerError('INVALID_ARGUMENT', `trust anchor ${i} holds no PEM CERTIFICATE block`);
    }
    for (const block of blocks) {
      try {
        anchors.push(Certificate.fromBER(base64Decode(block[1]!.replace(/\s+/g, ''))));
      } catch (e) {
        throw new RemembrancerError('INVALID_ARGUMENT', `trust anchor ${i} is not a readable X.509 certificate`, {
          cause: e,
        });
      }
    }
  });
  return anchors;
}
