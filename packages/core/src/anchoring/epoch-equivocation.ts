import { RemembrancerError, type ErrorCode } from '../errors.js';
import { crypto } from '../crypto/index.js';
import { base64Decode, base64Encode } from '../encoding/index.js';
import { canonicalBytes, canonicalize } from '../jcs/index.js';
import { peerAuthPublicKey, peerById } from '../federation/registry-peers.js';
import { NODE_NAME_PATTERN, type RegistrySet } from '../federation/registry-set.js';
import { child, objectWith, refuse, stringMatching } from '../namespace/json-members.js';
import { base64Signature, requireMembers, utcTimestamp } from './document-members.js';
import { epochStatementMembers, verifyEpochStatementSignature, type EpochStatement } from './epoch-statement.js';

/*
 * Evidence that a node signed two different roots for one epoch, `federation.epoch.equivocation@1.0.0`
 * (schemas/federation.epoch.equivocation@1.0.0.json). An honest node signs at most one statement per
 * (target, epoch, mode) — epoch-signer.ts records it before the signature leaves the node — so
 * at most one root can reach a majority. Two statements of one epoch with different roots (or
 * tree sizes), each carrying a valid signature of the same node's auth key, prove that node broke
 * the rule. Like checkpoint equivocation evidence it is self-proving: anyone holding the registry
 * versions the statements name checks it offline; the detector's signature only says who reported it.
 */

export const EPOCH_EVIDENCE_TYPE = 'federation.epoch.equivocation';
export const EPOCH_EVIDENCE_SCHEMA = 'federation.epoch.equivocation@1.0.0';

export interface UnsignedEpochEquivocationEvidence {
  readonly type: typeof EPOCH_EVIDENCE_TYPE;
  /** The node that signed both statements. */
  readonly signer: string;
  /** Node name of the detecting peer. */
  readonly detected_by: string;
  /** RFC 3339 UTC. */
  readonly detected_at: string;
  /** The two conflicting statements, in the order of their JCS text (so every detector writes the same pair). */
  readonly statements: readonly [EpochStatement, EpochStatement];
  /** `signer`'s base64 Ed25519 signatures, `signatures[i]` over `statements[i]`. */
  readonly signatures: readonly [string, string];
}

export interface EpochEquivocationEvidence extends UnsignedEpochEquivocationEvidence {
  /** base64 Ed25519 signature by detected_by's auth key over the JCS bytes without `signature`. */
  readonly signature: string;
}

const CODE: ErrorCode = 'EVIDENCE_INVALID';
const UNSIGNED_MEMBERS = ['type', 'signer', 'detected_by', 'detected_at', 'statements', 'signatures'];
const MEMBERS = [...UNSIGNED_MEMBERS, 'signature'];

function invalid(why: string): never {
  throw new RemembrancerError(CODE, `epoch equivocation evidence ${why}`);
}

function pairAt<T>(value: unknown, pointer: string, item: (v: unknown, p: string) => T): [T, T] {
  if (!Array.isArray(value) || value.length !== 2) refuse(CODE, pointer, 'must be an array of exactly two items');
  return [item(value[0], child(pointer, 0)), item(value[1], child(pointer, 1))];
}

/**
 * Why two statements conflict, or undefined when they do not: one epoch (federation, target,
 * epoch, mode and, for an independent epoch, its node) with a different root or tree size. The
 * registry version may differ: a node signs one root per epoch whatever version it signs under.
 */
export function epochStatementConflict(a: EpochStatement, b: EpochStatement): string | undefined {
  for (const k of ['federation_id', 'target', 'epoch', 'mode', 'node'] as const) {
    if (a[k] !== b[k]) return undefined;
  }
  if (a.root === b.root && a.tree_size === b.tree_size) return undefined;
  return `two roots for epoch ${a.epoch} (${a.mode}) at ${a.target}: ${a.root} (size ${a.tree_size}) and ${b.root} (size ${b.tree_size})`;
}

