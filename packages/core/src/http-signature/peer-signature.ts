import { RemembrancerError } from '../errors.js';
import { crypto } from '../crypto/index.js';
import { toHex, utf8Encode } from '../encoding/index.js';
import { contentDigest as computeContentDigest, parseContentDigest, verifyContentDigest } from './content-digest.js';
import { combineFieldLines, type HeaderValue } from './field-value.js';
import { signatureBase } from './signature-base.js';
import { formatSignatureFields, parseSignatureFields } from './signature-fields.js';
import {
  SF_MAX_INTEGER,
  isSfStringValue,
  serializeSfInnerList,
  sfInteger,
  sfItem,
  sfString,
  type SfBareItem,
  type SfInnerList,
} from './structured-field.js';

/**
 * The peer-request profile of RFC 9421 HTTP Message Signatures that federation nodes use on every
 * peer-to-peer request (RFC 9421 §1.4 asks each application to fix these choices):
 *
 * - covered components exactly `"@method"`, `"@target-uri"` and `"content-digest"`, without
 *   component parameters, so method, full URI and (through RFC 9530 Content-Digest) the body are
 *   all signed;
 * - signature parameters exactly `created` (Integer, Unix seconds), `nonce` (String), `keyid`
 *   (String) and `alg="ed25519"`, nothing else (no `expires`, no `tag`);
 * - Ed25519 (RFC 9421 §3.3.6, RFC 8032) over the signature base, label `sig1` by default.
 *
 * What this module cannot know stays with the caller: which peer a keyid names and whether it is
 * active (key lookup), and whether a nonce was seen before (replay cache).
 */
export const PEER_SIGNATURE_LABEL = 'sig1';
export const PEER_SIGNATURE_COMPONENTS = ['@method', '@target-uri', 'content-digest'] as const;
export const PEER_SIGNATURE_ALG = 'ed25519';
/** Default accepted distance between `created` and the verifier's clock, either way. */
export const DEFAULT_MAX_SKEW_SECONDS = 120;
export const MAX_NONCE_LENGTH = 128;
export const MAX_KEYID_LENGTH = 256;

const ED25519_SIGNATURE_LENGTH = 64;
const PARAMETER_NAMES = new Set(['created', 'nonce', 'keyid', 'alg']);

export interface PeerSignatureParams {
  readonly created: number;
  readonly nonce: string;
  readonly keyid: string;
  readonly alg: typeof PEER_SIGNATURE_ALG;
}

/** A peer signature taken from the Signature-Input and Signature fields and checked against the profile. */
export interface ParsedSignature {
  readonly label: string;
  /** Covered component names in signed order; always the three of PEER_SIGNATURE_COMPONENTS. */
  readonly components: readonly string[];
  readonly params: PeerSignatureParams;
  /** The Signature-Input member as parsed, the source of the `@signature-params` line. */
  readonly signatureParams: SfInnerList;
  /** The 64-byte Ed25519 signature. */
  readonly signature: Uint8Array;
}

interface SignRequestCommon {
  /** The method exactly as sent on the wire, e.g. `POST`. */
  readonly method: string;
  /** The absolute target URI, in the form `new URL(uri).href` gives, e.g. `https://beta.example:8443/v1/witness/add-checkpoint`. */
  readonly targetUri: string;
  readonly keyid: string;
  /** The 32-byte Ed25519 private seed. */
  readonly seed: Uint8Array;
  /** Unix seconds; defaults to now. */
  readonly created?: number;
  /** Defaults to 128 random bits in hex. */
  readonly nonce?: string;
  /** Defaults to `sig1`. */
  readonly label?: string;
}

/** What to sign: give the body (its Content-Digest is computed) or a Content-Digest value already computed. */
export type SignRequestInput = SignRequestCommon &
  (
    | { readonly body: Uint8Array; readonly contentDigest?: undefined }
    | { readonly contentDigest: string; readonly body?: undefined }
  );

