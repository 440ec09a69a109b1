import { RemembrancerError, errorMessage } from '../errors.js';
import { toHex, utf8Decode } from '../encoding/index.js';
import { SIGNATURE_TYPE_COSIGNATURE_V1, SIGNATURE_TYPE_ED25519 } from '../note/key-id.js';
import { parseVkey, type Vkey } from '../note/vkey.js';
import {
  MAX_TLOG_POLICY_GROUPS,
  MAX_TLOG_POLICY_LENGTH,
  MAX_TLOG_POLICY_LOGS,
  MAX_TLOG_POLICY_WITNESSES,
  TLOG_POLICY_NONE,
  type TlogPolicy,
  type TlogPolicyGroup,
  type TlogPolicyLog,
  type TlogPolicyWitness,
} from './tlog-policy.js';

// https://c2sp.org/tlog-policy#character-set: the only octets allowed are tab, newline, 0x20-0x7E
// and 0x80-0xFF. In a JavaScript string the octets of 0x80 and up are the UTF-8 of code points
// from U+0080 on, so what remains forbidden is the other C0 controls, DEL, and lone surrogates
// (which have no UTF-8 encoding, so they cannot stand for any octets at all).
const FORBIDDEN_CHARACTER = /[\u0000-\u0008\u000b-\u001f\u007f\p{Cs}]/u;

// https://c2sp.org/tlog-policy#structure: whitespace is "sequences of ASCII space and tab
// characters *only*" (no other Unicode spaces, no CR).
const WHITESPACE = /[ \t]+/;
const EDGE_WHITESPACE = /^[ \t]+|[ \t]+$/g;
const DECIMAL = /^[0-9]+$/;

function invalid(line: number | undefined, why: string, cause?: unknown): never {
  throw new RemembrancerError(
    'POLICY_INVALID',
    line === undefined ? `invalid tlog-policy: ${why}` : `line ${line}: ${why}`,
    cause === undefined ? undefined : { cause },
  );
}

/** A token of attacker-controlled text, quoted and shortened for an error message. */
function quote(token: string): string {
  return JSON.stringify(token.length > 80 ? token.slice(0, 80) + '…' : token);
}

