import { RemembrancerError, errorMessage } from '../errors.js';
import { parseTlogPolicy } from './parse-tlog-policy.js';
import type { TlogPolicy } from './tlog-policy.js';

export interface FormatTlogPolicyOptions {
  /** Comment lines written first, each as `# <text>`; no newlines or control characters. */
  readonly comments?: readonly string[];
}

// One item of a policy line: no whitespace, no newline, no forbidden character
// (https://c2sp.org/tlog-policy#character-set), non-empty.
const ITEM = /^[^\u0000-\u0020\u007f\p{Cs}]+$/u;
const COMMENT = /^[^\u0000-\u0008\u000a-\u001f\u007f\p{Cs}]*$/u;

function invalid(why: string): never {
  throw new RemembrancerError('POLICY_INVALID', `cannot format tlog-policy: ${why}`);
}

function item(what: string, v: unknown): string {
  if (typeof v !== 'string' || !ITEM.test(v))
    invalid(`${what} ${JSON.stringify(v)} must be a non-empty string without whitespace or control characters`);
  return v;
}

function threshold(k: number, n: number): string {
  if (k === n) return 'all';
  if (k === 1) return 'any';
  return String(k);
}

/**
 * The canonical text of a policy (https://c2sp.org/tlog-policy): comments, then every `log`, every
 * `witness`, the groups in order, and the `quorum` line, items separated by one space, each line
 * ending in a newline; a group's threshold is written `all` when it is the member count, `any`
 * when it is 1, else in decimal. The result is parsed again before it is returned, so an invalid
 * policy is POLICY_INVALID here too, and parseTlogPolicy(formatTlogPolicy(p)) equals p.
 */
export function formatTlogPolicy(policy: TlogPolicy, options: FormatTlogPolicyOptions = {}): string {
  let out = '';
  for (const c of options.comments ?? []) {
    if (typeof c !== 'string' || !COMMENT.test(c))
      invalid(`comment ${JSON.stringify(c)} must be one line without control characters`);
    out += c === '' ? '#\n' : `# ${c}\n`;
  }
  for (const l of policy.logs)
    out += `log ${item('log vkey', l.vkey)}${l.url === undefined ? '' : ' ' + item('log URL', l.url)}\n`;
  for (const w of policy.witnesses) {
    out += `witness ${item('witness name', w.name)} ${item('witness vkey', w.vkey)}${w.url === undefined ? '' : ' ' + item('witness URL', w.url)}\n`;
  }
  for (const g of policy.groups) {
    if (!Array.isArray(g.members) || g.members.length === 0) invalid(`group ${JSON.stringify(g.name)} has no members`);
    if (!Number.isSafeInteger(g.threshold) || g.threshold < 1 || g.threshold > g.members.length) {
      invalid(`group ${JSON.stringify(g.name)} threshold must be between 1 and its member count`);
    }
    out += `group ${item('group name', g.name)} ${threshold(g.threshold, g.members.length)} ${g.members.map((m) => item('group member', m)).join(' ')}\n`;
  }
  out += `quorum ${item('quorum', policy.quorum)}\n`;
  try {
    parseTlogPolicy(out);
  } catch (e) {
    invalid(errorMessage(e));
  }
  return out;
}
