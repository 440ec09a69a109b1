import { RemembrancerError } from '../errors.js';
import { openCheckpointNote } from '../checkpoint/open-checkpoint.js';
import type { ParsedCheckpoint } from '../checkpoint/checkpoint.js';
import { CosignatureVerifier } from '../cosignature/cosignature-verifier.js';
import { splitTimestampedSignature } from '../cosignature/cosigned-message.js';
import { NoteVerifier } from '../note/note-verifier.js';
import { parseNote, type Note } from '../note/signed-note.js';
import { describeTlogQuorum, evaluateTlogPolicy, type TlogPolicyEvaluation } from './evaluate-tlog-policy.js';
import type { TlogPolicy } from './tlog-policy.js';

/** A policy with its keys turned into verifiers once (each costs a hash; verifiers cache results). */
export interface CompiledTlogPolicy {
  readonly policy: TlogPolicy;
  /** One per `log` line; the key name is the origin the log signs. */
  readonly logVerifiers: readonly NoteVerifier[];
  /** One per `witness` line, with the policy name it counts under. */
  readonly witnesses: ReadonlyArray<{ readonly name: string; readonly verifier: CosignatureVerifier }>;
}

const compiled = new WeakMap<TlogPolicy, CompiledTlogPolicy>();

/**
 * Builds (or reuses, for the same policy object) the verifiers of a policy. Throws VKEY_MALFORMED
 * or POLICY_INVALID only for a policy that parseTlogPolicy would have refused.
 */
export function compileTlogPolicy(policy: TlogPolicy): CompiledTlogPolicy {
  const hit = compiled.get(policy);
  if (hit) return hit;
  const c: CompiledTlogPolicy = {
    policy,
    logVerifiers: policy.logs.map((l) => NoteVerifier.fromVkey(l.vkey)),
    witnesses: policy.witnesses.map((w) => ({ name: w.name, verifier: CosignatureVerifier.fromVkey(w.vkey) })),
  };
  compiled.set(policy, c);
  return c;
}

/**
 * The policy witnesses (by policy name, in policy order, each once) whose cosignature on the
 * checkpoint `note` verifies. Per https://c2sp.org/signed-note#signatures, a signature line whose
 * key name and key ID match no policy witness is ignored, and one that matches a policy witness
 * but does not verify is a forgery: SIGNATURE_INVALID (or COSIGNATURE_MALFORMED for a payload
 * that is not a timestamped_signature). A witness that signed twice counts once. `note` is
 * attacker-controlled.
 */
export function policyCosigners(policy: TlogPolicy | CompiledTlogPolicy, note: Note): string[] {
  const c = 'logVerifiers' in policy ? policy : compileTlogPolicy(policy);
  const found = new Set<string>();
  for (const sig of note.signatures) {
    const matching = c.witnesses.filter((w) => w.verifier.name === sig.name && w.verifier.keyId === sig.keyId);
    if (matching.length === 0) continue;
    // Colliding (name, key ID) pairs are possible in principle: credit whichever key verifies.
    const ok = matching.find((w) => w.verifier.verify(note.text, sig.signature));
    if (ok === undefined) {
      splitTimestampedSignature(sig.signature);
      throw new RemembrancerError(
        'SIGNATURE_INVALID',
        `cosignature by policy witness ${JSON.stringify(matching[0]!.name)} (key ${JSON.stringify(sig.name)}) does not verify`,
      );
    }
    found.add(ok.name);
  }
  return c.witnesses.filter((w) => found.has(w.name)).map((w) => w.name);
}

export interface PolicyVerifiedCheckpoint {
  readonly checkpoint: ParsedCheckpoint;
  /** Policy witnesses that validly cosigned. */
  readonly cosigners: string[];
  readonly evaluation: TlogPolicyEvaluation;
}

/**
 * Verifies a cosigned checkpoint against a policy, https://c2sp.org/tlog-policy#what-is-a-policy:
 * "valid if it is signed by any one of the listed logs, and it is cosigned by witnesses according
 * to the defined quorum rule". A policy without logs relies on `logVerifiers` from other context.
 * Throws the checkpoint's errors (ORIGIN_MISMATCH, SIGNATURE_MISSING, SIGNATURE_INVALID, ...),
 * SIGNATURE_INVALID for a forged cosignature by a policy witness, and POLICY_NOT_MET when the
 * quorum is not met. `noteText` is attacker-controlled.
 */
export function verifyCheckpointPolicy(
  noteText: string | Note,
  policy: TlogPolicy,
  logVerifiers: readonly NoteVerifier[] = [],
): PolicyVerifiedCheckpoint {
  const c = compileTlogPolicy(policy);
  const note = typeof noteText === 'string' ? parseNote(noteText) : noteText;
  const { checkpoint } = openCheckpointNote(note, c.logVerifiers.length > 0 ? c.logVerifiers : logVerifiers);
  const cosigners = policyCosigners(c, note);
  const evaluation = evaluateTlogPolicy(policy, cosigners);
  if (!evaluation.met) {
    throw new RemembrancerError(
      'POLICY_NOT_MET',
      `witness quorum not met: cosigned by ${cosigners.join(', ') || 'no policy witness'}; quorum ${describeTlogQuorum(policy)}`,
    );
  }
  return { checkpoint, cosigners, evaluation };
}
