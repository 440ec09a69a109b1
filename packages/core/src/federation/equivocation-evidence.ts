import { RemembrancerError, errorMessage } from '../errors.js';
import { crypto } from '../crypto/index.js';
import { base64Decode, base64Encode, bytesEqual } from '../encoding/index.js';
import { canonicalBytes } from '../jcs/index.js';
import { isConsistencyValid } from '../merkle/index.js';
import { parseCheckpoint, type ParsedCheckpoint } from '../checkpoint/checkpoint.js';
import { openCheckpoint } from '../checkpoint/open-checkpoint.js';
import { SIGNATURE_TYPE_ED25519 } from '../note/key-id.js';
import { NoteVerifier } from '../note/note-verifier.js';
import { parseNote } from '../note/signed-note.js';
import { parseVkey } from '../note/vkey.js';
import { prefixRootFromConsistencyProof } from './consistency-prefix.js';
import { logVerifierForOrigin, peerById, peerForOrigin } from './registry-peers.js';
import { NODE_NAME_PATTERN, parseRegistry, peerAuthKeyName, type RegistrySet } from './registry-set.js';
import { isUtcTimestamp } from './timestamp.js';

/*
 * Evidence that a log showed two histories, `federation.equivocation@1.0.0`
 * (schemas/federation.equivocation@1.0.0.json). It is self-proving: both checkpoints carry the
 * log's own signature, and the conflict is checked from them alone, so any node can verify it
 * without trusting the node that detected it (whose signature only says who reported it).
 *
 * Two checkpoints of one origin conflict when
 * - `same_size_different_root`: equal sizes, different roots; or
 * - `inconsistent`: sizes n < m, and the evidence carries a consistency proof from n to m that
 *   leads to the larger checkpoint's root from a `prefix_root` that is not the smaller
 *   checkpoint's root. A proof that merely fails is no evidence (anyone can make one up); a proof
 *   that reaches the larger root pins down, by collision resistance, what the first n leaves of
 *   that tree hash to, and that is not what the log signed for size n.
 */

export const EVIDENCE_TYPE = 'federation.equivocation';
export const EVIDENCE_SCHEMA = 'federation.equivocation@1.0.0';

/** `<node name>/<namespace id>`. */
export const ORIGIN_PATTERN = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?\/[a-z0-9][a-z0-9-]{0,62}:[a-z0-9][a-z0-9-]{0,62}$/;
/** A checkpoint note with up to 100 signature lines fits easily. */
export const MAX_EVIDENCE_NOTE_LENGTH = 65_536;
/** Consistency proofs of safe-integer sizes are shorter. */
export const MAX_CONSISTENCY_PROOF_HASHES = 64;

export const EQUIVOCATION_REASONS = ['same_size_different_root', 'inconsistent'] as const;
export type EquivocationReason = (typeof EQUIVOCATION_REASONS)[number];

export interface UnsignedEquivocationEvidence {
  readonly type: typeof EVIDENCE_TYPE;
  /** The log both checkpoints belong to. */
  readonly origin: string;
  /** Node name of the detecting peer. */
  readonly detected_by: string;
  /** RFC 3339 UTC. */
  readonly detected_at: string;
  /** Both signed notes, as received (cosignatures included); for `inconsistent` the smaller first. */
  readonly checkpoints: readonly [string, string];
  readonly reason: EquivocationReason;
  /** `inconsistent` only: base64 RFC 9162 consistency proof from the smaller size to the larger. */
  readonly consistency_proof?: readonly string[];
  /** `inconsistent` only: base64 root of the larger tree's first n leaves, as the proof shows. */
  readonly prefix_root?: string;
}

export interface EquivocationEvidence extends UnsignedEquivocationEvidence {
  /** base64 Ed25519 signature by detected_by's auth key over the JCS bytes without `signature`. */
  readonly signature: string;
}

const MEMBERS = [
  'type',
  'origin',
  'detected_by',
  'detected_at',
  'checkpoints',
  'reason',
  'consistency_proof',
  'prefix_root',
  'signature',
];

