import { OctetString, Sequence, type AsnType } from 'asn1js';
import { Certificate, ContentInfo, IssuerAndSerialNumber, SignedData, TSTInfo, type SignerInfo } from 'pkijs';
import { bytesEqual } from '../encoding/index.js';
import { MAX_TIMESTAMP_BYTES, decodeWhole, encodedBytes } from './asn1-input.js';
import { BoundedCache, bytesKey } from './bounded-cache.js';
import { OID_CT_TST_INFO, OID_SIGNED_DATA } from './oids.js';
import type { SignerCertificate } from './signing-certificate.js';
import { failCheck, underCheckSync } from './timestamp-check.js';

/** A TimeStampToken taken apart: nothing in it is verified yet. */
export interface TokenStructure {
  signedData: SignedData;
  signerInfo: SignerInfo;
  /** The content octets of eContent: the DER TSTInfo the signature covers. */
  tstInfoBytes: Uint8Array;
  tstInfo: TSTInfo;
  /** Every certificate in the SignedData, with its exact encoding. */
  certificates: SignerCertificate[];
  signer: SignerCertificate;
}

/**
 * Decoded certificates by their DER bytes: a TSA puts the same certificate in every token, and
 * decoding one with pkijs costs more than checking the token's signature. Decoding is a function
 * of the bytes; nothing about trust is remembered here.
 */
const decodedCertificates = new BoundedCache<Certificate>(64);

/**
 * Decoded tokens by their bytes: every federation receipt of one epoch carries the same token, and
 * decoding it (asn1js, then pkijs's schema matching) is most of a verification. Only the
 * decoding is remembered, for exactly these bytes; every check of verifyTimestampToken still runs
 * on every call. A token that fails to decode is not remembered.
 */
const decodedTokens = new BoundedCache<TokenStructure>(64);

function malformed(detail: string): never {
  failCheck('TIMESTAMP_MALFORMED', 'structure', detail);
}

/** The certificates of the SignedData `certificates [0] IMPLICIT CertificateSet`, as encoded. */
function certificatesOf(signedDataNode: unknown): SignerCertificate[] {
  if (!(signedDataNode instanceof Sequence)) malformed('the SignedData is not a SEQUENCE');
  const set = signedDataNode.valueBlock.value.find((n) => n.idBlock.tagClass === 3 && n.idBlock.tagNumber === 0);
  if (set === undefined) return [];
  const members = (set as { valueBlock: { value?: AsnType[] } }).valueBlock.value ?? [];
  // Only X.509 certificates (a universal SEQUENCE) can sign; the other CertificateChoices
  // (attribute certificates, other formats: context tags) are ignored.
  return members
    .filter((n) => n instanceof Sequence)
    .map((n) => {
      const der = encodedBytes(n);
      const key = bytesKey(der);
      let cert = decodedCertificates.get(key);
      if (cert === undefined) {
        cert = underCheckSync('TIMESTAMP_MALFORMED', 'structure', 'unreadable certificate in the token', () =>
          Certificate.fromBER(der),
        );
        decodedCertificates.set(key, cert);
      }
      return { cert, der };
    });
}

/** The certificate a SignerInfo's sid names (issuerAndSerialNumber or subjectKeyIdentifier). */
function signerOf(signerInfo: SignerInfo, certificates: readonly SignerCertificate[]): SignerCertificate {
  const sid: unknown = signerInfo.sid;
  let found: SignerCertificate | undefined;
  if (sid instanceof IssuerAndSerialNumber) {
    found = certificates.find(
      (c) => c.cert.issuer.isEqual(sid.issuer) && c.cert.serialNumber.isEqual(sid.serialNumber),
    );
  } else {
    // subjectKeyIdentifier [0]: the value of the certificate's subjectKeyIdentifier extension.
    const node = sid as {
      idBlock?: { isConstructed?: boolean };
      valueBlock?: { value?: AsnType[]; valueHexView?: Uint8Array };
    };
    const keyId = node.idBlock?.isConstructed
      ? (node.valueBlock?.value?.[0] as { valueBlock?: { valueHexView?: Uint8Array } } | undefined)?.valueBlock
          ?.valueHexView
      : node.valueBlock?.valueHexView;
    if (keyId === undefined || keyId.length === 0)
      malformed('the SignerInfo sid is neither issuerAndSerialNumber nor a key identifier');
    found = certificates.find((c) =>
      (c.cert.extensions ?? []).some((e) => {
        const ski = e.extnID === '2.5.29.14' ? (e.parsedValue as unknown) : undefined;
        return ski instanceof OctetString && bytesEqual(new Uint8Array(ski.getValue()), keyId);
      }),
    );
  }
  if (found === undefined) {
    malformed('the token does not carry the TSA certificate its SignerInfo names (was certReq set?)');
  }
  return found;
}

