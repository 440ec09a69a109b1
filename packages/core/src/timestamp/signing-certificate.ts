import { OctetString, Sequence } from 'asn1js';
import { AlgorithmIdentifier, IssuerSerial, type Attribute, type Certificate } from 'pkijs';
import { bytesEqual } from '../encoding/index.js';
import { DIGEST_BY_OID, OID_ATTR_SIGNING_CERTIFICATE, OID_ATTR_SIGNING_CERTIFICATE_V2 } from './oids.js';
import { webDigest } from './pki-engine.js';
import { failCheck, underCheck, underCheckSync } from './timestamp-check.js';

/** The signer certificate of a token: parsed, and its exact encoding as carried in the token. */
export interface SignerCertificate {
  cert: Certificate;
  der: Uint8Array;
}

interface CertId {
  hashName: string;
  certHash: Uint8Array;
  issuerSerial?: IssuerSerial;
}

function fail(detail: string, cause?: unknown): never {
  failCheck('TIMESTAMP_SIGNATURE_INVALID', 'signing-certificate', detail, cause);
}

/**
 * The first certificate identifier of a SigningCertificate (ESSCertID, RFC 2634 §5.4) or
 * SigningCertificateV2 (ESSCertIDv2, RFC 5035 §3) attribute value (attacker-controlled):
 *
 *   SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies ... OPTIONAL }
 *   ESSCertIDv2 ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier DEFAULT {algorithm id-sha256},
 *                              certHash OCTET STRING, issuerSerial IssuerSerial OPTIONAL }
 *   ESSCertID   ::= SEQUENCE { certHash OCTET STRING (SHA-1), issuerSerial IssuerSerial OPTIONAL }
 *
 * RFC 5035 §5.4.1 (likewise RFC 2634 §5.4): "The first certificate identified in the sequence of
 * certificate identifiers MUST be the certificate used to verify the signature."
 */
function firstCertId(value: unknown, v2: boolean): CertId {
  const name = v2 ? 'SigningCertificateV2' : 'SigningCertificate';
  if (!(value instanceof Sequence)) fail(`${name} is not a SEQUENCE`);
  const certs = value.valueBlock.value[0];
  if (!(certs instanceof Sequence) || certs.valueBlock.value.length === 0) {
    fail(`${name} has no certificate identifiers`);
  }
  const id = certs.valueBlock.value[0];
  if (!(id instanceof Sequence)) fail(`the first ESSCertID${v2 ? 'v2' : ''} is not a SEQUENCE`);
  const parts = [...id.valueBlock.value];
  let hashName = 'SHA-1';
  if (v2) {
    hashName = 'SHA-256';
    if (parts[0] instanceof Sequence) {
      const alg = underCheckSync(
        'TIMESTAMP_SIGNATURE_INVALID',
        'signing-certificate',
        'unreadable ESSCertIDv2 hashAlgorithm',
        () => new AlgorithmIdentifier({ schema: parts.shift() }),
      );
      const named = DIGEST_BY_OID.get(alg.algorithmId);
      if (named === undefined || named === 'SHA-1')
        fail(`ESSCertIDv2 hash algorithm ${alg.algorithmId} is not accepted`);
      hashName = named;
    }
  }
  const certHash = parts.shift();
  if (!(certHash instanceof OctetString)) fail('the certHash of the certificate identifier is not an OCTET STRING');
  const issuerSerialNode = parts.shift();
  if (parts.length > 0) fail('the certificate identifier has unexpected members');
  const out: CertId = { hashName, certHash: new Uint8Array(certHash.getValue()) };
  if (issuerSerialNode !== undefined) {
    out.issuerSerial = underCheckSync(
      'TIMESTAMP_SIGNATURE_INVALID',
      'signing-certificate',
      'unreadable issuerSerial',
      () => new IssuerSerial({ schema: issuerSerialNode }),
    );
  }
  return out;
}

/**
 * Checks the ESS signing-certificate binding of a token's signer: RFC 3161 §2.4.2 "The certificate
 * identifier of the TSA certificate MUST be included as a signerInfo attribute inside a
 * SigningCertificate attribute", which RFC 5816 §2.2.1 lets be an ESSCertIDv2 in a
 * SigningCertificateV2 attribute instead. Each present attribute must name the certificate that
 * verified the signature by hash (and by issuer and serial when it gives them). Without this
 * binding a signature could be attributed to another certificate with the same key.
 */
export async function checkSigningCertificate(
  signedAttrs: readonly Attribute[],
  signer: SignerCertificate,
): Promise<void> {
  const v1 = signedAttrs.filter((a) => a.type === OID_ATTR_SIGNING_CERTIFICATE);
  const v2 = signedAttrs.filter((a) => a.type === OID_ATTR_SIGNING_CERTIFICATE_V2);
  if (v1.length === 0 && v2.length === 0) {
    fail('the SignerInfo has neither a signingCertificate nor a signingCertificateV2 signed attribute');
  }
  if (v1.length > 1 || v2.length > 1) fail('a signing-certificate attribute appears more than once');
  for (const [attr, isV2] of [...v1.map((a) => [a, false] as const), ...v2.map((a) => [a, true] as const)]) {
    if (attr.values.length !== 1) fail('a signing-certificate attribute must have exactly one value');
    const id = firstCertId(attr.values[0], isV2);
    const hash = await underCheck('TIMESTAMP_SIGNATURE_INVALID', 'signing-certificate', 'hashing failed', () =>
      webDigest(id.hashName, signer.der),
    );
    if (!bytesEqual(new Uint8Array(hash), id.certHash)) {
      fail(`the ${isV2 ? 'ESSCertIDv2' : 'ESSCertID'} ${id.hashName} certHash does not match the signer certificate`);
    }
    if (id.issuerSerial !== undefined) {
      const { issuer, serialNumber } = id.issuerSerial;
      if (!serialNumber.isEqual(signer.cert.serialNumber)) {
        fail('the issuerSerial serial number does not match the signer certificate');
      }
      const named = issuer.names.some((n) => n.type === 4 && signer.cert.issuer.isEqual(n.value));
      if (!named) fail('the issuerSerial issuer does not name the issuer of the signer certificate');
    }
  }
}
