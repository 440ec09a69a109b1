import { BitString, Sequence } from 'asn1js';
import { TimeStampResp } from 'pkijs';
import { decodeWhole, encodedBytes } from './asn1-input.js';
import { failCheck, underCheckSync } from './timestamp-check.js';
import { verifyTimestampToken } from './timestamp-token.js';
import type { TimestampExpectation, VerifiedTimestamp } from './verified-timestamp.js';

/** PKIStatus values (RFC 3161 §2.4.2). */
const STATUS_NAMES = [
  'granted',
  'grantedWithMods',
  'rejection',
  'waiting',
  'revocationWarning',
  'revocationNotification',
];

/** PKIFailureInfo bits (RFC 3161 §2.4.2). */
const FAILURE_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'badAlg'],
  [2, 'badRequest'],
  [5, 'badDataFormat'],
  [14, 'timeNotAvailable'],
  [15, 'unacceptedPolicy'],
  [16, 'unacceptedExtension'],
  [17, 'addInfoNotAvailable'],
  [25, 'systemFailure'],
]);

/** Names of the bits set in a PKIFailureInfo BIT STRING (bit 0 is the most significant bit). */
function failureNames(failInfo: unknown): string[] {
  if (!(failInfo instanceof BitString)) return [];
  const bytes = failInfo.valueBlock.valueHexView;
  const names: string[] = [];
  const bits = bytes.length * 8 - (failInfo.valueBlock.unusedBits ?? 0);
  for (let bit = 0; bit < bits && bit < 64; bit++) {
    if ((bytes[bit >> 3]! & (0x80 >> (bit & 7))) !== 0) names.push(FAILURE_NAMES.get(bit) ?? `bit${bit}`);
  }
  return names;
}

/** Printable text of the TSA's statusString, bounded: it is attacker-controlled and ends up in logs. */
function statusText(strings: readonly { valueBlock: { value: unknown } }[] | undefined): string {
  const text = (strings ?? []).map((s) => String(s.valueBlock.value)).join('; ');
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 200 ? printable.slice(0, 200) + '...' : printable;
}

/**
 * Verifies a TimeStampResp (RFC 3161 §2.4.2, https://www.rfc-editor.org/rfc/rfc3161#section-2.4.2)
 * as a TSA answered a request built with `expect.digest` and `expect.nonce`; `responseDer` is
 * attacker-controlled. The status must be granted (0) or grantedWithMods (1), else
 * TIMESTAMP_REJECTED naming the status and failInfo ("When the status contains the value zero or
 * one, a TimeStampToken MUST be present"); the token is then checked by verifyTimestampToken,
 * including that it echoes the nonce. Returns the token exactly as the response carried it.
 */
export async function verifyTimestampResponse(
  responseDer: Uint8Array,
  expect: TimestampExpectation,
): Promise<VerifiedTimestamp> {
  const root = decodeWhole(responseDer, 'TimeStampResp');
  const response = underCheckSync(
    'TIMESTAMP_MALFORMED',
    'structure',
    'not a TimeStampResp',
    () => new TimeStampResp({ schema: root }),
  );
  const status = response.status.status as number;
  if (status !== 0 && status !== 1) {
    const failures = failureNames(response.status.failInfo);
    const text = statusText(response.status.statusStrings);
    failCheck(
      'TIMESTAMP_REJECTED',
      'status',
      `the TSA answered status ${status} (${STATUS_NAMES[status] ?? 'unknown'})` +
        (failures.length > 0 ? `, failInfo ${failures.join(', ')}` : '') +
        (text !== '' ? `: ${text}` : ''),
    );
  }
  // The token's own bytes, not a re-encoding: they are what gets stored, hashed and served.
  const tokenNode = root instanceof Sequence ? root.valueBlock.value[1] : undefined;
  if (tokenNode === undefined)
    failCheck('TIMESTAMP_MALFORMED', 'structure', 'the response grants a time-stamp but carries no token');
  return verifyTimestampToken(encodedBytes(tokenNode), expect);
}
