import { RemembrancerError, parseJsonStrict, verifyReceipt } from '@vaultmesh/core';

/** One row of the Verify page: a check by name, passed or not, and why in words. */
export interface CheckRow {
  name: string;
  ok: boolean | undefined;
  code?: string;
  detail: string;
}

export interface ReceiptCheckResult {
  ok: boolean;
  rows: CheckRow[];
  /** The receipt's namespace once it parsed as JSON (to fetch its policy). */
  namespace?: string;
  /** The parsed receipt (strict JSON), for the anchor checks that follow the receipt's own. */
  value?: unknown;
}

function describe(e: unknown): { code: string; message: string } {
  return e instanceof RemembrancerError
    ? { code: e.code, message: e.message }
    : { code: 'INTERNAL', message: String(e) };
}

/**
 * Verifies a receipt (pasted or dropped: attacker-controlled text) against a C2SP tlog-policy the
 * user trusts, with @vaultmesh/core's verifyReceipt — the code `remembrancer verify --policy` runs.
 * Every check is listed with its result; those after the first failure are shown as not run.
 */
export function checkReceipt(receiptText: string, policyText: string): ReceiptCheckResult {
  let receipt: unknown;
  try {
    receipt = parseJsonStrict(receiptText);
  } catch (e) {
    const d = describe(e);
    return { ok: false, rows: [{ name: 'json', ok: false, code: d.code, detail: d.message }] };
  }
  const namespace =
    receipt !== null &&
    typeof receipt === 'object' &&
    typeof (receipt as { namespace?: unknown }).namespace === 'string'
      ? (receipt as { namespace: string }).namespace
      : undefined;
  const rows: CheckRow[] = [{ name: 'json', ok: true, detail: 'the receipt is strict JSON (no duplicate keys)' }];
  let result;
  try {
    result = verifyReceipt(receipt, { logVkeys: [], policy: policyText });
  } catch (e) {
    const d = describe(e);
    rows.push({ name: 'trust', ok: false, code: d.code, detail: `the policy is not usable: ${d.message}` });
    return { ok: false, rows, value: receipt, ...(namespace === undefined ? {} : { namespace }) };
  }
  rows.push({ name: 'trust', ok: true, detail: 'the policy parsed: its logs and witnesses are the trusted keys' });
  for (const c of result.checks)
    rows.push({ name: c.name, ok: c.ok, ...(c.code ? { code: c.code } : {}), detail: c.message ?? '' });
  return { ok: result.ok, rows, value: receipt, ...(namespace === undefined ? {} : { namespace }) };
}
