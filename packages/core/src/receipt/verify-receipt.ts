import { isRemembrancerError } from '../errors.js';
import { base64Decode, base64Encode, bytesEqual } from '../encoding/index.js';
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import { openCheckpointNote } from '../checkpoint/open-checkpoint.js';
import { CosignatureVerifier } from '../cosignature/cosignature-verifier.js';
import { collectNoteCosignatures } from '../cosignature/verify-cosignature.js';
import { leafHash, verifyInclusion } from '../merkle/index.js';
import { NoteVerifier } from '../note/note-verifier.js';
import { parseNote } from '../note/signed-note.js';
import { TLOG_PROOF_HEADER, parseTlogProof } from '../tlog-proof/tlog-proof.js';
import { describeTlogQuorum, evaluateTlogPolicy } from '../tlog-policy/evaluate-tlog-policy.js';
import { parseTlogPolicy } from '../tlog-policy/parse-tlog-policy.js';
import { compileTlogPolicy, policyCosigners } from '../tlog-policy/policy-cosigners.js';
import type { TlogPolicy } from '../tlog-policy/tlog-policy.js';
import { MAX_RECEIPT_ENTRY_DEPTH, entryLeafData } from '../entry/index.js';
import { decodeReceipt } from './receipt.js';

export type ReceiptCheckName =
  'shape' | 'leaf_hash' | 'checkpoint' | 'inclusion' | 'tlog_proof' | 'policy' | 'witnesses';

export interface ReceiptCheck {
  readonly name: ReceiptCheckName;
  readonly ok: boolean;
  /** The error code of a failed check. */
  readonly code?: string;
  /** Plain words for people (the CLI prints them); says why a check failed. */
  readonly message?: string;
}

export interface ReceiptVerification {
  /** True iff every check ran and passed. */
  readonly ok: boolean;
  /** The checks in the order they ran; the first failure ends the run. */
  readonly checks: ReceiptCheck[];
  /** The checkpoint, once its log signature verified. */
  readonly checkpoint?: Checkpoint;
  /** Names of the trusted witnesses that validly cosigned, when witnesses were given. */
  readonly cosigners?: string[];
  /** With a policy, once its check ran to a verdict: which policy witnesses cosigned, and what that met. */
  readonly policy?: ReceiptPolicyResult;
}

export interface ReceiptPolicyResult {
  /** Whether the policy's quorum is met. */
  readonly met: boolean;
  /** Policy names of the witnesses whose cosignature verified, each once, in policy order. */
  readonly cosigners: string[];
  /** Those witnesses and every group they made witness, in definition order. */
  readonly witnessed: readonly string[];
}

export interface ReceiptTrust {
  /** Trusted log verifier keys; only the one named as the checkpoint origin is used. */
  readonly logVkeys: readonly string[];
  /** Trusted witness (cosignature/v1) verifier keys. */
  readonly witnessVkeys?: readonly string[];
  /** How many of the witnesses must have cosigned; default 1 when witnesses are given. */
  readonly witnessQuorum?: number;
  /**
   * A C2SP tlog-policy (text, or already parsed) the checkpoint must satisfy; see
   * ReceiptVerifiers.policy. Invalid text throws POLICY_INVALID (a configuration error).
   */
  readonly policy?: string | TlogPolicy;
}

export interface ReceiptVerifiers {
  /** Trusted log keys; with a policy that lists logs, the policy's logs are used instead. */
  readonly logVerifiers: readonly NoteVerifier[];
  readonly witnessVerifiers?: readonly CosignatureVerifier[];
  readonly witnessQuorum?: number;
  /**
   * https://c2sp.org/tlog-policy: the checkpoint must be signed by one of the policy's logs (the
   * vkey's key name is the origin; a policy without logs leaves that to logVerifiers) and its
   * cosignatures must meet the quorum, each policy witness counting once. Adds the 'policy' check.
   */
  readonly policy?: TlogPolicy;
}

/**
 * Verifies a receipt offline against trusted keys given as vkey text. Throws VKEY_MALFORMED if a
 * key is unusable (a configuration error, not a property of the receipt). For many receipts,
 * build the verifiers once and call verifyReceiptWith.
 */
export function verifyReceipt(receipt: unknown, trust: ReceiptTrust): ReceiptVerification {
  return verifyReceiptWith(receipt, {
    logVerifiers: trust.logVkeys.map((k) => NoteVerifier.fromVkey(k)),
    witnessVerifiers: trust.witnessVkeys?.map((k) => CosignatureVerifier.fromVkey(k)),
    witnessQuorum: trust.witnessQuorum,
    policy: typeof trust.policy === 'string' ? parseTlogPolicy(trust.policy) : trust.policy,
  });
}

class CheckFailed extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function fail(code: string, message: string): never {
  throw new CheckFailed(code, message);
}

