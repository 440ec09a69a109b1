import { bytesEqual } from '../encoding/index.js';
import { RemembrancerError } from '../errors.js';
import { checkCmsSignature } from './cms-signature.js';
import { formatDistinguishedName } from './distinguished-name.js';
import { OID_SHA256 } from './oids.js';
import { pkiEngine } from './pki-engine.js';
import { checkSignerChain } from './signer-chain.js';
import { checkSigningCertificate } from './signing-certificate.js';
import { failCheck } from './timestamp-check.js';
import { parseTokenStructure } from './token-structure.js';
import { parseTrustAnchors } from './trust-anchors.js';
import { checkTimeStampingUsage } from './tsa-certificate.js';
import { checkTsaName } from './tsa-name.js';
import type { TimestampExpectation, VerifiedTimestamp } from './verified-timestamp.js';

/** The range of an ECMAScript Date (±100,000,000 days from the epoch). */
const MAX_DATE_MS = 8.64e15;

function checkExpectation(expect: TimestampExpectation): void {
  if (typeof expect !== 'object' || expect === null) {
    throw new RemembrancerError('INVALID_ARGUMENT', 'a timestamp expectation object is required');
  }
  if (!(expect.digest instanceof Uint8Array) || expect.digest.length !== 32) {
    throw new RemembrancerError('INVALID_ARGUMENT', 'expect.digest must be the 32 bytes of a SHA-256 hash');
  }
  if (expect.nonce !== undefined && typeof expect.nonce !== 'bigint') {
    throw new RemembrancerError('INVALID_ARGUMENT', 'expect.nonce must be a bigint');
  }
  const w = expect.genTimeWindow;
  const isTime = (ms: unknown): boolean => typeof ms === 'number' && Math.abs(ms) <= MAX_DATE_MS;
  if (w !== undefined && !(isTime(w.notBeforeMs) && isTime(w.notAfterMs) && w.notBeforeMs <= w.notAfterMs)) {
    throw new RemembrancerError(
      'INVALID_ARGUMENT',
      'expect.genTimeWindow must be two times with notBeforeMs <= notAfterMs',
    );
  }
}

/** RFC 3339 UTC (`Z`), with milliseconds only when genTime has them. */
function rfc3339(date: Date): string {
  return date.toISOString().replace('.000Z', 'Z');
}

/**
 * Verifies an RFC 3161 TimeStampToken offline (https://www.rfc-editor.org/rfc/rfc3161#section-2.4.2).
 * `tokenDer` is attacker-controlled. Checks, in order, each failing with its own code and name:
 *
 * 1. structure (TIMESTAMP_MALFORMED): ContentInfo → SignedData → eContentType id-ct-TSTInfo →
 *    TSTInfo v1; exactly one SignerInfo; the signer certificate is in the token.
 * 2. signature (TIMESTAMP_SIGNATURE_INVALID): content-type and message-digest signed attributes,
 *    and the CMS signature over the signed attributes with the signer certificate's key.
 * 3. signing-certificate (TIMESTAMP_SIGNATURE_INVALID): ESSCertIDv2 (RFC 5816) or ESSCertID binds
 *    the signature to that certificate.
 * 4. tsa-certificate (TIMESTAMP_UNTRUSTED): one critical extendedKeyUsage, id-kp-timeStamping only.
 * 5. chain (TIMESTAMP_UNTRUSTED): the certificate chains to a trust anchor, valid at genTime.
 * 6. tsa-name (TIMESTAMP_UNTRUSTED): the TSTInfo `tsa` name, if any, is the signer's.
 * 7. message-imprint, nonce, policy (TIMESTAMP_MISMATCH): SHA-256 imprint equal to expect.digest;
 *    nonce and policy equal to the expected ones when given.
 * 8. gen-time (TIMESTAMP_TIME_INVALID): genTime inside expect.genTimeWindow when given.
 *
 * Authenticity comes first, so nothing the token says is compared before its signature holds.
 * Throws INVALID_ARGUMENT for an unusable expectation (no trust anchor, a digest of the wrong size).
 */
export async function verifyTimestampToken(
  tokenDer: Uint8Array,
  expect: TimestampExpectation,
): Promise<VerifiedTimestamp> {
  checkExpectation(expect);
  const anchors = parseTrustAnchors(expect.trustAnchorsPem);
  const engine = pkiEngine();
  const token = parseTokenStructure(tokenDer);
  const { tstInfo, signer } = token;

  await checkCmsSignature(token, engine);
  await checkSigningCertificate(token.signerInfo.signedAttrs?.attributes ?? [], signer);
  checkTimeStampingUsage(signer.cert);
  await checkSignerChain(token, anchors, engine);
  checkTsaName(tstInfo.tsa, signer.cert);

  const imprint = tstInfo.messageImprint;
  if (imprint.hashAlgorithm.algorithmId !== OID_SHA256) {
    failCheck(
      'TIMESTAMP_MISMATCH',
      'message-imprint',
      `the imprint algorithm is ${imprint.hashAlgorithm.algorithmId}, not SHA-256`,
    );
  }
  // RFC 3161 §2.4.2: messageImprint "MUST have the same value as the similar field in TimeStampReq".
  if (!bytesEqual(new Uint8Array(imprint.hashedMessage.getValue()), expect.digest)) {
    failCheck('TIMESTAMP_MISMATCH', 'message-imprint', 'the token time-stamps another digest');
  }
  if (expect.nonce !== undefined) {
    // RFC 3161 §2.4.2: the nonce "MUST be present if it was present in the TimeStampReq. In such a
    // case it MUST equal the value provided in the TimeStampReq structure."
    if (tstInfo.nonce === undefined) failCheck('TIMESTAMP_MISMATCH', 'nonce', 'the token carries no nonce');
    if (tstInfo.nonce.toBigInt() !== expect.nonce)
      failCheck('TIMESTAMP_MISMATCH', 'nonce', 'the token carries another nonce');
  }
  if (expect.policyOid !== undefined && tstInfo.policy !== expect.policyOid) {
    failCheck('TIMESTAMP_MISMATCH', 'policy', `the token is under policy ${tstInfo.policy}, not ${expect.policyOid}`);
  }
  const genTime = tstInfo.genTime;
  const w = expect.genTimeWindow;
  if (w !== undefined && (genTime.getTime() < w.notBeforeMs || genTime.getTime() > w.notAfterMs)) {
    failCheck(
      'TIMESTAMP_TIME_INVALID',
      'gen-time',
      `genTime ${rfc3339(genTime)} is outside ${new Date(w.notBeforeMs).toISOString()} .. ${new Date(w.notAfterMs).toISOString()}`,
    );
  }
  return {
    tokenDer: tokenDer.slice(),
    genTime: new Date(genTime.getTime()),
    genTimeIso: rfc3339(genTime),
    serialNumber: tstInfo.serialNumber.toBigInt().toString(10),
    policyOid: tstInfo.policy,
    tsaSubject: formatDistinguishedName(signer.cert.subject),
  };
}
