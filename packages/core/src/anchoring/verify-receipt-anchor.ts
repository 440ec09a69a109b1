import { RemembrancerError, errorMessage } from '../errors.js';
import { base64Decode } from '../encoding/index.js';
import { parseCheckpoint } from '../checkpoint/checkpoint.js';
import { verifyConsistency } from '../merkle/index.js';
import { arrayOf, integerIn, isObject, objectWith } from '../namespace/json-members.js';
import { parseNote } from '../note/signed-note.js';
import type { Receipt } from '../receipt/receipt.js';
import { MAX_TLOG_PROOF_HASHES } from '../tlog-proof/tlog-proof.js';
import { base64Hash } from './document-members.js';
import {
  FEDERATION_RECEIPT_CHECKS,
  verifyFederationReceipt,
  type FederationReceiptTrust,
  type FederationReceiptVerification,
} from './verify-federation-receipt.js';

/** The checks of verifyReceiptAnchor: the federation receipt's, then the link to the entry. */
export const RECEIPT_ANCHOR_CHECKS = [...FEDERATION_RECEIPT_CHECKS, 'consistency'] as const;
export type ReceiptAnchorCheckName = (typeof RECEIPT_ANCHOR_CHECKS)[number];

export interface ReceiptAnchorCheck {
  readonly name: ReceiptAnchorCheckName;
  readonly ok: boolean;
  readonly detail: string;
}

export interface ReceiptAnchorVerification extends Omit<FederationReceiptVerification, 'checks'> {
  /** One entry per name of RECEIPT_ANCHOR_CHECKS, in order. */
  readonly checks: ReceiptAnchorCheck[];
}

const E = 'RECEIPT_MALFORMED' as const;

/** The anchor's `consistency` member: from the smaller checkpoint size to the larger. */
function parseConsistency(value: unknown): { from: number; to: number; proof: Uint8Array[] } {
  const c = objectWith(E, value, '/consistency', ['from', 'to', 'proof']);
  const from = integerIn(E, c['from'], '/consistency/from', 1, Number.MAX_SAFE_INTEGER);
  const to = integerIn(E, c['to'], '/consistency/to', 1, Number.MAX_SAFE_INTEGER);
  const proof = arrayOf(E, c['proof'], '/consistency/proof', MAX_TLOG_PROOF_HASHES, (h, at) =>
    base64Decode(base64Hash(E, h, at)),
  );
  return { from, to, proof };
}

/**
 * Verifies one member of an anchored receipt's `anchors` (attacker-controlled:
 * `{ federation_receipt, consistency? }`, as `GET /v1/ns/{ns}/receipt/{i}?anchored=1` serves it)
 * against the entry receipt it came with, offline. `receipt` must already have passed
 * verifyReceipt, which proves the entry is in its checkpoint and the log signed that checkpoint.
 * Runs verifyFederationReceipt on the federation receipt, then `consistency`: the anchored leaf is
 * of the receipt's origin, covers the entry (index < leaf size), and the RFC 9162 §2.1.4
 * consistency proof links the receipt's checkpoint to the anchored one (from the smaller size to
 * the larger; absent, or empty, when the sizes are equal, and then the roots must be too). With a
 * smaller receipt checkpoint the proof shows its tree is a prefix of the anchored tree; with a
 * larger one it shows the anchored tree is a prefix of the receipt's, which holds the entry below
 * the anchored size. Never throws or rejects; stops at the first failure like
 * verifyFederationReceipt.
 */
export async function verifyReceiptAnchor(
  receipt: Pick<Receipt, 'origin' | 'index' | 'checkpoint'>,
  anchor: unknown,
  trust: FederationReceiptTrust,
): Promise<ReceiptAnchorVerification> {
  const members = isObject(anchor) ? anchor : {};
  const federation = await verifyFederationReceipt(members['federation_receipt'], trust);
  const checks: ReceiptAnchorCheck[] = [...federation.checks];
  const done = (ok: boolean, detail: string): ReceiptAnchorVerification => {
    checks.push({ name: 'consistency', ok, detail });
    return { ...federation, ok: federation.ok && ok, checks };
  };
  const fr = federation.receipt;
  if (!federation.ok || fr === undefined) return done(false, 'not run: an earlier check failed');
  try {
    objectWith(E, anchor, '', ['federation_receipt', 'consistency']);
    const leaf = fr.leaf;
    if (leaf.origin !== receipt.origin) {
      throw new RemembrancerError(
        'ORIGIN_MISMATCH',
        `the anchor is of ${JSON.stringify(leaf.origin)}, the receipt of ${JSON.stringify(receipt.origin)}`,
      );
    }
    if (!(receipt.index < leaf.size)) {
      throw new RemembrancerError(
        'INDEX_OUT_OF_RANGE',
        `the anchored checkpoint of size ${leaf.size} does not hold entry ${receipt.index}`,
      );
    }
    const mine = parseCheckpoint(parseNote(receipt.checkpoint).text);
    const anchored = { size: leaf.size, root: base64Decode(leaf.root) };
    const [small, large] = mine.size <= anchored.size ? [mine, anchored] : [anchored, mine];
    const given = members['consistency'] === undefined ? undefined : parseConsistency(members['consistency']);
    if (given === undefined ? small.size !== large.size : given.from !== small.size || given.to !== large.size) {
      throw new RemembrancerError(
        'PROOF_MALFORMED',
        given === undefined
          ? `no consistency proof from size ${small.size} to ${large.size}`
          : `the consistency proof is from ${given.from} to ${given.to}, not ${small.size} to ${large.size}`,
      );
    }
    try {
      verifyConsistency(small.size, large.size, given?.proof ?? [], small.root, large.root);
    } catch (e) {
      throw new RemembrancerError(
        'PROOF_MISMATCH',
        `the receipt's checkpoint and the anchored one are not consistent: ${errorMessage(e)}`,
        { cause: e },
      );
    }
    const how =
      mine.size === anchored.size
        ? "is the receipt's checkpoint"
        : `is consistent with the receipt's checkpoint of size ${mine.size}`;
    return done(true, `the anchored checkpoint of size ${leaf.size} holds entry ${receipt.index} and ${how}`);
  } catch (e) {
    return done(false, errorMessage(e));
  }
}
