import { Integer, OctetString } from 'asn1js';
import { AlgorithmIdentifier, MessageImprint, TimeStampReq } from 'pkijs';
import { RemembrancerError } from '../errors.js';
import { crypto } from '../crypto/index.js';
import { OID_SHA256 } from './oids.js';

export interface TimestampRequestInput {
  /** SHA-256 of the data to time-stamp (32 bytes). */
  digest: Uint8Array;
  /** A fresh random nonce (randomNonce()); the token must echo it (RFC 3161 §2.4.2). */
  nonce: bigint;
  /** The TSA policy to ask for (dotted decimal), when the caller requires one. */
  policyOid?: string;
}

/** Dotted-decimal object identifier: first arc 0-2, no leading zeros. */
export const OID_PATTERN = /^[0-2](\.(0|[1-9][0-9]{0,38})){1,63}$/;

/** Nonces are positive and at most 160 bits: large enough to be unique, small enough for any TSA. */
const MAX_NONCE = (1n << 160n) - 1n;

/**
 * The DER TimeStampReq of RFC 3161 §2.4.1 (https://www.rfc-editor.org/rfc/rfc3161#section-2.4.1):
 * version 1; messageImprint with the SHA-256 AlgorithmIdentifier (parameters absent, as RFC 5754
 * §2 says to generate them) and the digest; reqPolicy when given; the nonce; certReq TRUE, so the
 * TSA puts its certificate in the token and the token verifies offline with only a trust anchor.
 */
export function buildTimestampRequest(input: TimestampRequestInput): Uint8Array {
  const { digest, nonce, policyOid } = input;
  if (!(digest instanceof Uint8Array) || digest.length !== 32) {
    throw new RemembrancerError('INVALID_ARGUMENT', 'digest must be the 32 bytes of a SHA-256 hash');
  }
  if (typeof nonce !== 'bigint' || nonce <= 0n || nonce > MAX_NONCE) {
    throw new RemembrancerError('INVALID_ARGUMENT', 'nonce must be a positive integer of at most 160 bits');
  }
  if (policyOid !== undefined && (typeof policyOid !== 'string' || !OID_PATTERN.test(policyOid))) {
    throw new RemembrancerError('INVALID_ARGUMENT', `policyOid must be a dotted-decimal OID, got ${String(policyOid)}`);
  }
  const request = new TimeStampReq({
    version: 1,
    messageImprint: new MessageImprint({
      hashAlgorithm: new AlgorithmIdentifier({ algorithmId: OID_SHA256 }),
      hashedMessage: new OctetString({ valueHex: digest.slice() }),
    }),
    nonce: Integer.fromBigInt(nonce),
    certReq: true,
    ...(policyOid === undefined ? {} : { reqPolicy: policyOid }),
  });
  return new Uint8Array(request.toSchema().toBER());
}

/**
 * A 64-bit positive nonce from the crypto provider's randomness. RFC 3161 §2.4.1: the nonce is
 * "a large random number with a high probability that the client generates it only once".
 */
export function randomNonce(): bigint {
  for (;;) {
    let n = 0n;
    for (const b of crypto.randomBytes(8)) n = (n << 8n) | BigInt(b);
    if (n !== 0n) return n;
  }
}