function codePointName(c: string): string {
  return 'U+' + (c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
}

function vkeyOf(line: number, token: string, type: number, what: string): Vkey {
  let k: Vkey;
  try {
    k = parseVkey(token);
  } catch (cause) {
    invalid(line, `${what} key ${quote(token)} is not a valid vkey: ${errorMessage(cause)}`, cause);
  }
  if (k.type !== type) {
    // https://c2sp.org/tlog-policy#public-key-representation: log keys sign checkpoints
    // (c2sp.org/tlog-checkpoint, Ed25519 0x01 here), witness keys cosign them (c2sp.org/tlog-cosignature;
    // of its types only the Ed25519 cosignature/v1, 0x04, is supported here).
    const expected =
      type === SIGNATURE_TYPE_ED25519 ? 'an Ed25519 note key (type 0x01)' : 'an Ed25519 cosignature/v1 key (type 0x04)';
    invalid(
      line,
      `${what} key ${quote(k.name)} has signature type 0x${k.type.toString(16).padStart(2, '0')}; it must be ${expected}`,
    );
  }
  return k;
}

/**
 * Parses a policy file, https://c2sp.org/tlog-policy, strictly: lines end in a newline (so the
 * text, unless empty, ends in one); items are separated by spaces and tabs only; `#` lines and
 * blank lines are ignored; names are opaque (compared exactly, no Unicode folding); a group or
 * the quorum may only name witnesses and groups defined on earlier lines, each member at most once
 * per group; `none` is reserved; two logs or two witnesses may not share a public key; exactly one
 * quorum line. Log keys must be Ed25519 (0x01), witness keys cosignature/v1 (0x04). Any violation
 * is POLICY_INVALID with the 1-based line number. `text` is attacker-controlled.
 */
export function parseTlogPolicy(text: string): TlogPolicy {
  if (typeof text !== 'string') invalid(undefined, 'not a string');
  if (text.length > MAX_TLOG_POLICY_LENGTH) invalid(undefined, `longer than ${MAX_TLOG_POLICY_LENGTH} characters`);
  const bad = FORBIDDEN_CHARACTER.exec(text);
  if (bad) {
    const line = text.slice(0, bad.index).split('\n').length;
    const what = /\p{Cs}/u.test(bad[0])
      ? 'a lone surrogate (not encodable as UTF-8)'
      : `the control character ${codePointName(bad[0])}`;
    invalid(line, `${what} is not allowed; only tab, newline and printable characters are`);
  }
  const lines = text.split('\n');
  // "each line is terminated by ASCII newline": after the last newline nothing may follow.
  const tail = lines.pop()!;
  if (tail !== '') invalid(lines.length + 1, 'the last line is not terminated by a newline');

  const logs: TlogPolicyLog[] = [];
  const witnesses: TlogPolicyWitness[] = [];
  const groups: TlogPolicyGroup[] = [];
  let quorum: string | undefined;
  // Witnesses and groups share one namespace (https://c2sp.org/tlog-policy#what-is-a-policy).
  const names = new Map<string, number>();
  const logKeys = new Map<string, number>();
  const witnessKeys = new Map<string, number>();

  const define = (line: number, name: string): void => {
    if (name === TLOG_POLICY_NONE)
      invalid(line, `the name "${TLOG_POLICY_NONE}" is predefined and cannot be defined again`);
    const earlier = names.get(name);
    if (earlier !== undefined) invalid(line, `the name ${quote(name)} is already defined on line ${earlier}`);
    names.set(name, line);
  };
  const url = (tokens: string[], at: number): { url?: string } => (tokens.length > at ? { url: tokens[at]! } : {});

  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const content = lines[i]!.replace(EDGE_WHITESPACE, '');
    if (content === '' || content.startsWith('#')) continue;
    const tokens = content.split(WHITESPACE);
    const keyword = tokens[0]!;
    switch (keyword) {
      case 'log': {
        if (tokens.length < 2 || tokens.length > 3) invalid(line, 'expected "log <vkey> [<url>]"');
        if (logs.length >= MAX_TLOG_POLICY_LOGS) invalid(line, `more than ${MAX_TLOG_POLICY_LOGS} logs`);
        const k = vkeyOf(line, tokens[1]!, SIGNATURE_TYPE_ED25519, 'log');
        // https://c2sp.org/tlog-policy#public-key-representation: duplicates wrap the same public
        // key, whatever their key names and IDs.
        const id = toHex(k.publicKey);
        const earlier = logKeys.get(id);
        if (earlier !== undefined)
          invalid(line, `duplicate log: the same public key is already listed on line ${earlier}`);
        logKeys.set(id, line);
        logs.push({ vkey: tokens[1]!, ...url(tokens, 2) });
        break;
      }
      case 'witness': {
        if (tokens.length < 3 || tokens.length > 4) invalid(line, 'expected "witness <name> <vkey> [<url>]"');
        if (witnesses.length >= MAX_TLOG_POLICY_WITNESSES)
          invalid(line, `more than ${MAX_TLOG_POLICY_WITNESSES} witnesses`);
        const name = tokens[1]!;
        define(line, name);
        const k = vkeyOf(line, tokens[2]!, SIGNATURE_TYPE_COSIGNATURE_V1, 'witness');
        const id = toHex(k.publicKey);
        const earlier = witnessKeys.get(id);
        if (earlier !== undefined)
          invalid(line, `duplicate witness: the same public key is already listed on line ${earlier}`);
        witnessKeys.set(id, line);
        witnesses.push({ name, vkey: tokens[2]!, ...url(tokens, 3) });
        break;
      }
      case 'group': {
        if (tokens.length < 4)
          invalid(line, 'expected "group <name> <all|any|k> <member>..." with at least one member');
        if (groups.length >= MAX_TLOG_POLICY_GROUPS) invalid(line, `more than ${MAX_TLOG_POLICY_GROUPS} groups`);
        const name = tokens[1]!;
        const members = tokens.slice(3);
        const seen = new Set<string>();
        for (const m of members) {
          if (m === TLOG_POLICY_NONE) invalid(line, `"${TLOG_POLICY_NONE}" cannot be a group member`);
          if (!names.has(m))
            invalid(line, `group member ${quote(m)} is not a witness or group defined on an earlier line`);
          // "Each defined name can be listed as a group member at most once."
          if (seen.has(m)) invalid(line, `group member ${quote(m)} is listed more than once`);
          seen.add(m);
        }
        const spelled = tokens[2]!;
        let threshold: number;
        if (spelled === 'all') threshold = members.length;
        else if (spelled === 'any') threshold = 1;
        else if (DECIMAL.test(spelled)) {
          // Digits beyond any possible member count are simply too large; avoid huge numbers.
          threshold = spelled.replace(/^0+(?=.)/, '').length > 6 ? Number.MAX_SAFE_INTEGER : Number(spelled);
          if (threshold < 1 || threshold > members.length) {
            invalid(
              line,
              `threshold ${quote(spelled)} must be between 1 and the number of members (${members.length})`,
            );
          }
        } else invalid(line, `threshold ${quote(spelled)} must be "all", "any" or a decimal number`);
        define(line, name);
        groups.push({ name, threshold, members });
        break;
      }
      case 'quorum': {
        if (tokens.length !== 2) invalid(line, 'expected "quorum <name>"');
        if (quorum !== undefined) invalid(line, 'a policy has exactly one quorum line; this is a second one');
        const name = tokens[1]!;
        if (name !== TLOG_POLICY_NONE && !names.has(name))
          invalid(line, `quorum ${quote(name)} is not a witness or group defined on an earlier line`);
        quorum = name;
        break;
      }
      default:
        invalid(line, `unknown line type ${quote(keyword)}; expected log, witness, group or quorum`);
    }
  }
  if (quorum === undefined) invalid(undefined, 'no quorum line (use "quorum none" to require no cosignatures)');
  return { logs, witnesses, groups, quorum };
}

/**
 * parseTlogPolicy for a file's octets. The spec lets names, URLs and comments hold any octets from
 * 0x80 on and strongly recommends UTF-8; this implementation requires valid UTF-8, because a lossy
 * decoding would merge distinct names (two invalid sequences would both become U+FFFD).
 */
export function parseTlogPolicyBytes(bytes: Uint8Array): TlogPolicy {
  if (!(bytes instanceof Uint8Array)) invalid(undefined, 'not a byte array');
  if (bytes.length > MAX_TLOG_POLICY_LENGTH) invalid(undefined, `longer than ${MAX_TLOG_POLICY_LENGTH} bytes`);
  let text: string;
  try {
    text = utf8Decode(bytes);
  } catch (cause) {
    // Name the line: decode line by line until one fails.
    let line = 1;
    let start = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i < bytes.length && bytes[i] !== 0x0a) continue;
      try {
        utf8Decode(bytes.subarray(start, i));
      } catch {
        break;
      }
      line++;
      start = i + 1;
    }
    invalid(line, 'not valid UTF-8 (non-ASCII names, URLs and comments must be UTF-8 here)', cause);
  }
  return parseTlogPolicy(text);
}