/** Headers to add to the request, names in lowercase. */
export interface SignedRequestHeaders {
  readonly 'signature-input': string;
  readonly signature: string;
  /** The Content-Digest value that was signed; it must be sent unchanged. */
  readonly 'content-digest': string;
}

export interface VerifyRequestSignatureInput {
  readonly method: string;
  /** The absolute target URI as the signer saw it: the node's public origin plus the request target. */
  readonly targetUri: string;
  readonly headers: {
    readonly 'signature-input'?: HeaderValue;
    readonly signature?: HeaderValue;
    readonly 'content-digest'?: HeaderValue;
  };
  readonly body: Uint8Array;
  /** The peer's Ed25519 public key, or a lookup by keyid that returns undefined for unknown keys. */
  readonly publicKey: Uint8Array | ((keyid: string) => Uint8Array | undefined);
  /** The verifier's clock in Unix seconds; a fraction is dropped, as signers drop it from `created`. */
  readonly now: number;
  readonly maxSkewSeconds?: number;
  readonly label?: string;
}

export interface VerifiedRequestSignature {
  readonly keyid: string;
  readonly created: number;
  /** For the caller's replay cache. */
  readonly nonce: string;
}

function invalidArgument(why: string): never {
  throw new RemembrancerError('INVALID_ARGUMENT', why);
}

function malformed(why: string): never {
  throw new RemembrancerError('SIGNATURE_INPUT_MALFORMED', `malformed peer signature: ${why}`);
}

