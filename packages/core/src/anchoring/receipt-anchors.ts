import type { Receipt } from '../receipt/receipt.js';
import type { FederationReceiptAnchor } from './federation-receipt.js';
import type { FederationReceiptTrust } from './verify-federation-receipt.js';
import { RECEIPT_ANCHOR_CHECKS, verifyReceiptAnchor, type ReceiptAnchorCheck } from './verify-receipt-anchor.js';

/** More anchors than any federation has targets: a receipt with more is refused, not verified. */
export const MAX_RECEIPT_ANCHORS = 64;

/** The outcome of one member of a receipt's `anchors`. */
export interface AnchorVerificationResult {
  readonly index: number;
  readonly ok: boolean;
  /** Every check of verifyReceiptAnchor, in RECEIPT_ANCHOR_CHECKS order. */
  readonly checks: ReceiptAnchorCheck[];
  /** Where and when it was anchored, once the federation receipt parsed. */
  readonly target?: string;
  readonly epoch?: number;
  readonly anchor?: FederationReceiptAnchor;
}

/** The `anchors` member of an anchored receipt (attacker-controlled), before any trust is needed. */
export type AnchorsMember =
  { kind: 'none' } | { kind: 'list'; anchors: readonly unknown[] } | { kind: 'invalid'; why: string };

/**
 * Reads the `anchors` member of a receipt as `GET /v1/ns/{ns}/receipt/{i}?anchored=1` serves it:
 * absent or empty is `none`; a bounded array is a `list` whose members verifyAnchors checks one by one.
 */
export function anchorsMember(receipt: unknown): AnchorsMember {
  const value =
    receipt !== null && typeof receipt === 'object' ? (receipt as Record<string, unknown>)['anchors'] : undefined;
  if (value === undefined) return { kind: 'none' };
  if (!Array.isArray(value)) return { kind: 'invalid', why: 'anchors must be an array' };
  if (value.length > MAX_RECEIPT_ANCHORS) {
    return { kind: 'invalid', why: `anchors holds ${value.length} members, more than ${MAX_RECEIPT_ANCHORS}` };
  }
  return value.length === 0 ? { kind: 'none' } : { kind: 'list', anchors: value };
}

/** Every check of one anchor reported as not run, for a receipt whose entry checks failed. */
export function anchorNotRun(index: number, why: string): AnchorVerificationResult {
  return {
    index,
    ok: false,
    checks: RECEIPT_ANCHOR_CHECKS.map((name) => ({ name, ok: false, detail: `not run: ${why}` })),
  };
}

/**
 * Verifies each anchor of a receipt that already passed verifyReceipt (issue 10 item 9: entry →
 * checkpoint → witness quorum → epoch root → federation quorum → timestamp), one after another.
 * Never rejects: every failure is a failed check of its anchor.
 */
export async function verifyAnchors(
  receipt: Pick<Receipt, 'origin' | 'index' | 'checkpoint'>,
  anchors: readonly unknown[],
  trust: FederationReceiptTrust,
): Promise<AnchorVerificationResult[]> {
  const results: AnchorVerificationResult[] = [];
  for (const [index, anchor] of anchors.entries()) {
    const v = await verifyReceiptAnchor(receipt, anchor, trust);
    const fr = v.receipt;
    results.push({
      index,
      ok: v.ok,
      checks: v.checks,
      ...(fr === undefined ? {} : { target: fr.statement.target, epoch: fr.statement.epoch, anchor: fr.anchor }),
    });
  }
  return results;
}