function parseMembers(json: unknown, signed: boolean): EpochEquivocationEvidence | UnsignedEpochEquivocationEvidence {
  const allowed = signed ? MEMBERS : UNSIGNED_MEMBERS;
  const o = requireMembers(CODE, objectWith(CODE, json, '', allowed), '', allowed);
  if (o['type'] !== EPOCH_EVIDENCE_TYPE) refuse(CODE, '/type', `must be "${EPOCH_EVIDENCE_TYPE}"`);
  const signer = stringMatching(CODE, o['signer'], '/signer', NODE_NAME_PATTERN, 'a node name');
  const detected_by = stringMatching(CODE, o['detected_by'], '/detected_by', NODE_NAME_PATTERN, 'a node name');
  const detected_at = utcTimestamp(CODE, o['detected_at'], '/detected_at');
  const statements = pairAt(o['statements'], '/statements', (v, p) => epochStatementMembers(CODE, v, p));
  const signatures = pairAt(o['signatures'], '/signatures', (v, p) => base64Signature(CODE, v, p));
  if (canonicalize(statements[0]) >= canonicalize(statements[1]))
    refuse(CODE, '/statements', 'must be two different statements in the order of their JCS text');
  const why = epochStatementConflict(statements[0], statements[1]);
  if (why === undefined)
    refuse(CODE, '/statements', 'must be of one epoch (federation, target, epoch, mode, node) with different roots');
  const out: UnsignedEpochEquivocationEvidence = {
    type: EPOCH_EVIDENCE_TYPE,
    signer,
    detected_by,
    detected_at,
    statements,
    signatures,
  };
  if (!signed) return out;
  return { ...out, signature: base64Signature(CODE, o['signature'], '/signature') };
}

/**
 * Checks the form of signed evidence (parsed JSON, attacker-controlled) and returns a copy: the
 * members, two statements of one epoch with different roots in canonical order. No signature is
 * verified; see verifyEpochEquivocation. Throws EVIDENCE_INVALID with the member's JSON pointer.
 */
export function parseEpochEquivocationEvidence(json: unknown): EpochEquivocationEvidence {
  return parseMembers(json, true) as EpochEquivocationEvidence;
}

/** What the detector signs: the JCS bytes of the evidence without `signature`. */
export function epochEvidenceSigningBytes(evidence: UnsignedEpochEquivocationEvidence): Uint8Array {
  const { signature: _signature, ...rest } = evidence as EpochEquivocationEvidence;
  return canonicalBytes(parseMembers(rest, false));
}

/** One statement as the detector received it, with the signer's signature over it. */
export interface SignedEpochStatement {
  readonly statement: EpochStatement;
  readonly sig: string;
}

export interface EpochEquivocationInput {
  readonly detectedBy: string;
  /** RFC 3339 UTC. */
  readonly detectedAt: string;
  /** The node that signed both. */
  readonly signer: string;
  readonly first: SignedEpochStatement;
  readonly second: SignedEpochStatement;
  /** The signer's auth public key under each statement's registry version: `[first's, second's]`. */
  readonly signerPublicKeys: readonly [Uint8Array, Uint8Array];
}

/**
 * Builds unsigned evidence from two signed statements a node received, after checking that both
 * signatures verify with the signer's keys and that the statements really conflict; throws
 * EVIDENCE_INVALID otherwise. Sign the result with signEpochEquivocationEvidence.
 */
export function buildEpochEquivocationEvidence(input: EpochEquivocationInput): UnsignedEpochEquivocationEvidence {
  const pairs = [
    { ...input.first, key: input.signerPublicKeys[0] },
    { ...input.second, key: input.signerPublicKeys[1] },
  ].sort((x, y) => (canonicalize(x.statement) < canonicalize(y.statement) ? -1 : 1));
  const doc = parseMembers(
    {
      type: EPOCH_EVIDENCE_TYPE,
      signer: input.signer,
      detected_by: input.detectedBy,
      detected_at: input.detectedAt,
      statements: pairs.map((p) => p.statement),
      signatures: pairs.map((p) => p.sig),
    },
    false,
  );
  checkSignerSignatures(
    doc,
    pairs.map((p) => p.key),
  );
  return doc;
}

