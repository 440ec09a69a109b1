import { AltName, type Certificate, type GeneralName } from 'pkijs';
import { bytesEqual } from '../encoding/index.js';
import { OID_SUBJECT_ALT_NAME } from './oids.js';
import { failCheck, underCheckSync } from './timestamp-check.js';

/** GeneralName tag of a directoryName (RFC 5280 §4.2.1.6). */
const DIRECTORY_NAME = 4;

function encodeName(name: GeneralName): Uint8Array {
  return new Uint8Array((name.toSchema() as { toBER(): ArrayBuffer }).toBER());
}

/**
 * RFC 3161 §2.4.2: the TSTInfo `tsa` field "is to give a hint in identifying the name of the TSA.
 * If present, it MUST correspond to one of the subject names included in the certificate that is
 * to be used to verify the token." A directoryName must equal the subject (or a directoryName of
 * subjectAltName); any other form must equal one of the subjectAltName entries.
 */
export function checkTsaName(tsa: GeneralName | undefined, cert: Certificate): void {
  if (tsa === undefined) return;
  const altNames = (cert.extensions ?? [])
    .filter((e) => e.extnID === OID_SUBJECT_ALT_NAME && e.parsedValue instanceof AltName)
    .flatMap((e) => (e.parsedValue as AltName).altNames);
  const matches = underCheckSync('TIMESTAMP_UNTRUSTED', 'tsa-name', 'unreadable TSTInfo tsa name', () => {
    if (tsa.type === DIRECTORY_NAME && cert.subject.isEqual(tsa.value)) return true;
    const encoded = encodeName(tsa);
    return altNames.some((n) => bytesEqual(encodeName(n), encoded));
  });
  if (!matches)
    failCheck('TIMESTAMP_UNTRUSTED', 'tsa-name', 'the TSTInfo tsa name is not a name of the signer certificate');
}
