import { RemembrancerError, type ErrorCode } from '../errors.js';
import { crypto } from '../crypto/index.js';
import { base64Decode, base64Encode } from '../encoding/index.js';
import { canonicalBytes } from '../jcs/index.js';
import {
  arrayOf,
  base64OfLength,
  child,
  isObject,
  objectWith,
  refuse,
  stringMatching,
  type JsonObject,
} from './json-members.js';
import { WRITER_ID_PATTERN } from './writer-id.js';

/*
 * Signed documents in a namespace — entries by key writers, governance entries by operators — carry
 * their signatures in a reserved top-level member `signatures`: `[{"signer": id, "sig": base64}]`.
 * Each is Ed25519 over the RFC 8785 (JCS) bytes of the document without `signatures`, the rule the
 * federation registry uses too, so signatures can be gathered in any order and a verifier needs
 * nothing but the stored entry and the signer's public key.
 */

export const SIGNATURES_MEMBER = 'signatures';
/** More signers than any threshold we accept; bounds the work an attacker can ask of us. */
export const MAX_DOCUMENT_SIGNATURES = 32;

export interface DocumentSignature {
  signer: string;
  /** base64 of the 64-byte Ed25519 signature. */
  sig: string;
}

/** The bytes every signature of `doc` covers: JCS of the document without its `signatures` member. */
export function signingBytes(doc: JsonObject): Uint8Array {
  const { [SIGNATURES_MEMBER]: _signatures, ...unsigned } = doc;
  return canonicalBytes(unsigned);
}

/**
 * The `signatures` member of an attacker-controlled document: undefined when absent, else a checked
 * list (each `{signer, sig}` with a 64-byte signature, signers unique).
 */
export function documentSignatures(
  doc: JsonObject,
  code: ErrorCode = 'SIGNATURE_INVALID',
): DocumentSignature[] | undefined {
  if (!(SIGNATURES_MEMBER in doc)) return undefined;
  const pointer = `/${SIGNATURES_MEMBER}`;
  const sigs = arrayOf(code, doc[SIGNATURES_MEMBER], pointer, MAX_DOCUMENT_SIGNATURES, (v, p) => {
    const o = objectWith(code, v, p, ['signer', 'sig']);
    const signer = stringMatching(code, o['signer'], child(p, 'signer'), WRITER_ID_PATTERN, 'a signer id');
    return { signer, sig: base64OfLength(code, o['sig'], child(p, 'sig'), 64, 'a 64-byte Ed25519 signature') };
  });
  if (sigs.length === 0) refuse(code, pointer, 'is empty; omit it or sign');
  sigs.forEach((s, i) => {
    if (sigs.findIndex((t) => t.signer === s.signer) !== i)
      refuse(code, child(pointer, i), `signer ${s.signer} signs twice`);
  });
  return sigs;
}

/** True iff `sig` is a valid signature of `doc` by the base64 Ed25519 public key. */
export function verifyDocumentSignature(
  doc: JsonObject,
  sig: DocumentSignature,
  publicKeyBase64: string,
  message = signingBytes(doc),
): boolean {
  // Malformed base64 (a key or signature that skipped documentSignatures) is a failed verification, not a crash.
  let key: Uint8Array;
  let raw: Uint8Array;
  try {
    key = base64Decode(publicKeyBase64);
    raw = base64Decode(sig.sig);
  } catch {
    return false;
  }
  if (key.length !== 32 || raw.length !== 64) return false;
  return crypto.ed25519Verify(key, message, raw);
}

/**
 * Adds `signer`'s signature (replacing an earlier one by the same signer), signatures kept sorted
 * by signer so that everyone assembling the same approvals gets byte-identical documents.
 */
export function signDocument<T extends JsonObject>(
  doc: T,
  signer: string,
  seed: Uint8Array,
): T & { signatures: DocumentSignature[] } {
  if (!isObject(doc)) throw new RemembrancerError('INVALID_ARGUMENT', 'only a JSON object can be signed');
  if (!WRITER_ID_PATTERN.test(signer))
    throw new RemembrancerError('INVALID_ARGUMENT', `invalid signer id ${JSON.stringify(signer.slice(0, 64))}`);
  if (!(seed instanceof Uint8Array) || seed.length !== 32)
    throw new RemembrancerError('INVALID_ARGUMENT', 'a signing seed must be 32 bytes');
  const existing = documentSignatures(doc, 'INVALID_ARGUMENT') ?? [];
  const sig = base64Encode(crypto.ed25519Sign(seed, signingBytes(doc)));
  const signatures = [...existing.filter((s) => s.signer !== signer), { signer, sig }].sort((a, b) =>
    a.signer < b.signer ? -1 : a.signer > b.signer ? 1 : 0,
  );
  return { ...doc, signatures };
}

/** base64 Ed25519 public key of a 32-byte seed, as writer and operator entries spell keys. */
export function publicKeyBase64(seed: Uint8Array): string {
  return base64Encode(crypto.ed25519PublicKey(seed));
}
