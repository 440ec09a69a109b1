import { ExtKeyUsage, type Certificate } from 'pkijs';
import { OID_EXT_KEY_USAGE, OID_KP_TIME_STAMPING } from './oids.js';
import { failCheck } from './timestamp-check.js';

/**
 * RFC 3161 §2.3 (https://www.rfc-editor.org/rfc/rfc3161#section-2.3): "The corresponding
 * certificate MUST contain only one instance of the extended key usage field extension as defined
 * in [RFC2459] Section 4.2.1.13 with KeyPurposeID having value: id-kp-timeStamping. This extension
 * MUST be critical." Read strictly, as OpenSSL does: one extKeyUsage extension, critical, whose
 * only purpose is id-kp-timeStamping; a certificate good for anything else is not a TSA's.
 */
export function checkTimeStampingUsage(cert: Certificate): void {
  const fail = (detail: string): never => failCheck('TIMESTAMP_UNTRUSTED', 'tsa-certificate', detail);
  const ekus = (cert.extensions ?? []).filter((e) => e.extnID === OID_EXT_KEY_USAGE);
  if (ekus.length === 0) fail('the TSA certificate has no extendedKeyUsage extension');
  if (ekus.length > 1) fail('the TSA certificate has more than one extendedKeyUsage extension');
  const eku = ekus[0]!;
  if (eku.critical !== true) fail('the extendedKeyUsage extension of the TSA certificate is not critical');
  const usage: unknown = eku.parsedValue;
  if (!(usage instanceof ExtKeyUsage)) fail('the extendedKeyUsage extension of the TSA certificate is unreadable');
  const purposes = (usage as ExtKeyUsage).keyPurposes;
  if (purposes.length !== 1 || purposes[0] !== OID_KP_TIME_STAMPING) {
    fail(`the TSA certificate's extendedKeyUsage must be id-kp-timeStamping alone, got ${purposes.join(', ')}`);
  }
}
