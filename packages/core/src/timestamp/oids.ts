/**
 * Object identifiers of RFC 3161 time-stamping and the CMS, X.509 and ESS structures around it.
 * https://www.rfc-editor.org/rfc/rfc3161 · https://www.rfc-editor.org/rfc/rfc5652 ·
 * https://www.rfc-editor.org/rfc/rfc5035 · https://www.rfc-editor.org/rfc/rfc5816
 */

/** id-signedData (RFC 5652 §5.1): a TimeStampToken is a ContentInfo of this type (RFC 3161 §2.4.2). */
export const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
/** id-ct-TSTInfo (RFC 3161 §2.4.2): the eContentType of the SignedData of a TimeStampToken. */
export const OID_CT_TST_INFO = '1.2.840.113549.1.9.16.1.4';

/** id-contentType and id-messageDigest signed attributes (RFC 5652 §11.1, §11.2). */
export const OID_ATTR_CONTENT_TYPE = '1.2.840.113549.1.9.3';
export const OID_ATTR_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
/** id-aa-signingCertificate (ESSCertID, SHA-1; RFC 2634 §5.4) and id-aa-signingCertificateV2 (RFC 5035 §3). */
export const OID_ATTR_SIGNING_CERTIFICATE = '1.2.840.113549.1.9.16.2.12';
export const OID_ATTR_SIGNING_CERTIFICATE_V2 = '1.2.840.113549.1.9.16.2.47';

/** id-ce-extKeyUsage (RFC 5280 §4.2.1.12) and id-kp-timeStamping (RFC 3161 §2.3). */
export const OID_EXT_KEY_USAGE = '2.5.29.37';
export const OID_KP_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';
/** id-ce-subjectAltName (RFC 5280 §4.2.1.6): where a TSTInfo `tsa` name other than the subject may be. */
export const OID_SUBJECT_ALT_NAME = '2.5.29.17';

/** id-sha256 (RFC 5754 §2.2): the only message-imprint algorithm we request and accept. */
export const OID_SHA256 = '2.16.840.1.101.3.4.2.1';

/** Digest algorithms by OID, named as WebCrypto names them. */
export const DIGEST_BY_OID: ReadonlyMap<string, 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512'> = new Map([
  ['1.3.14.3.2.26', 'SHA-1'],
  [OID_SHA256, 'SHA-256'],
  ['2.16.840.1.101.3.4.2.2', 'SHA-384'],
  ['2.16.840.1.101.3.4.2.3', 'SHA-512'],
]);