/**
 * Takes a TimeStampToken (attacker-controlled) apart, checking its shape only. RFC 3161 §2.4.2
 * (https://www.rfc-editor.org/rfc/rfc3161#section-2.4.2): "A TimeStampToken is as follows. It is
 * defined as a ContentInfo ([CMS]) and SHALL encapsulate a signed data content type", whose
 * eContentType is id-ct-TSTInfo and whose eContent is the DER-encoded TSTInfo; "The time-stamp
 * token MUST NOT contain any signatures other than the signature of the TSA."
 */
export function parseTokenStructure(tokenDer: Uint8Array): TokenStructure {
  const cacheable = tokenDer instanceof Uint8Array && tokenDer.length <= MAX_TIMESTAMP_BYTES;
  const key = cacheable ? bytesKey(tokenDer) : undefined;
  const known = key === undefined ? undefined : decodedTokens.get(key);
  if (known !== undefined) return known;
  const decoded = decodeTokenStructure(tokenDer);
  if (key !== undefined) decodedTokens.set(key, decoded);
  return decoded;
}

function decodeTokenStructure(tokenDer: Uint8Array): TokenStructure {
  const root = decodeWhole(tokenDer, 'TimeStampToken');
  const contentInfo = underCheckSync(
    'TIMESTAMP_MALFORMED',
    'structure',
    'not a CMS ContentInfo',
    () => new ContentInfo({ schema: root }),
  );
  if (contentInfo.contentType !== OID_SIGNED_DATA) {
    malformed(`the ContentInfo holds ${contentInfo.contentType}, not id-signedData`);
  }
  const signedDataNode: unknown = contentInfo.content;
  const signedData = underCheckSync(
    'TIMESTAMP_MALFORMED',
    'structure',
    'not a CMS SignedData',
    () => new SignedData({ schema: signedDataNode }),
  );
  if (signedData.encapContentInfo.eContentType !== OID_CT_TST_INFO) {
    malformed(`the eContentType is ${signedData.encapContentInfo.eContentType}, not id-ct-TSTInfo`);
  }
  const eContent: unknown = signedData.encapContentInfo.eContent;
  if (!(eContent instanceof OctetString)) malformed('the SignedData has no eContent OCTET STRING');
  const tstInfoBytes = new Uint8Array(eContent.getValue());
  const tstInfoNode = decodeWhole(tstInfoBytes, 'TSTInfo');
  const tstInfo = underCheckSync(
    'TIMESTAMP_MALFORMED',
    'structure',
    'not a TSTInfo',
    () => new TSTInfo({ schema: tstInfoNode }),
  );
  if (tstInfo.version !== 1) malformed(`TSTInfo version is ${tstInfo.version}, not 1`);
  if (!(tstInfo.genTime instanceof Date) || Number.isNaN(tstInfo.genTime.getTime()))
    malformed('TSTInfo genTime is not a time');
  if (signedData.signerInfos.length !== 1) {
    malformed(`the token has ${signedData.signerInfos.length} SignerInfos; it MUST carry only the TSA's signature`);
  }
  const signerInfo = signedData.signerInfos[0]!;
  const certificates = certificatesOf(signedDataNode);
  const signer = signerOf(signerInfo, certificates);
  return { signedData, signerInfo, tstInfoBytes, tstInfo, certificates, signer };
}