/** A method is a token (RFC 9110 §9.1); peers send the registered, uppercase ones. */
function checkMethod(method: string): void {
  if (typeof method !== 'string' || !/^[A-Z0-9!#$%&'*+\-.^_`|~]+$/.test(method)) {
    invalidArgument(`method ${JSON.stringify(method)} must be an uppercase token exactly as sent, e.g. POST`);
  }
}

/**
 * The signer's target URI must be an absolute http(s) URI without userinfo or fragment in its
 * WHATWG-normalized form, which is what fetch() puts on the wire, so the verifier can rebuild it
 * byte for byte (RFC 9421 §2.2.2).
 */
function checkSigningTargetUri(uri: string): void {
  if (typeof uri !== 'string') invalidArgument('targetUri must be a string');
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    return invalidArgument(`targetUri ${JSON.stringify(uri)} is not an absolute URI`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    invalidArgument(`targetUri ${JSON.stringify(uri)} is not http or https`);
  if (parsed.username !== '' || parsed.password !== '') invalidArgument('targetUri must not carry userinfo');
  if (uri.includes('#')) invalidArgument('targetUri must not carry a fragment');
  if (parsed.href !== uri)
    invalidArgument(`targetUri ${JSON.stringify(uri)} is not normalized; use ${JSON.stringify(parsed.href)}`);
}

function isValidCreated(created: unknown): created is number {
  return typeof created === 'number' && Number.isSafeInteger(created) && created >= 0 && created <= SF_MAX_INTEGER;
}

function isValidNonce(nonce: unknown): nonce is string {
  return typeof nonce === 'string' && nonce.length > 0 && nonce.length <= MAX_NONCE_LENGTH && isSfStringValue(nonce);
}

function isValidKeyid(keyid: unknown): keyid is string {
  return typeof keyid === 'string' && keyid.length > 0 && keyid.length <= MAX_KEYID_LENGTH && isSfStringValue(keyid);
}

function signingDigest(input: SignRequestInput): string {
  if (input.body !== undefined) {
    if (input.contentDigest !== undefined) invalidArgument('give either body or contentDigest, not both');
    if (!(input.body instanceof Uint8Array)) invalidArgument('body must be a Uint8Array');
    return computeContentDigest(input.body);
  }
  const digest = input.contentDigest;
  if (typeof digest !== 'string') invalidArgument('give the body or its contentDigest');
  let digests: Map<string, Uint8Array>;
  try {
    digests = parseContentDigest(digest);
  } catch (cause) {
    throw new RemembrancerError(
      'INVALID_ARGUMENT',
      `contentDigest ${JSON.stringify(digest)} is not a valid Content-Digest value`,
      { cause },
    );
  }
  if (!digests.has('sha-256')) invalidArgument('contentDigest must carry a sha-256 digest');
  if (/^[ \t]|[ \t]$/.test(digest)) invalidArgument('contentDigest must not have leading or trailing whitespace');
  return digest;
}

/** The value of `signatureParams.items[i]`, in the order the signature lists them. */
function componentValues(
  signatureParams: SfInnerList,
  values: Readonly<Record<(typeof PEER_SIGNATURE_COMPONENTS)[number], string>>,
): string[] {
  return signatureParams.items.map((item) => values[item.value.value as (typeof PEER_SIGNATURE_COMPONENTS)[number]]);
}

/**
 * Signs a peer request: builds the Signature-Input member
 * `("@method" "@target-uri" "content-digest");created=…;nonce="…";keyid="…";alg="ed25519"`, the
 * RFC 9421 §2.5 signature base over it, and the Ed25519 signature. Invalid input (lowercase or
 * malformed method, non-normalized URI, bad digest, key, keyid, nonce, created or label) fails
 * with INVALID_ARGUMENT.
 */
export function signRequest(input: SignRequestInput): SignedRequestHeaders {
  const label = input.label ?? PEER_SIGNATURE_LABEL;
  checkMethod(input.method);
  checkSigningTargetUri(input.targetUri);
  const digest = signingDigest(input);
  if (!isValidKeyid(input.keyid)) invalidArgument(`keyid must be 1 to ${MAX_KEYID_LENGTH} printable ASCII characters`);
  if (!(input.seed instanceof Uint8Array) || input.seed.length !== 32)
    invalidArgument('seed must be a 32-byte Ed25519 private seed');
  const created = input.created ?? Math.floor(Date.now() / 1000);
  if (!isValidCreated(created))
    invalidArgument(`created must be a non-negative integer number of seconds, got ${String(created)}`);
  const nonce = input.nonce ?? toHex(crypto.randomBytes(16));
  if (!isValidNonce(nonce)) invalidArgument(`nonce must be 1 to ${MAX_NONCE_LENGTH} printable ASCII characters`);
  const signatureParams: SfInnerList = {
    items: PEER_SIGNATURE_COMPONENTS.map((name) => sfItem(sfString(name))),
    params: new Map<string, SfBareItem>([
      ['created', sfInteger(created)],
      ['nonce', sfString(nonce)],
      ['keyid', sfString(input.keyid)],
      ['alg', sfString(PEER_SIGNATURE_ALG)],
    ]),
  };
  const base = signatureBase(
    signatureParams,
    componentValues(signatureParams, {
      '@method': input.method,
      '@target-uri': input.targetUri,
      'content-digest': digest,
    }),
  );
  const signature = crypto.ed25519Sign(input.seed, utf8Encode(base));
  return { ...formatSignatureFields(label, signatureParams, signature), 'content-digest': digest };
}

/**
 * Parses the Signature-Input and Signature field values (attacker-controlled) and checks the
 * signature labelled `label` (default `sig1`) against the peer profile: exactly the three covered
 * components, each once and without parameters; exactly the parameters created (non-negative
 * Integer), nonce and keyid (non-empty Strings, bounded) and alg (the String "ed25519"); a 64-byte
 * signature. Fails with SIGNATURE_MISSING when there is no signature, SIGNATURE_INPUT_MALFORMED
 * otherwise. The signature itself is not verified here.
 */
export function parseSignatureHeaders(fields: {
  signatureInput: HeaderValue;
  signature: HeaderValue;
  label?: string;
}): ParsedSignature {
  const { label, input, signature } = parseSignatureFields({
    signatureInput: fields.signatureInput,
    signature: fields.signature,
    label: fields.label ?? PEER_SIGNATURE_LABEL,
  });
  const components = input.items.map((item) => item.value.value as string);
  const covered = serializeSfInnerList({ items: input.items, params: new Map() });
  const required: readonly string[] = PEER_SIGNATURE_COMPONENTS;
  if (input.items.some((item) => item.params.size > 0))
    malformed(`covered components must not have parameters: ${covered}`);
  if (
    components.length !== required.length ||
    new Set(components).size !== components.length ||
    !components.every((c) => required.includes(c))
  ) {
    malformed(`must cover exactly ("@method" "@target-uri" "content-digest"), covers ${covered}`);
  }
  for (const name of input.params.keys()) {
    if (!PARAMETER_NAMES.has(name)) malformed(`unexpected signature parameter ${JSON.stringify(name)}`);
  }
  const created = input.params.get('created');
  const nonce = input.params.get('nonce');
  const keyid = input.params.get('keyid');
  const alg = input.params.get('alg');
  if (created === undefined || nonce === undefined || keyid === undefined || alg === undefined) {
    malformed('created, nonce, keyid and alg are all required');
  }
  if (created.type !== 'integer' || !isValidCreated(created.value)) malformed('created must be a non-negative integer');
  if (nonce.type !== 'string' || !isValidNonce(nonce.value))
    malformed(`nonce must be a string of 1 to ${MAX_NONCE_LENGTH} characters`);
  if (keyid.type !== 'string' || !isValidKeyid(keyid.value))
    malformed(`keyid must be a string of 1 to ${MAX_KEYID_LENGTH} characters`);
  if (alg.type !== 'string' || alg.value !== PEER_SIGNATURE_ALG) malformed(`alg must be "${PEER_SIGNATURE_ALG}"`);
  if (signature.length !== ED25519_SIGNATURE_LENGTH)
    malformed(`an Ed25519 signature is 64 bytes, got ${signature.length}`);
  return {
    label,
    components,
    params: { created: created.value, nonce: nonce.value, keyid: keyid.value, alg: PEER_SIGNATURE_ALG },
    signatureParams: input,
    signature,
  };
}

/** What the signature fields vouch for, checked before the body is read: see verifyRequestSignatureHeaders. */
export interface VerifiedSignatureHeaders extends VerifiedRequestSignature {
  /** The signed Content-Digest value, to check against the body once it has arrived (verifyContentDigest). */
  readonly contentDigest: string;
}

/**
 * Steps 1 to 5 of verifyRequestSignature, which need the header fields only: a receiver runs them
 * before it reads (let alone parses) the body, then checks the returned `contentDigest` against
 * the body bytes with verifyContentDigest. The signature covers the Content-Digest value, not the
 * body itself (RFC 9421 §7.2.8, RFC 9530 §6.3), so a request whose headers verify is a peer's and
 * only the body remains to be matched to the digest it signed.
 */
export function verifyRequestSignatureHeaders(
  input: Omit<VerifyRequestSignatureInput, 'body'>,
): VerifiedSignatureHeaders {
  const maxSkew = input.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS;
  if (typeof maxSkew !== 'number' || !Number.isFinite(maxSkew) || maxSkew < 0)
    invalidArgument('maxSkewSeconds must be a non-negative number');
  if (typeof input.now !== 'number' || !Number.isFinite(input.now))
    invalidArgument('now must be a finite number of Unix seconds');
  if (typeof input.method !== 'string' || typeof input.targetUri !== 'string')
    invalidArgument('method and targetUri must be strings');
  const headers = input.headers ?? {};

  const parsed = parseSignatureHeaders({
    signatureInput: headers['signature-input'],
    signature: headers.signature,
    label: input.label ?? PEER_SIGNATURE_LABEL,
  });
  const { keyid, created, nonce } = parsed.params;

  const publicKey = typeof input.publicKey === 'function' ? input.publicKey(keyid) : input.publicKey;
  if (publicKey === undefined || publicKey === null) {
    throw new RemembrancerError('PEER_KEY_UNKNOWN', `unknown peer key ${JSON.stringify(keyid)}`);
  }
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32)
    invalidArgument(`the public key for ${JSON.stringify(keyid)} is not a 32-byte Ed25519 key`);

  const digest = combineFieldLines(headers['content-digest']);
  if (digest === undefined || digest === '')
    throw new RemembrancerError('CONTENT_DIGEST_MISMATCH', 'Content-Digest: missing');
  let digests: Map<string, Uint8Array>;
  try {
    digests = parseContentDigest(digest);
  } catch (cause) {
    throw new RemembrancerError('CONTENT_DIGEST_MISMATCH', 'Content-Digest: malformed', { cause });
  }
  if (!digests.has('sha-256'))
    throw new RemembrancerError('CONTENT_DIGEST_MISMATCH', 'Content-Digest: no sha-256 digest');

  let base: string;
  try {
    base = signatureBase(
      parsed.signatureParams,
      componentValues(parsed.signatureParams, {
        '@method': input.method,
        '@target-uri': input.targetUri,
        'content-digest': digest,
      }),
    );
  } catch (cause) {
    // Only a request no peer could have signed gets here (say, a raw non-ASCII byte in the path).
    throw new RemembrancerError('SIGNATURE_INVALID', 'the request cannot be covered by a peer signature', { cause });
  }
  if (!crypto.ed25519Verify(publicKey, utf8Encode(base), parsed.signature)) {
    throw new RemembrancerError(
      'SIGNATURE_INVALID',
      `signature ${parsed.label} by ${JSON.stringify(keyid)} does not verify`,
    );
  }

  const now = Math.floor(input.now);
  const off = created - now;
  if (Math.abs(off) > maxSkew) {
    throw new RemembrancerError(
      'SIGNATURE_EXPIRED',
      `signature created at ${created} is ${Math.abs(off)} s off the verifier's clock (${Math.abs(off)} s ${off > 0 ? 'in the future' : 'in the past'}); the accepted window is ±${maxSkew} s`,
    );
  }
  return { keyid, created, nonce, contentDigest: digest };
}

/**
 * Verifies a peer request. In order, each step failing with its own code so the node can answer:
 *
 * 1. the Signature-Input and Signature fields parse and fit the profile (SIGNATURE_MISSING,
 *    SIGNATURE_INPUT_MALFORMED; see parseSignatureHeaders);
 * 2. the keyid names a known key (PEER_KEY_UNKNOWN);
 * 3. a Content-Digest field with a sha-256 digest is present (CONTENT_DIGEST_MISMATCH);
 * 4. the Ed25519 signature verifies over the signature base rebuilt from `method`, `targetUri`
 *    and the received Content-Digest value (SIGNATURE_INVALID);
 * 5. `created` is within ±maxSkewSeconds (default 120) of `now` (SIGNATURE_EXPIRED; checked only
 *    once the signature vouches for `created`);
 * 6. the signed sha-256 digest matches the body (CONTENT_DIGEST_MISMATCH).
 *
 * Returns keyid, created and nonce; replay detection on the nonce is the caller's. Everything in
 * `headers`, `targetUri`'s request target and `body` is attacker-controlled. Invalid arguments of
 * the caller's own (clock, skew, key length) fail with INVALID_ARGUMENT.
 */
export function verifyRequestSignature(input: VerifyRequestSignatureInput): VerifiedRequestSignature {
  if (!(input.body instanceof Uint8Array)) invalidArgument('body must be a Uint8Array');
  const { keyid, created, nonce, contentDigest: digest } = verifyRequestSignatureHeaders(input);
  verifyContentDigest(digest, input.body);
  return { keyid, created, nonce };
}