/** Adds (or replaces) the detector's signature, made with the 32-byte seed of its auth key. */
export function signEpochEquivocationEvidence(
  evidence: UnsignedEpochEquivocationEvidence,
  authSeed: Uint8Array,
): EpochEquivocationEvidence {
  if (!(authSeed instanceof Uint8Array) || authSeed.length !== 32) {
    throw new RemembrancerError('INVALID_ARGUMENT', 'an auth key seed must be 32 bytes');
  }
  const { signature: _signature, ...rest } = evidence as EpochEquivocationEvidence;
  const doc = parseMembers(rest, false);
  return { ...doc, signature: base64Encode(crypto.ed25519Sign(authSeed, canonicalBytes(doc))) };
}

function checkSignerSignatures(doc: UnsignedEpochEquivocationEvidence, keys: readonly Uint8Array[]): void {
  doc.statements.forEach((s, i) => {
    if (!verifyEpochStatementSignature(s, keys[i]!, doc.signatures[i]!))
      invalid(
        `proves nothing: signatures[${i}] is not ${JSON.stringify(doc.signer)}'s signature over statements[${i}]`,
      );
  });
}

export interface EpochEvidenceTrust {
  /** The signer's auth public key under statements[0]'s and statements[1]'s registry version. */
  readonly signerPublicKeys: readonly [Uint8Array, Uint8Array];
  /** The detector's auth public key. */
  readonly detectorPublicKey: Uint8Array;
}

/**
 * Verifies evidence (parsed JSON, attacker-controlled): its form and the conflict
 * (EVIDENCE_INVALID), the detector's signature (SIGNATURE_INVALID), and the signer's signature
 * over each statement (EVIDENCE_INVALID: without both the document proves nothing).
 */
export function verifyEpochEquivocation(doc: unknown, trust: EpochEvidenceTrust): EpochEquivocationEvidence {
  const evidence = parseEpochEquivocationEvidence(doc);
  const key = trust.detectorPublicKey;
  if (!(key instanceof Uint8Array) || key.length !== 32)
    throw new RemembrancerError('INVALID_ARGUMENT', 'an Ed25519 public key must be 32 bytes');
  if (!crypto.ed25519Verify(key, epochEvidenceSigningBytes(evidence), base64Decode(evidence.signature))) {
    throw new RemembrancerError(
      'SIGNATURE_INVALID',
      `epoch equivocation evidence signature by ${JSON.stringify(evidence.detected_by)} does not verify`,
    );
  }
  checkSignerSignatures(evidence, trust.signerPublicKeys);
  return evidence;
}

function versionOf(registries: readonly RegistrySet[], federationId: string, version: number): RegistrySet {
  const reg = registries.find((r) => r.federation_id === federationId && r.version === version);
  if (reg === undefined) invalid(`names registry version ${version} of ${JSON.stringify(federationId)}, not given`);
  return reg;
}

/**
 * verifyEpochEquivocation with the keys the registry lists: the signer's key from the version
 * each statement names, the detector's from the newest version given (the one in force when it
 * is checked). `registries` is the federation's registry history (e.g. `GET
 * /v1/federation/registry?all=1`), which the caller trusts; both statements' versions must be in it.
 */
export function verifyEpochEquivocationWithRegistry(
  doc: unknown,
  registries: readonly RegistrySet[],
): EpochEquivocationEvidence {
  const evidence = parseEpochEquivocationEvidence(doc);
  const federationId = evidence.statements[0].federation_id;
  const keys = evidence.statements.map((s) => {
    const reg = versionOf(registries, federationId, s.registry_version);
    const peer = peerById(reg, evidence.signer);
    if (peer === undefined)
      invalid(`is against ${JSON.stringify(evidence.signer)}, which is not a peer of registry version ${reg.version}`);
    return peerAuthPublicKey(peer);
  }) as [Uint8Array, Uint8Array];
  const newest = registries
    .filter((r) => r.federation_id === federationId)
    .reduce<RegistrySet | undefined>((a, r) => (a === undefined || r.version > a.version ? r : a), undefined);
  const detector = newest === undefined ? undefined : peerById(newest, evidence.detected_by);
  if (detector === undefined)
    invalid(
      `was detected by ${JSON.stringify(evidence.detected_by)}, which is not a peer of the newest registry given`,
    );
  return verifyEpochEquivocation(evidence, {
    signerPublicKeys: keys,
    detectorPublicKey: peerAuthPublicKey(detector),
  });
}