function why(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Whether `text` is exactly the tlog-proof of these receipt fields, optionally with an `extra`
 * line. Comparing text is exact because strict base64 gives every byte string a single encoding
 * (the receipt's proof strings were decoded strictly already), and it is far cheaper than parsing
 * the tlog-proof again.
 */
function tlogProofMatches(text: string, index: number, proof: readonly string[], checkpoint: string): boolean {
  let rest = text;
  const header = TLOG_PROOF_HEADER + '\n';
  if (!rest.startsWith(header)) return false;
  rest = rest.slice(header.length);
  if (rest.startsWith('extra ')) {
    const nl = rest.indexOf('\n');
    if (nl < 0) return false;
    try {
      base64Decode(rest.slice('extra '.length, nl));
    } catch {
      return false;
    }
    rest = rest.slice(nl + 1);
  }
  let expected = `index ${index}\n`;
  for (const h of proof) expected += h + '\n';
  return rest.length === expected.length + 1 + checkpoint.length && rest === expected + '\n' + checkpoint;
}

/**
 * Verifies a receipt (parsed JSON, attacker-controlled) with pre-built verifiers. Never throws:
 * every problem becomes a failed check. Checks, in order:
 * shape; leaf_hash (the entry's canonical JSON hashes to leaf_hash); checkpoint (its origin is the
 * receipt's, belongs to the receipt's namespace, and a trusted log key of that name signed it);
 * inclusion (RFC 9162 §2.1.3 proof of index under the checkpoint's root); tlog_proof (the C2SP text
 * says the same as the JSON fields, so third-party tools reach the same verdict); policy (when a
 * tlog-policy is given: which of its witnesses cosigned, and whether that meets its quorum);
 * witnesses (when witness verifiers are given: which cosigned, and whether the quorum is met).
 */
export function verifyReceiptWith(receipt: unknown, verifiers: ReceiptVerifiers): ReceiptVerification {
  const checks: ReceiptCheck[] = [];
  let checkpoint: Checkpoint | undefined;
  let cosigners: string[] | undefined;
  let policyResult: ReceiptPolicyResult | undefined;
  const policy = verifiers.policy === undefined ? undefined : compileTlogPolicy(verifiers.policy);
  // https://c2sp.org/tlog-policy#defining-a-log: "all of the listed logs are accepted" (and only
  // they); a policy with no logs leaves the choice to the caller's keys.
  const logVerifiers =
    policy !== undefined && policy.logVerifiers.length > 0 ? policy.logVerifiers : verifiers.logVerifiers;

  const run = (name: ReceiptCheckName, body: () => string): boolean => {
    try {
      checks.push({ name, ok: true, message: body() });
      return true;
    } catch (e) {
      const code = e instanceof CheckFailed ? e.code : isRemembrancerError(e) ? e.code : 'INTERNAL';
      checks.push({ name, ok: false, code, message: why(e) });
      return false;
    }
  };
  const done = (): ReceiptVerification => {
    const ok = checks.every((c) => c.ok);
    return {
      ok,
      checks,
      ...(checkpoint === undefined ? {} : { checkpoint }),
      ...(cosigners === undefined ? {} : { cosigners }),
      ...(policyResult === undefined ? {} : { policy: policyResult }),
    };
  };

  let decoded!: ReturnType<typeof decodeReceipt>;
  if (
    !run('shape', () => {
      decoded = decodeReceipt(receipt);
      return `receipt has the ${decoded.receipt.format} shape`;
    })
  )
    return done();
  const r = decoded.receipt;

  let computedLeafHash!: Uint8Array;
  if (
    !run('leaf_hash', () => {
      let data: Uint8Array;
      try {
        // The receipt itself was parsed within MAX_JSON_DEPTH, one level above its entry.
        data = entryLeafData(r.entry, MAX_RECEIPT_ENTRY_DEPTH);
      } catch (e) {
        fail(isRemembrancerError(e) ? e.code : 'INVALID_JSON', `the entry cannot be hashed: ${why(e)}`);
      }
      computedLeafHash = leafHash(data);
      if (!bytesEqual(computedLeafHash, decoded.leafHash)) {
        fail(
          'LEAF_HASH_MISMATCH',
          `the entry does not match leaf_hash: it hashes to ${base64Encode(computedLeafHash)}, the receipt says ${r.leaf_hash}`,
        );
      }
      return 'the entry hashes to leaf_hash';
    })
  )
    return done();

  let note!: ReturnType<typeof parseNote>;
  if (
    !run('checkpoint', () => {
      try {
        note = parseNote(r.checkpoint);
      } catch (e) {
        fail(
          isRemembrancerError(e) ? e.code : 'NOTE_MALFORMED',
          `the checkpoint is not a valid signed note: ${why(e)}`,
        );
      }
      const firstLine = note.text.slice(0, note.text.indexOf('\n'));
      if (firstLine !== r.origin) {
        fail(
          'ORIGIN_MISMATCH',
          `the checkpoint is for origin ${JSON.stringify(firstLine)}, not the receipt's origin ${JSON.stringify(r.origin)}`,
        );
      }
      // Design: origin = <node name>/<namespace>. Without this, the namespace field would be unbound
      // by any signature and could be rewritten at will.
      if (!r.origin.endsWith('/' + r.namespace)) {
        fail(
          'ORIGIN_MISMATCH',
          `origin ${JSON.stringify(r.origin)} does not belong to namespace ${JSON.stringify(r.namespace)}`,
        );
      }
      try {
        checkpoint = openCheckpointNote(note, logVerifiers).checkpoint;
      } catch (e) {
        const code = isRemembrancerError(e) ? e.code : 'INTERNAL';
        const prefix =
          code === 'ORIGIN_MISMATCH'
            ? 'no trusted log key for this origin: '
            : code === 'SIGNATURE_MISSING'
              ? 'the checkpoint is not signed by a trusted log key: '
              : code === 'SIGNATURE_INVALID'
                ? 'the checkpoint signature is forged or corrupted: '
                : 'the checkpoint is invalid: ';
        fail(code, prefix + why(e));
      }
      const whose = logVerifiers === verifiers.logVerifiers ? 'the trusted log key' : "the policy's log key";
      return `checkpoint of ${checkpoint.origin} at size ${checkpoint.size} is signed by ${whose}`;
    })
  )
    return done();
  const cp = checkpoint!;

  if (
    !run('inclusion', () => {
      try {
        verifyInclusion(r.index, cp.size, computedLeafHash, decoded.proof, cp.root);
      } catch (e) {
        fail(
          isRemembrancerError(e) ? e.code : 'PROOF_MISMATCH',
          `entry ${r.index} is not proven to be in the checkpointed tree of size ${cp.size}: ${why(e)}`,
        );
      }
      return `entry ${r.index} is included in the tree of size ${cp.size}`;
    })
  )
    return done();

  if (
    !run('tlog_proof', () => {
      if (tlogProofMatches(r.tlog_proof, r.index, r.proof, r.checkpoint)) return 'tlog_proof matches the receipt';
      // Not the same text: parse it to say precisely what differs.
      let t: ReturnType<typeof parseTlogProof>;
      try {
        t = parseTlogProof(r.tlog_proof);
      } catch (e) {
        fail(
          isRemembrancerError(e) ? e.code : 'TLOG_PROOF_MALFORMED',
          `tlog_proof is not a valid c2sp.org/tlog-proof@v1 text: ${why(e)}`,
        );
      }
      if (t.index !== r.index)
        fail('PROOF_MISMATCH', `tlog_proof is for index ${t.index}, the receipt for index ${r.index}`);
      if (t.proof.length !== decoded.proof.length || t.proof.some((h, i) => !bytesEqual(h, decoded.proof[i]!))) {
        fail('PROOF_MISMATCH', 'tlog_proof carries a different inclusion proof than the receipt');
      }
      if (t.checkpoint !== r.checkpoint)
        fail('PROOF_MISMATCH', 'tlog_proof carries a different checkpoint than the receipt');
      return 'tlog_proof matches the receipt';
    })
  )
    return done();

  if (policy !== undefined) {
    if (
      !run('policy', () => {
        let found: string[];
        try {
          found = policyCosigners(policy, note);
        } catch (e) {
          fail(
            isRemembrancerError(e) ? e.code : 'SIGNATURE_INVALID',
            `a policy witness's cosignature is forged or corrupted: ${why(e)}`,
          );
        }
        const evaluation = evaluateTlogPolicy(policy.policy, found);
        policyResult = { met: evaluation.met, cosigners: found, witnessed: evaluation.witnessed };
        const summary =
          `${found.length} of ${policy.witnesses.length} policy witnesses cosigned (${found.join(', ') || 'none'}); ` +
          `the quorum needs ${describeTlogQuorum(policy.policy)}`;
        if (!evaluation.met) fail('POLICY_NOT_MET', `witness quorum not met: ${summary}`);
        return `witness quorum met: ${summary}`;
      })
    )
      return done();
  }

  const witnesses = verifiers.witnessVerifiers;
  if (witnesses !== undefined && witnesses.length > 0) {
    run('witnesses', () => {
      const quorum = verifiers.witnessQuorum ?? 1;
      let found;
      try {
        found = collectNoteCosignatures(note, witnesses);
      } catch (e) {
        fail(
          isRemembrancerError(e) ? e.code : 'SIGNATURE_INVALID',
          `a trusted witness's cosignature is forged or corrupted: ${why(e)}`,
        );
      }
      cosigners = found.map((c) => c.name);
      const missing = witnesses
        .filter((w) => !found.some((c) => c.name === w.name && c.keyId === w.keyId))
        .map((w) => w.name);
      const summary = `${found.length} of ${witnesses.length} trusted witnesses cosigned, ${quorum} required`;
      if (found.length < quorum) {
        fail('SIGNATURE_MISSING', `not enough witness cosignatures: ${summary}; missing: ${missing.join(', ')}`);
      }
      return `${summary}: ${cosigners.join(', ') || 'none'}`;
    });
  }
  return done();
}
