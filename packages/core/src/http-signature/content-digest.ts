import { RemembrancerError } from '../errors.js';
import { crypto } from '../crypto/index.js';
import { bytesEqual } from '../encoding/index.js';
import { trimFieldValue } from './field-value.js';
import { isSfInnerList, parseSfDictionary, serializeSfDictionary, sfBinary, sfItem } from './structured-field.js';

/**
 * RFC 9530 Content-Digest: a Dictionary whose keys name a hash algorithm and whose values are Byte
 * Sequences holding the digest of the message content. https://www.rfc-editor.org/rfc/rfc9530#section-2
 *
 * Only the algorithms the IANA "Hash Algorithms for HTTP Digest Fields" registry marks Active are
 * known here; the deprecated ones (md5, sha, unixsum, ...) are ignored like any unknown key, as
 * §2 lets a recipient ignore any digest.
 */
const KNOWN_DIGEST_LENGTHS: ReadonlyMap<string, number> = new Map([
  ['sha-256', 32],
  ['sha-512', 64],
]);

/** A Content-Digest value is a short header; anything longer than this is not one of ours. */
export const MAX_CONTENT_DIGEST_LENGTH = 4096;

/** The Content-Digest field value for `body`: `sha-256=:<base64 of SHA-256(body)>:`. */
export function contentDigest(body: Uint8Array): string {
  if (!(body instanceof Uint8Array)) throw new RemembrancerError('INVALID_ARGUMENT', 'body must be a Uint8Array');
  return serializeSfDictionary(new Map([['sha-256', sfItem(sfBinary(crypto.sha256(body)))]]));
}

/**
 * Parses a Content-Digest field value (attacker-controlled) into algorithm → digest, keeping only
 * known algorithms, each of which must carry a Byte Sequence of its digest length. Fails with
 * INVALID_ENCODING.
 */
export function parseContentDigest(header: string): Map<string, Uint8Array> {
  const dict = parseSfDictionary(header, { maxLength: MAX_CONTENT_DIGEST_LENGTH });
  const out = new Map<string, Uint8Array>();
  for (const [alg, member] of dict) {
    const length = KNOWN_DIGEST_LENGTHS.get(alg);
    if (length === undefined) continue;
    if (isSfInnerList(member) || member.value.type !== 'binary') {
      throw new RemembrancerError('INVALID_ENCODING', `invalid Content-Digest: ${alg} is not a byte sequence`);
    }
    if (member.value.value.length !== length) {
      throw new RemembrancerError(
        'INVALID_ENCODING',
        `invalid Content-Digest: ${alg} digest must be ${length} bytes, got ${member.value.value.length}`,
      );
    }
    out.set(alg, member.value.value);
  }
  return out;
}

/**
 * Checks that the Content-Digest field value `header` (attacker-controlled; undefined when the
 * field is absent) carries a sha-256 digest equal to SHA-256(body). Every failure, whether the
 * field is missing, malformed, lacks sha-256 or does not match, is CONTENT_DIGEST_MISMATCH. Other
 * algorithms (sha-512) are not checked: the peer profile requires sha-256 and §2 lets a recipient
 * ignore any digest.
 */
export function verifyContentDigest(header: string | undefined, body: Uint8Array): void {
  if (!(body instanceof Uint8Array)) throw new RemembrancerError('INVALID_ARGUMENT', 'body must be a Uint8Array');
  if (header === undefined || header === null) mismatch('missing');
  if (typeof header !== 'string') mismatch('not a string');
  const value = trimFieldValue(header);
  if (value === '') mismatch('missing');
  let digests: Map<string, Uint8Array>;
  try {
    digests = parseContentDigest(value);
  } catch (cause) {
    mismatch('malformed', cause);
  }
  const sha256 = digests.get('sha-256');
  if (sha256 === undefined) mismatch('no sha-256 digest');
  if (!bytesEqual(sha256, crypto.sha256(body))) mismatch('sha-256 digest does not match the body');
}

function mismatch(why: string, cause?: unknown): never {
  throw new RemembrancerError(
    'CONTENT_DIGEST_MISMATCH',
    `Content-Digest: ${why}`,
    cause === undefined ? undefined : { cause },
  );
}
