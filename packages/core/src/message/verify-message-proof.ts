import { RemembrancerError, errorMessage, isRemembrancerError, type ErrorCode } from '../errors.js';
import type { ParsedCheckpoint } from '../checkpoint/checkpoint.js';
import { openCheckpointNote } from '../checkpoint/open-checkpoint.js';
import type { CosignatureVerifier } from '../cosignature/cosignature-verifier.js';
import { collectNoteCosignatures } from '../cosignature/verify-cosignature.js';
import { crypto } from '../crypto/index.js';
import { toHex } from '../encoding/index.js';
import { DEFAULT_MAX_SKEW_SECONDS } from '../http-signature/peer-signature.js';
import { leafHash as rfc6962LeafHash, verifyInclusion } from '../merkle/index.js';
import type { NoteVerifier } from '../note/note-verifier.js';
import { parseTlogProof, type ParsedTlogProof } from '../tlog-proof/tlog-proof.js';
import type { MessageEndpoint, NamespaceMessage } from './message.js';
import { messageEntryBytes } from './message-entry.js';
import { endpointOrigin } from './message-members.js';
import { checkMessageWindow } from './message-window.js';
import { parseMessage } from './parse-message.js';

/** The checks of verifyMessageProof, in the order they run. */
export const MESSAGE_PROOF_CHECKS = [
  'format',
  'proof',
  'log-signature',
  'witnesses',
  'inclusion',
  'target',
  'expiry',
] as const;
export type MessageProofCheckName = (typeof MESSAGE_PROOF_CHECKS)[number];

export interface MessageProofCheck {
  readonly name: MessageProofCheckName;
  readonly ok: boolean;
  /** Plain words for people: what was found, or why the check failed or did not run. */
  readonly detail: string;
  /** The stable error code of a failed check (absent when it passed or did not run): what a receiver refuses with. */
  readonly code?: ErrorCode;
}

export interface VerifyMessageProofOptions {
  /**
   * Trusted log keys of the source node. Only a key named as the source log's origin
   * (`<source.node>/<source.namespace>`) counts, e.g. logVerifierForOrigin(peer, origin).
   */
  readonly logVerifiers: NoteVerifier | readonly NoteVerifier[];
  /** Witness (cosignature/v1) keys whose cosignatures count, each key name once. */
  readonly witnessVerifiers: readonly CosignatureVerifier[];
  /** How many distinct of those witnesses must have cosigned the checkpoint (0: the log signature alone). */
  readonly minWitnesses: number;
  /** The namespace this verifier receives for: the message's target must be exactly it. */
  readonly target: MessageEndpoint;
  /** The receiver's time, milliseconds since the epoch or a Date; default now. */
  readonly now?: number | Date;
  /** Clock difference tolerated before sent_at, in seconds; default DEFAULT_MAX_SKEW_SECONDS. */
  readonly maxSkewSeconds?: number;
}

export interface MessageProofVerification {
  /** True iff every check ran and passed: the receiver may accept the message. */
  readonly ok: boolean;
  /** One entry per check, in MESSAGE_PROOF_CHECKS order. */
  readonly checks: MessageProofCheck[];
  /** Once `format` passed: the parsed message, its id and the RFC 6962 leaf hash of its entry. */
  readonly message?: NamespaceMessage;
  readonly messageId?: string;
  readonly leafHash?: Uint8Array;
  /** Once `log-signature` passed: the source log's checkpoint (origin, size, root) its log key signed. */
  readonly checkpoint?: ParsedCheckpoint;
  /** Once `witnesses` passed: the names of the given witnesses that validly cosigned, in note order. */
  readonly cosigners?: string[];
  /** Once `inclusion` passed: the entry's index in the source log, for the delivery record. */
  readonly index?: number;
}

class CheckFailed extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

function fail(code: ErrorCode, why: string): never {
  throw new CheckFailed(code, why);
}

/** Rethrows a caught error as a failure of the running check, its code kept and its message prefixed. */
function failWith(e: unknown, prefix: string): never {
  fail(isRemembrancerError(e) ? e.code : 'INTERNAL', `${prefix}${errorMessage(e)}`);
}

function sameEndpoint(a: MessageEndpoint, b: MessageEndpoint): boolean {
  return a.node === b.node && a.namespace === b.namespace;
}

/**
 * What a receiver checks, offline, before it accepts a travelling message (issue 12, item 3): the
 * message is an entry of its source's log, included under a checkpoint that the source's log key
 * signed and enough trusted witnesses cosigned (https://c2sp.org/tlog-proof#verifying-a-tlog-proof),
 * and it is for this receiver, now. `message` is attacker-controlled (any relay may send it). Never
 * throws: every problem, including bad options, is a failed check with a stable code. The checks
 * run in order and the first failure stops the run; the later ones are listed as not run (ok
 * false, no code), so the list always names all seven:
 * - format: parseMessage (MESSAGE_MALFORMED);
 * - proof: `payload.proof` is present (MESSAGE_MALFORMED) and parses as c2sp.org/tlog-proof@v1
 *   (TLOG_PROOF_MALFORMED), its checkpoint's origin is `<source.node>/<source.namespace>`
 *   (ORIGIN_MISMATCH): the source's claim and the log that proves it are one;
 * - log-signature: a given log key named as that origin signed the checkpoint (ORIGIN_MISMATCH
 *   when none is given, SIGNATURE_MISSING, SIGNATURE_INVALID);
 * - witnesses: at least `minWitnesses` distinct given witnesses validly cosigned it (POLICY_NOT_MET);
 *   a failing cosignature by a given witness rejects the proof (SIGNATURE_INVALID,
 *   COSIGNATURE_MALFORMED: https://c2sp.org/signed-note#signatures, "SHOULD reject the whole note");
 * - inclusion: the message's entry (messageEntryBytes: without its proof) is at the proof's index
 *   under the checkpoint's root, RFC 9162 §2.1.3.2 (PROOF_MISMATCH, INDEX_OUT_OF_RANGE, …);
 * - target: the message's target is `options.target` (MESSAGE_WRONG_TARGET);
 * - expiry: now is within [sent_at − maxSkewSeconds, expires_at] (MESSAGE_NOT_YET_VALID,
 *   MESSAGE_EXPIRED).
 * The order puts what proves authorship first, so a refusal for target or expiry is about a real
 * message of the source. Exactly-once and seq order are the receiver's state, not checked here.
 */
