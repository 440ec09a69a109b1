import { RemembrancerError } from '../errors.js';
import { base64Decode, base64Encode } from '../encoding/index.js';

/**
 * RFC 8941 Structured Field Values, as far as HTTP Message Signatures (RFC 9421) and Digest Fields
 * (RFC 9530) need them: Dictionaries, Lists, Inner Lists, Parameters and every RFC 8941 bare item
 * type. https://www.rfc-editor.org/rfc/rfc8941
 *
 * Parsing follows §4.2 step by step with two deliberate strictnesses, both of which only refuse
 * input an RFC 8941 serializer never produces:
 * - a key repeated within one Dictionary or one set of Parameters is an error instead of "last one
 *   wins" (§4.2.2, §4.2.3.2), so that a proxy and this code can never disagree about which value
 *   counts (which `created`, which `sig1`);
 * - Byte Sequences must be padded base64 with zero trailing bits (§4.2.7 only says parsers SHOULD
 *   NOT fail there), so every byte string has exactly one accepted encoding.
 *
 * Integers and Decimals are kept apart by a type tag since a JavaScript number cannot say whether
 * it was written `1` or `1.0`.
 */
export type SfBareItem =
  | { readonly type: 'integer'; readonly value: number }
  | { readonly type: 'decimal'; readonly value: number }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'token'; readonly value: string }
  | { readonly type: 'binary'; readonly value: Uint8Array }
  | { readonly type: 'boolean'; readonly value: boolean };

/** Ordered parameters (§3.1.2); keys are unique. */
export type SfParameters = ReadonlyMap<string, SfBareItem>;

export interface SfItem {
  readonly value: SfBareItem;
  readonly params: SfParameters;
}

export interface SfInnerList {
  readonly items: readonly SfItem[];
  readonly params: SfParameters;
}

/** A List or Dictionary member (§3.1, §3.2). */
export type SfMember = SfItem | SfInnerList;

export type SfList = readonly SfMember[];

/** Ordered Dictionary (§3.2); keys are unique. */
export type SfDictionary = ReadonlyMap<string, SfMember>;

/** Largest magnitude of an Integer (§3.3.1): fifteen decimal digits. */
export const SF_MAX_INTEGER = 999_999_999_999_999;

/**
 * Default bound on the length of a field value handed to the parsers. Node's own limit on all
 * request headers together is 16 KiB, so a single structured field longer than that is absurd.
 */
export const SF_MAX_FIELD_LENGTH = 16_384;

export interface SfParseOptions {
  /** Longest accepted input in characters; longer input fails before parsing. */
  readonly maxLength?: number;
}

const EMPTY_PARAMS: SfParameters = new Map();

export function sfInteger(value: number): SfBareItem {
  return { type: 'integer', value };
}
export function sfDecimal(value: number): SfBareItem {
  return { type: 'decimal', value };
}
export function sfString(value: string): SfBareItem {
  return { type: 'string', value };
}
export function sfToken(value: string): SfBareItem {
  return { type: 'token', value };
}
export function sfBinary(value: Uint8Array): SfBareItem {
  return { type: 'binary', value };
}
export function sfBoolean(value: boolean): SfBareItem {
  return { type: 'boolean', value };
}

/** An Item with the given parameters (none by default). */
export function sfItem(value: SfBareItem, params: SfParameters = EMPTY_PARAMS): SfItem {
  return { value, params };
}

export function isSfInnerList(member: SfMember): member is SfInnerList {
  return 'items' in member;
}

// ---------------------------------------------------------------------------------------------
// Character classes