function invalid(why: string, cause?: unknown): never {
  throw new RemembrancerError(
    'EVIDENCE_INVALID',
    `equivocation evidence ${why}`,
    cause === undefined ? undefined : { cause },
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function decodeFixed(what: string, v: unknown, length: number): Uint8Array {
  let raw: Uint8Array | undefined;
  if (typeof v === 'string') {
    try {
      raw = base64Decode(v);
    } catch {
      raw = undefined;
    }
  }
  if (raw?.length !== length) invalid(`${what} must be ${length} bytes in standard base64`);
  return raw;
}

function parseMembers(json: unknown, signed: boolean): EquivocationEvidence | UnsignedEquivocationEvidence {
  if (!isObject(json)) invalid('is not a JSON object');
  const d = json;
  for (const k of Object.keys(d))
    if (!MEMBERS.includes(k)) invalid(`has unknown member ${JSON.stringify(k.slice(0, 64))}`);
  if (d['type'] !== EVIDENCE_TYPE) invalid(`member "type" must be "${EVIDENCE_TYPE}"`);
  const origin = d['origin'];
  if (typeof origin !== 'string' || !ORIGIN_PATTERN.test(origin))
    invalid('member "origin" must be "<node name>/<namespace id>"');
  const detectedBy = d['detected_by'];
  if (typeof detectedBy !== 'string' || !NODE_NAME_PATTERN.test(detectedBy))
    invalid('member "detected_by" must be a node name');
  const detectedAt = d['detected_at'];
  if (!isUtcTimestamp(detectedAt)) invalid('member "detected_at" must be an RFC 3339 UTC timestamp');
  const cps = d['checkpoints'];
  if (!Array.isArray(cps) || cps.length !== 2) invalid('member "checkpoints" must hold exactly two signed notes');
  cps.forEach((n: unknown, i) => {
    if (typeof n !== 'string' || n.length > MAX_EVIDENCE_NOTE_LENGTH)
      invalid(`checkpoints[${i}] must be a signed note of at most ${MAX_EVIDENCE_NOTE_LENGTH} characters`);
    let cp: ParsedCheckpoint;
    try {
      cp = parseCheckpoint(parseNote(n).text);
    } catch (cause) {
      invalid(`checkpoints[${i}] is not a signed checkpoint: ${errorMessage(cause)}`, cause);
    }
    if (cp.origin !== origin)
      invalid(`checkpoints[${i}] has origin ${JSON.stringify(cp.origin.slice(0, 300))}, not ${JSON.stringify(origin)}`);
  });
  const reason = d['reason'];
  if (typeof reason !== 'string' || !(EQUIVOCATION_REASONS as readonly string[]).includes(reason)) {
    invalid(`member "reason" must be one of ${EQUIVOCATION_REASONS.map((r) => `"${r}"`).join(', ')}`);
  }
  const out: Record<string, unknown> = {
    type: EVIDENCE_TYPE,
    origin,
    detected_by: detectedBy,
    detected_at: detectedAt,
    checkpoints: [cps[0], cps[1]],
    reason,
  };
  const hasProof = Object.hasOwn(d, 'consistency_proof');
  const hasPrefix = Object.hasOwn(d, 'prefix_root');
  if (reason === 'inconsistent') {
    if (!hasProof || !hasPrefix) invalid('of reason "inconsistent" needs "consistency_proof" and "prefix_root"');
    const proof = d['consistency_proof'];
    if (!Array.isArray(proof) || proof.length > MAX_CONSISTENCY_PROOF_HASHES) {
      invalid(`member "consistency_proof" must be an array of at most ${MAX_CONSISTENCY_PROOF_HASHES} hashes`);
    }
    proof.forEach((h: unknown, i) => decodeFixed(`consistency_proof[${i}]`, h, 32));
    decodeFixed('prefix_root', d['prefix_root'], 32);
    out['consistency_proof'] = [...(proof as string[])];
    out['prefix_root'] = d['prefix_root'];
  } else if (hasProof || hasPrefix) {
    invalid(`of reason "${reason}" must not carry "consistency_proof" or "prefix_root"`);
  }
  if (signed) {
    if (!Object.hasOwn(d, 'signature')) invalid('lacks member "signature"');
    decodeFixed('signature', d['signature'], 64);
    out['signature'] = d['signature'];
  }
  return out as unknown as EquivocationEvidence | UnsignedEquivocationEvidence;
}

/**
 * Checks the form of signed evidence (parsed JSON, attacker-controlled) and returns a copy; both
 * notes must parse as checkpoints of `origin`. Nothing is verified; see verifyEvidence.
 */
export function parseEquivocationEvidence(json: unknown): EquivocationEvidence {
  return parseMembers(json, true) as EquivocationEvidence;
}

/** What the detector signs: the JCS bytes of the evidence without `signature`. */
export function evidenceSigningBytes(evidence: UnsignedEquivocationEvidence): Uint8Array {
  const e = parseMembers(stripSignature(evidence), false);
  return canonicalBytes(e);
}

function stripSignature(v: unknown): unknown {
  if (!isObject(v)) return v;
  const { signature: _signature, ...rest } = v;
  return rest;
}

function opened(notes: readonly string[], verifier: NoteVerifier): [ParsedCheckpoint, ParsedCheckpoint] {
  const out = notes.map((n, i) => {
    try {
      return openCheckpoint(n, verifier).checkpoint;
    } catch (cause) {
      invalid(
        `checkpoints[${i}] is not validly signed by the log key ${JSON.stringify(verifier.name)}: ${errorMessage(cause)}`,
        cause,
      );
    }
  });
  return [out[0]!, out[1]!];
}

function toLogVerifier(v: NoteVerifier | string): NoteVerifier {
  if (v instanceof NoteVerifier) return v;
  try {
    return NoteVerifier.fromVkey(v);
  } catch (cause) {
    invalid(`cannot be checked: the log key is not an Ed25519 vkey: ${errorMessage(cause)}`, cause);
  }
}

export interface EquivocationInput {
  /** The detecting node's name. */
  readonly detectedBy: string;
  /** RFC 3339 UTC. */
  readonly detectedAt: string;
  /** The two signed checkpoint notes, in any order. */
  readonly checkpoints: readonly [string, string];
  /** The log key of the origin (named as the origin), as a verifier or vkey. */
  readonly logVerifier: NoteVerifier | string;
  /** For different sizes: the consistency proof from the smaller size to the larger, as the log served it. */
  readonly consistencyProof?: readonly Uint8Array[];
  /**
   * For different sizes: the larger tree's root at the smaller size. Derived from the proof when
   * it can be; needed when the smaller size is a power of two (then it is the hash of one tile node).
   */
  readonly prefixRoot?: Uint8Array;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Builds unsigned evidence from two checkpoints that a node received, after checking that both
 * are signed by the log and really conflict; throws EVIDENCE_INVALID otherwise (including when the
 * consistency proof is merely broken, which shows nothing about the log's history). Sign the
 * result with signEvidence.
 */
export function buildEquivocationEvidence(input: EquivocationInput): UnsignedEquivocationEvidence {
  const verifier = toLogVerifier(input.logVerifier);
  const [a, b] = opened(input.checkpoints, verifier);
  const notes: [string, string] = [input.checkpoints[0], input.checkpoints[1]];
  if (a.origin !== b.origin)
    invalid(`needs two checkpoints of one origin, got ${JSON.stringify(a.origin)} and ${JSON.stringify(b.origin)}`);
  const base = {
    type: EVIDENCE_TYPE as typeof EVIDENCE_TYPE,
    origin: a.origin,
    detected_by: input.detectedBy,
    detected_at: input.detectedAt,
  };
  let doc: UnsignedEquivocationEvidence;
  if (a.size === b.size) {
    if (bytesEqual(a.root, b.root))
      invalid(`needs conflicting checkpoints: both have size ${a.size} and the same root`);
    // Either order verifies; a fixed one lets different detectors produce the same document.
    const ordered =
      compareStrings(base64Encode(a.root), base64Encode(b.root)) <= 0
        ? notes
        : ([notes[1], notes[0]] as [string, string]);
    doc = { ...base, checkpoints: ordered, reason: 'same_size_different_root' };
  } else {
    const [small, large, ordered] = a.size < b.size ? [a, b, notes] : [b, a, [notes[1], notes[0]] as [string, string]];
    const proof = input.consistencyProof;
    if (proof === undefined)
      invalid(`of checkpoints of sizes ${small.size} and ${large.size} needs the consistency proof between them`);
    const prefix = input.prefixRoot ?? prefixRootFromConsistencyProof(small.size, large.size, proof);
    if (prefix === undefined) {
      invalid(
        `needs the prefix root: a consistency proof from size ${small.size} (zero or a power of two) does not carry it`,
      );
    }
    if (!isConsistencyValid(small.size, large.size, proof, prefix, large.root)) {
      invalid(
        `cannot be built: the consistency proof from ${small.size} to ${large.size} does not lead to the larger checkpoint's root, so it shows nothing about the log`,
      );
    }
    if (bytesEqual(prefix, small.root))
      invalid(`needs conflicting checkpoints: size ${large.size} is consistent with size ${small.size}`);
    doc = {
      ...base,
      checkpoints: ordered,
      reason: 'inconsistent',
      consistency_proof: proof.map(base64Encode),
      prefix_root: base64Encode(prefix),
    };
  }
  return parseMembers(doc, false);
}

/** Adds (or replaces) the detector's signature, made with the 32-byte seed of its auth key. */
export function signEvidence(evidence: UnsignedEquivocationEvidence, authSeed: Uint8Array): EquivocationEvidence {
  if (!(authSeed instanceof Uint8Array) || authSeed.length !== 32) {
    throw new RemembrancerError('INVALID_ARGUMENT', 'an auth key seed must be 32 bytes');
  }
  const e = parseMembers(stripSignature(evidence), false);
  return { ...e, signature: base64Encode(crypto.ed25519Sign(authSeed, canonicalBytes(e))) };
}

export interface EvidenceTrust {
  /** The log key of the evidence's origin: a verifier or vkey named as the origin (see logVerifierForOrigin). */
  readonly logVerifier: NoteVerifier | string;
  /** The detector's auth key: its vkey (named `<detected_by>/peer`) or the raw 32-byte public key. */
  readonly authPublicKey: Uint8Array | string;
}

export interface VerifiedEquivocation {
  readonly evidence: EquivocationEvidence;
  /** The two checkpoints, in document order, each verified against the log key. */
  readonly checkpoints: readonly [ParsedCheckpoint, ParsedCheckpoint];
}

function authKeyBytes(key: Uint8Array | string, detectedBy: string): Uint8Array {
  if (key instanceof Uint8Array) {
    if (key.length !== 32) throw new RemembrancerError('INVALID_ARGUMENT', 'an Ed25519 public key must be 32 bytes');
    return key;
  }
  const k = parseVkey(key);
  const name = peerAuthKeyName(detectedBy);
  if (k.type !== SIGNATURE_TYPE_ED25519 || k.name !== name) {
    throw new RemembrancerError(
      'SIGNATURE_INVALID',
      `equivocation evidence by ${JSON.stringify(detectedBy)} needs the auth key ${JSON.stringify(name)}, not ${JSON.stringify(k.name)}`,
    );
  }
  return k.publicKey;
}

/**
 * Verifies evidence (parsed JSON, attacker-controlled): its form (EVIDENCE_INVALID), the
 * detector's signature (SIGNATURE_INVALID), both checkpoints against the origin's log key and
 * that they really conflict (EVIDENCE_INVALID).
 */
export function verifyEvidence(doc: unknown, trust: EvidenceTrust): VerifiedEquivocation {
  const evidence = parseEquivocationEvidence(doc);
  const publicKey = authKeyBytes(trust.authPublicKey, evidence.detected_by);
  const unsigned = parseMembers(stripSignature(evidence), false);
  if (!crypto.ed25519Verify(publicKey, canonicalBytes(unsigned), base64Decode(evidence.signature))) {
    throw new RemembrancerError(
      'SIGNATURE_INVALID',
      `equivocation evidence signature by ${JSON.stringify(evidence.detected_by)} does not verify`,
    );
  }
  const verifier = toLogVerifier(trust.logVerifier);
  if (verifier.name !== evidence.origin) {
    invalid(`is about ${JSON.stringify(evidence.origin)}, but the log key given is ${JSON.stringify(verifier.name)}`);
  }
  const [a, b] = opened(evidence.checkpoints, verifier);
  if (evidence.reason === 'same_size_different_root') {
    if (a.size !== b.size) invalid(`claims equal sizes, but the checkpoints have sizes ${a.size} and ${b.size}`);
    if (bytesEqual(a.root, b.root)) invalid(`shows no conflict: both checkpoints of size ${a.size} have the same root`);
  } else {
    if (a.size >= b.size)
      invalid(`of reason "inconsistent" needs the smaller checkpoint first, got sizes ${a.size} and ${b.size}`);
    const proof = evidence.consistency_proof!.map((h) => base64Decode(h));
    const prefix = base64Decode(evidence.prefix_root!);
    if (!isConsistencyValid(a.size, b.size, proof, prefix, b.root)) {
      invalid(
        `shows no conflict: its consistency proof from ${a.size} to ${b.size} does not lead to the root of the larger checkpoint`,
      );
    }
    if (bytesEqual(prefix, a.root))
      invalid(`shows no conflict: the proof shows size ${b.size} is consistent with size ${a.size}`);
  }
  return { evidence, checkpoints: [a, b] };
}

/**
 * verifyEvidence with the keys a registry version lists: the detector must be one of its peers
 * (its auth key signs the evidence), and the origin must belong to one (its log key, under the
 * origin's name, signs the checkpoints). Use the version in force when the checkpoints were signed.
 */
export function verifyEvidenceWithRegistry(doc: unknown, registry: RegistrySet): VerifiedEquivocation {
  const evidence = parseEquivocationEvidence(doc);
  const set = parseRegistry(registry);
  const detector = peerById(set, evidence.detected_by);
  if (detector === undefined)
    invalid(
      `was detected by ${JSON.stringify(evidence.detected_by)}, which is not a peer of registry version ${set.version}`,
    );
  const log = peerForOrigin(set, evidence.origin);
  if (log === undefined)
    invalid(
      `is about ${JSON.stringify(evidence.origin)}, which is the log of no peer of registry version ${set.version}`,
    );
  return verifyEvidence(evidence, {
    logVerifier: logVerifierForOrigin(log, evidence.origin),
    authPublicKey: detector.auth_key,
  });
}
