import { RemembrancerError } from '../errors.js';

/** A header as Node hands it over: absent, one line, or several lines of the same field. */
export type HeaderValue = string | readonly string[] | undefined;

/**
 * Strips the leading and trailing SP and HTAB that HTTP allows around a field value
 * (RFC 9110 §5.5, RFC 9421 §2.1 step 2). A loop, not a regular expression: a field of many spaces
 * must not cost quadratic time.
 */
export function trimFieldValue(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  return value.slice(start, end);
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * The value of a field sent as one or more lines, combined as RFC 9421 §2.1 does: every line
 * trimmed, joined with ", ". Undefined when the field is absent.
 */
export function combineFieldLines(value: HeaderValue): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return trimFieldValue(value);
  if (!Array.isArray(value) || !value.every((line: unknown) => typeof line === 'string')) {
    throw new RemembrancerError('INVALID_ARGUMENT', 'a header must be a string or an array of strings');
  }
  if (value.length === 0) return undefined;
  return (value as readonly string[]).map(trimFieldValue).join(', ');
}
