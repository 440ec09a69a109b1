import { ObjectIdentifier, OctetString } from 'asn1js';
import type { Attribute, ICryptoEngine } from 'pkijs';
import { bytesEqual } from '../encoding/index.js';
import { DIGEST_BY_OID, OID_ATTR_CONTENT_TYPE, OID_ATTR_MESSAGE_DIGEST, OID_CT_TST_INFO } from './oids.js';
import { webDigest } from './pki-engine.js';
import { failCheck, underCheck } from './timestamp-check.js';
import type { TokenStructure } from './token-structure.js';

/** RSASSA-PKCS1-v1_5 keys name no hash in their algorithm: the SignerInfo digestAlgorithm gives it. */
const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';

function fail(detail: string, cause?: unknown): never {
  failCheck('TIMESTAMP_SIGNATURE_INVALID', 'signature', detail, cause);
}

/** The single value of the signed attribute `type`: RFC 5652 §5.3 allows each at most once. */
function singleValue(attrs: readonly Attribute[], type: string, name: string): unknown {
  const found = attrs.filter((a) => a.type === type);
  if (found.length !== 1) fail(`the signed attributes must hold exactly one ${name} attribute, found ${found.length}`);
  const values = found[0]!.values;
  if (values.length !== 1) fail(`the ${name} attribute must have exactly one value`);
  return values[0];
}

/**
 * Verifies the CMS signature of the token (RFC 5652 §5.4, §5.6,
 * https://www.rfc-editor.org/rfc/rfc5652#section-5.4): the signed attributes are present (RFC 3161
 * needs them for the signing-certificate attribute); their content-type is id-ct-TSTInfo (§11.1:
 * it "MUST" be present and equal the eContentType); their message-digest equals the digest of the
 * eContent octets under the SignerInfo digest algorithm (§11.2); and the signature over the DER
 * SET OF signed attributes verifies with the signer certificate's public key.
 */
export async function checkCmsSignature(token: TokenStructure, engine: ICryptoEngine): Promise<void> {
  const { signerInfo, tstInfoBytes, signer } = token;
  const signedAttrs = signerInfo.signedAttrs;
  if (signedAttrs === undefined || signedAttrs.attributes.length === 0) fail('the SignerInfo has no signed attributes');
  const attrs = signedAttrs.attributes;
  const contentType = singleValue(attrs, OID_ATTR_CONTENT_TYPE, 'content-type');
  if (!(contentType instanceof ObjectIdentifier) || contentType.valueBlock.toString() !== OID_CT_TST_INFO) {
    fail('the content-type attribute is not id-ct-TSTInfo');
  }
  const messageDigest = singleValue(attrs, OID_ATTR_MESSAGE_DIGEST, 'message-digest');
  if (!(messageDigest instanceof OctetString)) fail('the message-digest attribute is not an OCTET STRING');
  const digestName = DIGEST_BY_OID.get(signerInfo.digestAlgorithm.algorithmId);
  if (digestName === undefined || digestName === 'SHA-1') {
    fail(`the SignerInfo digest algorithm ${signerInfo.digestAlgorithm.algorithmId} is not accepted (SHA-256/384/512)`);
  }
  const digest = await underCheck('TIMESTAMP_SIGNATURE_INVALID', 'signature', 'hashing the TSTInfo failed', () =>
    webDigest(digestName, tstInfoBytes),
  );
  if (!bytesEqual(new Uint8Array(digest), new Uint8Array(messageDigest.getValue()))) {
    fail('the message-digest attribute does not match the TSTInfo (the TSTInfo was altered)');
  }
  const rsa = signerInfo.signatureAlgorithm.algorithmId === OID_RSA_ENCRYPTION;
  const ok = await underCheck('TIMESTAMP_SIGNATURE_INVALID', 'signature', 'the signature could not be checked', () =>
    engine.verifyWithPublicKey(
      signedAttrs.encodedValue,
      signerInfo.signature,
      signer.cert.subjectPublicKeyInfo,
      signerInfo.signatureAlgorithm,
      rsa ? digestName : undefined,
    ),
  );
  if (ok !== true) fail('the signature over the signed attributes does not verify with the TSA certificate');
}
