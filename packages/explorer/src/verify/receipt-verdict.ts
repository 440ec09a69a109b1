import { checkAnchors, type AnchorCheckResult, type AnchorTrustText } from './anchor-checks.ts';
import { checkReceipt, type ReceiptCheckResult } from './receipt-checks.ts';

/** The Verify page's verdict: the receipt's own checks, then its anchors' (when it parsed as JSON). */
export interface ReceiptVerdict {
  ok: boolean;
  receipt: ReceiptCheckResult;
  anchors?: AnchorCheckResult;
}

/**
 * Verifies pasted text as `remembrancer verify --policy --registry --tsa-ca --require` does: the
 * receipt against the tlog-policy, then every anchor against the registry and TSA CAs. Verified
 * only when both pass. Never rejects.
 */
export async function verifyReceiptText(
  receiptText: string,
  policyText: string,
  trust: AnchorTrustText,
): Promise<ReceiptVerdict> {
  const receipt = checkReceipt(receiptText, policyText);
  if (!('value' in receipt)) return { ok: false, receipt };
  const anchors = await checkAnchors(receipt.value, receipt.ok, trust);
  return { ok: receipt.ok && anchors.ok, receipt, anchors };
}