export function verifyMessageProof(message: unknown, options: VerifyMessageProofOptions): MessageProofVerification {
  const checks: MessageProofCheck[] = [];
  let failed = false;
  const run = (name: MessageProofCheckName, body: () => string): void => {
    if (failed) {
      checks.push({ name, ok: false, detail: 'not run: an earlier check failed' });
      return;
    }
    try {
      checks.push({ name, ok: true, detail: body() });
    } catch (e) {
      failed = true;
      const code: ErrorCode = e instanceof CheckFailed || isRemembrancerError(e) ? e.code : 'INTERNAL';
      checks.push({ name, ok: false, detail: errorMessage(e), code });
    }
  };

  let m: NamespaceMessage | undefined;
  let id: string | undefined;
  let leaf: Uint8Array | undefined;
  let parsed!: ParsedTlogProof;
  let checkpoint: ParsedCheckpoint | undefined;
  let cosigners: string[] | undefined;
  let index: number | undefined;

  run('format', () => {
    const parsedMessage = parseMessage(message);
    const entry = messageEntryBytes(parsedMessage);
    m = parsedMessage;
    id = toHex(crypto.sha256(entry));
    leaf = rfc6962LeafHash(entry);
    return `a ${parsedMessage.format} from ${endpointOrigin(parsedMessage.source)}, id ${id}`;
  });
  run('proof', () => {
    const msg = m!;
    const origin = endpointOrigin(msg.source);
    const text = msg.payload.proof;
    if (text === undefined) fail('MESSAGE_MALFORMED', 'the message carries no payload.proof');
    parsed = parseTlogProof(text);
    const claimed = parsed.parsedCheckpoint.origin;
    if (claimed !== origin) {
      fail(
        'ORIGIN_MISMATCH',
        `the proof's checkpoint is of log ${JSON.stringify(claimed)}, not the source's log ${JSON.stringify(origin)}`,
      );
    }
    return `a tlog-proof of index ${parsed.index} under a checkpoint of ${origin} at size ${parsed.parsedCheckpoint.size} (not yet verified)`;
  });
  run('log-signature', () => {
    try {
      checkpoint = openCheckpointNote(parsed.note, options.logVerifiers).checkpoint;
    } catch (e) {
      failWith(e, "the checkpoint is not signed by the source's log key: ");
    }
    return `the log key of ${checkpoint.origin} signed its checkpoint at size ${checkpoint.size}`;
  });
  run('witnesses', () => {
    const k = options.minWitnesses;
    if (typeof k !== 'number' || !Number.isSafeInteger(k) || k < 0) {
      throw new RemembrancerError('INVALID_ARGUMENT', 'minWitnesses must be a non-negative integer');
    }
    let found: string[];
    try {
      // Cosigners come back once per (name, key ID); a witness is its key name, counted once
      // even when it is given under two keys (a rotation).
      found = [...new Set(collectNoteCosignatures(parsed.note, options.witnessVerifiers).map((c) => c.name))];
    } catch (e) {
      failWith(e, "a trusted witness's cosignature is forged or corrupted: ");
    }
    const summary = `${found.length} of the ${options.witnessVerifiers.length} trusted witness keys cosigned (${found.join(', ') || 'none'}), ${k} required`;
    if (found.length < k) fail('POLICY_NOT_MET', `witness quorum not met: ${summary}`);
    cosigners = found;
    return `witness quorum met: ${summary}`;
  });
  run('inclusion', () => {
    const cp = checkpoint!;
    try {
      verifyInclusion(parsed.index, cp.size, leaf!, parsed.proof, cp.root);
    } catch (e) {
      failWith(e, `the message is not proven to be entry ${parsed.index} of ${cp.origin} at size ${cp.size}: `);
    }
    index = parsed.index;
    return `the message is entry ${parsed.index} of ${cp.origin} in the tree of size ${cp.size}`;
  });
  run('target', () => {
    const msg = m!;
    const want = options.target;
    if (typeof want !== 'object' || want === null)
      throw new RemembrancerError('INVALID_ARGUMENT', 'the expected target must be { node, namespace }');
    if (!sameEndpoint(msg.target, want)) {
      fail(
        'MESSAGE_WRONG_TARGET',
        `the message is for ${endpointOrigin(msg.target)}, this receiver is ${endpointOrigin(want)}`,
      );
    }
    return `the message is for ${endpointOrigin(want)}`;
  });
  run('expiry', () => {
    const now = options.now ?? Date.now();
    const nowMs = now instanceof Date ? now.getTime() : now;
    return checkMessageWindow(m!, nowMs, options.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS);
  });

  return {
    ok: !failed,
    checks,
    ...(m === undefined ? {} : { message: m, messageId: id!, leafHash: leaf! }),
    ...(checkpoint === undefined ? {} : { checkpoint }),
    ...(cosigners === undefined ? {} : { cosigners }),
    ...(index === undefined ? {} : { index }),
  };
}