const SP = 0x20;
const HTAB = 0x09;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
function isLcAlpha(c: number): boolean {
  return c >= 0x61 && c <= 0x7a;
}
function isAlpha(c: number): boolean {
  return isLcAlpha(c) || (c >= 0x41 && c <= 0x5a);
}
/** tchar of RFC 9110 §5.6.2. */
function isTchar(c: number): boolean {
  return isAlpha(c) || isDigit(c) || (c < 0x80 && "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)));
}
/** key = ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" ), §3.1.2. */
function isKeyStart(c: number): boolean {
  return isLcAlpha(c) || c === 0x2a;
}
function isKeyChar(c: number): boolean {
  return isLcAlpha(c) || isDigit(c) || c === 0x5f || c === 0x2d || c === 0x2e || c === 0x2a;
}
function isBase64Char(c: number): boolean {
  return isAlpha(c) || isDigit(c) || c === 0x2b || c === 0x2f || c === 0x3d;
}

const KEY_PATTERN = /^[a-z*][a-z0-9_\-.*]*$/;
const TOKEN_PATTERN = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*$/;

export function isSfKey(s: string): boolean {
  return typeof s === 'string' && KEY_PATTERN.test(s);
}

export function isSfToken(s: string): boolean {
  return typeof s === 'string' && TOKEN_PATTERN.test(s);
}

/** True iff `s` can be serialized as an sf-string: only printable ASCII and space (§3.3.3). */
export function isSfStringValue(s: string): boolean {
  if (typeof s !== 'string') return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Parsing (§4.2). The input is attacker-controlled: every path ends in a return or a
// RemembrancerError, and the work is linear in the (bounded) input length.

class Parser {
  private pos = 0;

  constructor(private readonly s: string) {}

  fail(why: string): never {
    throw new RemembrancerError('INVALID_ENCODING', `invalid structured field: ${why} at offset ${this.pos}`);
  }

  get done(): boolean {
    return this.pos >= this.s.length;
  }

  /** The next character code, or -1 at the end. */
  peek(): number {
    return this.pos < this.s.length ? this.s.charCodeAt(this.pos) : -1;
  }

  consume(): number {
    return this.s.charCodeAt(this.pos++);
  }

  skipSP(): void {
    while (this.peek() === SP) this.pos++;
  }

  /** OWS of RFC 9110: spaces and horizontal tabs. */
  skipOWS(): void {
    for (let c = this.peek(); c === SP || c === HTAB; c = this.peek()) this.pos++;
  }

  // §4.2.1
  parseList(): SfMember[] {
    const members: SfMember[] = [];
    while (!this.done) {
      members.push(this.parseItemOrInnerList());
      this.skipOWS();
      if (this.done) return members;
      if (this.consume() !== 0x2c) this.fail('expected "," after a list member');
      this.skipOWS();
      if (this.done) this.fail('trailing comma');
    }
    return members;
  }

  // §4.2.1.1
  parseItemOrInnerList(): SfMember {
    return this.peek() === 0x28 ? this.parseInnerList() : this.parseItem();
  }

  // §4.2.1.2
  parseInnerList(): SfInnerList {
    if (this.consume() !== 0x28) this.fail('expected "("');
    const items: SfItem[] = [];
    while (!this.done) {
      this.skipSP();
      if (this.peek() === 0x29) {
        this.pos++;
        return { items, params: this.parseParameters() };
      }
      items.push(this.parseItem());
      const c = this.peek();
      if (c !== SP && c !== 0x29) this.fail('expected space or ")" after an inner list item');
    }
    this.fail('inner list is not closed');
  }

  // §4.2.2, except that a repeated key fails
  parseDictionary(): Map<string, SfMember> {
    const dict = new Map<string, SfMember>();
    while (!this.done) {
      const at = this.pos;
      const key = this.parseKey();
      if (dict.has(key)) {
        this.pos = at;
        this.fail(`duplicate dictionary key ${JSON.stringify(key)}`);
      }
      let member: SfMember;
      if (this.peek() === 0x3d) {
        this.pos++;
        member = this.parseItemOrInnerList();
      } else {
        member = { value: { type: 'boolean', value: true }, params: this.parseParameters() };
      }
      dict.set(key, member);
      this.skipOWS();
      if (this.done) return dict;
      if (this.consume() !== 0x2c) this.fail('expected "," after a dictionary member');
      this.skipOWS();
      if (this.done) this.fail('trailing comma');
    }
    return dict;
  }

  // §4.2.3
  parseItem(): SfItem {
    const value = this.parseBareItem();
    return { value, params: this.parseParameters() };
  }

  // §4.2.3.1
  parseBareItem(): SfBareItem {
    const c = this.peek();
    if (c === 0x2d || isDigit(c)) return this.parseIntegerOrDecimal();
    if (c === 0x22) return { type: 'string', value: this.parseString() };
    if (isAlpha(c) || c === 0x2a) return { type: 'token', value: this.parseToken() };
    if (c === 0x3a) return { type: 'binary', value: this.parseByteSequence() };
    if (c === 0x3f) return { type: 'boolean', value: this.parseBoolean() };
    this.fail(c < 0 ? 'expected an item, found the end' : 'unrecognized item type');
  }

  // §4.2.3.2, except that a repeated key fails
  parseParameters(): Map<string, SfBareItem> {
    const params = new Map<string, SfBareItem>();
    while (this.peek() === 0x3b) {
      this.pos++;
      this.skipSP();
      const at = this.pos;
      const key = this.parseKey();
      if (params.has(key)) {
        this.pos = at;
        this.fail(`duplicate parameter ${JSON.stringify(key)}`);
      }
      let value: SfBareItem = { type: 'boolean', value: true };
      if (this.peek() === 0x3d) {
        this.pos++;
        value = this.parseBareItem();
      }
      params.set(key, value);
    }
    return params;
  }

  // §4.2.3.3
  parseKey(): string {
    const start = this.pos;
    if (!isKeyStart(this.peek())) this.fail('expected a key (lowercase letter or "*")');
    this.pos++;
    while (isKeyChar(this.peek())) this.pos++;
    return this.s.slice(start, this.pos);
  }

  // §4.2.4
  parseIntegerOrDecimal(): SfBareItem {
    let decimal = false;
    let sign = 1;
    let digits = '';
    if (this.peek() === 0x2d) {
      this.pos++;
      sign = -1;
    }
    if (this.done) this.fail('empty integer');
    if (!isDigit(this.peek())) this.fail('expected a digit');
    while (!this.done) {
      const c = this.peek();
      if (isDigit(c)) {
        digits += String.fromCharCode(c);
      } else if (!decimal && c === 0x2e) {
        if (digits.length > 12) this.fail('decimal has more than 12 integer digits');
        digits += '.';
        decimal = true;
      } else {
        break;
      }
      this.pos++;
      if (!decimal && digits.length > 15) this.fail('integer has more than 15 digits');
      if (decimal && digits.length > 16) this.fail('decimal is longer than 16 characters');
    }
    if (!decimal) {
      const n = Number(digits);
      return { type: 'integer', value: sign < 0 && n !== 0 ? -n : n };
    }
    if (digits.endsWith('.')) this.fail('decimal ends with "."');
    if (digits.length - digits.indexOf('.') - 1 > 3) this.fail('decimal has more than 3 fraction digits');
    const n = Number(digits);
    return { type: 'decimal', value: sign < 0 && n !== 0 ? -n : n };
  }

  // §4.2.5
  parseString(): string {
    if (this.consume() !== 0x22) this.fail('expected a double quote');
    let out = '';
    while (!this.done) {
      const c = this.consume();
      if (c === 0x5c) {
        if (this.done) this.fail('string ends in a backslash');
        const next = this.consume();
        if (next !== 0x22 && next !== 0x5c) this.fail('backslash escapes something other than \\ or "');
        out += String.fromCharCode(next);
      } else if (c === 0x22) {
        return out;
      } else if (c < 0x20 || c > 0x7e) {
        this.fail('control or non-ASCII character in a string');
      } else {
        out += String.fromCharCode(c);
      }
    }
    this.fail('string is not closed');
  }

  // §4.2.6
  parseToken(): string {
    const start = this.pos;
    const c = this.peek();
    if (!isAlpha(c) && c !== 0x2a) this.fail('expected a token');
    this.pos++;
    for (let d = this.peek(); d >= 0 && (isTchar(d) || d === 0x3a || d === 0x2f); d = this.peek()) this.pos++;
    return this.s.slice(start, this.pos);
  }

  // §4.2.7, with strict base64
  parseByteSequence(): Uint8Array {
    if (this.consume() !== 0x3a) this.fail('expected ":"');
    const end = this.s.indexOf(':', this.pos);
    if (end < 0) this.fail('byte sequence is not closed');
    const b64 = this.s.slice(this.pos, end);
    for (let i = 0; i < b64.length; i++) {
      if (!isBase64Char(b64.charCodeAt(i))) {
        this.pos += i;
        this.fail('character outside the base64 alphabet in a byte sequence');
      }
    }
    let bytes: Uint8Array;
    try {
      bytes = base64Decode(b64);
    } catch (cause) {
      throw new RemembrancerError(
        'INVALID_ENCODING',
        `invalid structured field: byte sequence is not canonical padded base64 at offset ${this.pos}`,
        { cause },
      );
    }
    this.pos = end + 1;
    return bytes;
  }

  // §4.2.8
  parseBoolean(): boolean {
    if (this.consume() !== 0x3f) this.fail('expected "?"');
    const c = this.done ? -1 : this.consume();
    if (c === 0x31) return true;
    if (c === 0x30) return false;
    this.fail('boolean must be ?0 or ?1');
  }
}

/** §4.2 steps 1, 2, 4 and 5 around the type-specific parse of step 3. */
function parseField<T>(input: string, options: SfParseOptions | undefined, parse: (p: Parser) => T): T {
  const fail = (why: string): never => {
    throw new RemembrancerError('INVALID_ENCODING', `invalid structured field: ${why}`);
  };
  if (typeof input !== 'string') fail('not a string');
  const max = options?.maxLength ?? SF_MAX_FIELD_LENGTH;
  if (input.length > max) fail(`longer than ${max} characters`);
  for (let i = 0; i < input.length; i++) {
    if (input.charCodeAt(i) > 0x7f) fail(`non-ASCII character at offset ${i}`);
  }
  const p = new Parser(input);
  p.skipSP();
  const value = parse(p);
  p.skipSP();
  if (!p.done) p.fail('unexpected characters after the value');
  return value;
}

/** Parses a Dictionary field value (§4.2.2); fails with INVALID_ENCODING. */
export function parseSfDictionary(input: string, options?: SfParseOptions): SfDictionary {
  return parseField(input, options, (p) => p.parseDictionary());
}

/** Parses a List field value (§4.2.1); fails with INVALID_ENCODING. */
export function parseSfList(input: string, options?: SfParseOptions): SfList {
  return parseField(input, options, (p) => p.parseList());
}

/** Parses an Item field value (§4.2.3); fails with INVALID_ENCODING. */
export function parseSfItem(input: string, options?: SfParseOptions): SfItem {
  return parseField(input, options, (p) => p.parseItem());
}

// ---------------------------------------------------------------------------------------------
// Serialization (§4.1). Values come from our own code, so a value that cannot be serialized is a
// programming error: INVALID_ARGUMENT.

function cannot(why: string): never {
  throw new RemembrancerError('INVALID_ARGUMENT', `cannot serialize structured field: ${why}`);
}

/** §4.1.1.3 */
export function serializeSfKey(key: string): string {
  if (!isSfKey(key)) cannot(`invalid key ${JSON.stringify(key)}`);
  return key;
}

/** §4.1.1.2 */
export function serializeSfParameters(params: SfParameters): string {
  let out = '';
  for (const [key, value] of params) {
    out += ';' + serializeSfKey(key);
    if (!(value.type === 'boolean' && value.value === true)) out += '=' + serializeSfBareItem(value);
  }
  return out;
}

/** §4.1.3 */
export function serializeSfItem(item: SfItem): string {
  return serializeSfBareItem(item.value) + serializeSfParameters(item.params);
}

/** §4.1.1.1 */
export function serializeSfInnerList(list: SfInnerList): string {
  return '(' + list.items.map(serializeSfItem).join(' ') + ')' + serializeSfParameters(list.params);
}

function serializeMember(m: SfMember): string {
  return isSfInnerList(m) ? serializeSfInnerList(m) : serializeSfItem(m);
}

/** §4.1.1 */
export function serializeSfList(list: SfList): string {
  return list.map(serializeMember).join(', ');
}

/** §4.1.2 */
export function serializeSfDictionary(dict: SfDictionary): string {
  const parts: string[] = [];
  for (const [key, member] of dict) {
    let s = serializeSfKey(key);
    if (!isSfInnerList(member) && member.value.type === 'boolean' && member.value.value === true) {
      s += serializeSfParameters(member.params);
    } else {
      s += '=' + serializeMember(member);
    }
    parts.push(s);
  }
  return parts.join(', ');
}

/** §4.1.3.1 */
export function serializeSfBareItem(item: SfBareItem): string {
  switch (item.type) {
    case 'integer':
      return serializeInteger(item.value);
    case 'decimal':
      return serializeDecimal(item.value);
    case 'string':
      return serializeString(item.value);
    case 'token':
      if (!isSfToken(item.value)) cannot(`invalid token ${JSON.stringify(item.value)}`);
      return item.value;
    case 'binary':
      if (!(item.value instanceof Uint8Array)) cannot('byte sequence is not a Uint8Array');
      return ':' + base64Encode(item.value) + ':';
    case 'boolean':
      if (typeof item.value !== 'boolean') cannot('boolean is not a boolean');
      return item.value ? '?1' : '?0';
    default:
      return cannot(`unknown item type ${JSON.stringify((item as { type: unknown }).type)}`);
  }
}

// §4.1.4
function serializeInteger(v: number): string {
  if (!Number.isInteger(v) || Math.abs(v) > SF_MAX_INTEGER) cannot(`integer out of range: ${String(v)}`);
  return v === 0 ? '0' : String(v);
}

// §4.1.5: at most 12 integer digits, rounded to 3 fraction digits (ties to even), at least one
// fraction digit and no trailing zeros beyond it.
function serializeDecimal(v: number): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) cannot(`decimal is not finite: ${String(v)}`);
  const scaled = Math.abs(v) * 1000;
  let thousandths = Math.round(scaled);
  if (scaled - Math.floor(scaled) === 0.5 && thousandths % 2 === 1) thousandths -= 1;
  const intPart = Math.floor(thousandths / 1000);
  if (intPart > 999_999_999_999) cannot(`decimal has more than 12 integer digits: ${String(v)}`);
  const frac =
    String(thousandths % 1000)
      .padStart(3, '0')
      .replace(/0+$/, '') || '0';
  return (v < 0 && thousandths !== 0 ? '-' : '') + String(intPart) + '.' + frac;
}

// §4.1.6
function serializeString(s: string): string {
  if (!isSfStringValue(s)) cannot('string holds a character outside printable ASCII and space');
  return '"' + s.replace(/[\\"]/g, (c) => '\\' + c) + '"';
}
