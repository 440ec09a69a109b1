import { RemembrancerError } from '../errors.js';
import { loneSurrogateAt } from './unicode.js';

/*
 * A JSON (RFC 8259) parser for attacker-controlled text that also enforces I-JSON (RFC 7493):
 * no duplicate member names (JSON.parse silently keeps the last one, so two parties could read
 * different values from the same signed bytes), no lone surrogates (no UTF-8 form, so no canonical
 * bytes), and no numbers beyond double range. It is iterative, so nesting depth cannot exhaust the
 * call stack, and every error names the position where parsing stopped.
 *
 * Nesting is bounded (MAX_JSON_DEPTH): the open containers are the only state that grows without
 * producing output, so a body of millions of `[` would otherwise cost ~65 bytes of heap per byte
 * sent. With the bound, such a body fails after MAX_JSON_DEPTH + 1 characters, and the parser's own
 * state is proportional to the bound, not to the input.
 */

/**
 * Deepest nesting of arrays and objects accepted in any JSON document we parse: the number of
 * containers around the innermost value (`1` is depth 0, `[]` depth 1, `{"a":[1]}` depth 2).
 * Entries are bounded tighter
 * (MAX_ENTRY_DEPTH) so that every document that carries one (a batch, a receipt) still fits.
 */
export const MAX_JSON_DEPTH = 128;

export interface ParseJsonOptions {
  /** Deepest nesting accepted (default MAX_JSON_DEPTH). */
  readonly maxDepth?: number;
}

interface Frame {
  readonly container: unknown[] | Record<string, unknown>;
  readonly isArray: boolean;
  key: string; // member name awaiting its value (objects only)
}

const WS_SPACE = 0x20;
const WS_TAB = 0x09;
const WS_LF = 0x0a;
const WS_CR = 0x0d;

const SIMPLE_ESCAPES: Record<number, string> = {
  0x22: '"',
  0x5c: '\\',
  0x2f: '/',
  0x62: '\b',
  0x66: '\f',
  0x6e: '\n',
  0x72: '\r',
  0x74: '\t',
};

// Anything that sends a string body down the careful path: escapes, raw controls, surrogates.
const PLAIN_STRING_BREAKERS = /[\\\u0000-\u001f\ud800-\udfff]/;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** What Parser.parse returns when it stopped to let other work run (see parseJsonStrictAsync). */
const PAUSED: unique symbol = Symbol('paused');

/** How many values are parsed between two looks at the clock: cheap enough, and ~tens of µs apart. */
const VALUES_PER_CLOCK_CHECK = 256;

class Parser {
  readonly #text: string;
  readonly #maxDepth: number;
  #pos = 0;
  /** The open containers: with #pos, all the state there is, so parsing can stop and resume. */
  readonly #stack: Frame[] = [];
  #values = 0;

  constructor(text: string, maxDepth: number) {
    this.#text = text;
    this.#maxDepth = maxDepth;
  }

  fail(what: string, at = this.#pos): never {
    // Counted in place: splitting a 64 MiB body into lines just to name one would cost more than the parse.
    let line = 1;
    let lineStart = 0;
    for (let i = this.#text.indexOf('\n'); i >= 0 && i < at; i = this.#text.indexOf('\n', i + 1)) {
      line++;
      lineStart = i + 1;
    }
    const column = at - lineStart + 1;
    throw new RemembrancerError(
      'INVALID_JSON',
      `invalid JSON: ${what} at position ${at} (line ${line}, column ${column})`,
    );
  }

  skipWhitespace(): void {
    const t = this.#text;
    let p = this.#pos;
    for (;;) {
      const c = t.charCodeAt(p);
      if (c !== WS_SPACE && c !== WS_LF && c !== WS_CR && c !== WS_TAB) break;
      p++;
    }
    this.#pos = p;
  }

  unexpected(): never {
    if (this.#pos >= this.#text.length) this.fail('unexpected end of input');
    const c = this.#text.codePointAt(this.#pos)!;
    const shown =
      c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
    this.fail(`unexpected character ${shown}`);
  }

  /**
   * Parses to the end, or (when `shouldPause` says so, asked every VALUES_PER_CLOCK_CHECK values)
   * returns PAUSED at the start of a value; calling parse again resumes there.
   */
  parse(shouldPause?: () => boolean): unknown {
    const t = this.#text;
    const stack = this.#stack;
    for (;;) {
      if (shouldPause !== undefined && ++this.#values % VALUES_PER_CLOCK_CHECK === 0 && shouldPause()) return PAUSED;
      // Parse one value; containers push a frame and go on with their first element.
      this.skipWhitespace();
      let value: unknown;
      const c = t.charCodeAt(this.#pos);
      if ((c === 0x7b || c === 0x5b) && stack.length >= this.#maxDepth) {
        this.fail(`nesting deeper than ${this.#maxDepth} levels`);
      }
      if (c === 0x7b /* { */) {
        this.#pos++;
        this.skipWhitespace();
        const obj: Record<string, unknown> = {};
        if (t.charCodeAt(this.#pos) === 0x7d /* } */) {
          this.#pos++;
          value = obj;
        } else {
          stack.push({ container: obj, isArray: false, key: this.memberName(obj) });
          continue;
        }
      } else if (c === 0x5b /* [ */) {
        this.#pos++;
        this.skipWhitespace();
        if (t.charCodeAt(this.#pos) === 0x5d /* ] */) {
          this.#pos++;
          value = [];
        } else {
          stack.push({ container: [], isArray: true, key: '' });
          continue;
        }
      } else if (c === 0x22 /* " */) {
        value = this.string();
      } else if (c === 0x2d /* - */ || isDigit(c)) {
        value = this.number();
      } else if (t.startsWith('true', this.#pos)) {
        this.#pos += 4;
        value = true;
      } else if (t.startsWith('false', this.#pos)) {
        this.#pos += 5;
        value = false;
      } else if (t.startsWith('null', this.#pos)) {
        this.#pos += 4;
        value = null;
      } else {
        this.unexpected();
      }

      // Attach the finished value; close every container that ends right after it.
      for (;;) {
        const top = stack[stack.length - 1];
        if (top === undefined) {
          this.skipWhitespace();
          if (this.#pos < t.length) this.fail('unexpected data after the JSON value');
          return value;
        }
        if (top.isArray) {
          (top.container as unknown[]).push(value);
        } else {
          const obj = top.container as Record<string, unknown>;
          // A plain assignment of "__proto__" would replace the prototype instead of adding a member.
          if (top.key === '__proto__')
            Object.defineProperty(obj, top.key, { value, writable: true, enumerable: true, configurable: true });
          else obj[top.key] = value;
        }
        this.skipWhitespace();
        const d = t.charCodeAt(this.#pos);
        if (d === 0x2c /* , */) {
          this.#pos++;
          if (!top.isArray) {
            this.skipWhitespace();
            top.key = this.memberName(top.container as Record<string, unknown>);
          }
          break;
        }
        if (d === (top.isArray ? 0x5d : 0x7d)) {
          this.#pos++;
          stack.pop();
          value = top.container;
          continue;
        }
        if (this.#pos >= t.length) this.fail('unexpected end of input');
        this.fail(top.isArray ? "expected ',' or ']'" : "expected ',' or '}'");
      }
    }
  }

  /** `"name" :` of an object member, at the opening quote; refuses names already present. */
  memberName(obj: Record<string, unknown>): string {
    const at = this.#pos;
    if (this.#text.charCodeAt(at) !== 0x22) {
      if (at >= this.#text.length) this.fail('unexpected end of input');
      this.fail('expected a member name string');
    }
    const key = this.string();
    if (Object.hasOwn(obj, key)) this.fail(`duplicate member name ${JSON.stringify(key)}`, at);
    this.skipWhitespace();
    if (this.#text.charCodeAt(this.#pos) !== 0x3a /* : */) this.fail("expected ':'");
    this.#pos++;
    return key;
  }

  string(): string {
    const t = this.#text;
    const open = this.#pos;
    // Fast path: no escapes, controls or surrogates up to the closing quote (most strings).
    const close = t.indexOf('"', open + 1);
    if (close > open) {
      const raw = t.slice(open + 1, close);
      if (!PLAIN_STRING_BREAKERS.test(raw)) {
        this.#pos = close + 1;
        return raw;
      }
    }
    let p = open + 1;
    let from = p;
    let out = '';
    for (;;) {
      if (p >= t.length) this.fail('unterminated string', open);
      const c = t.charCodeAt(p);
      if (c === 0x22) break;
      if (c < 0x20) this.fail('unescaped control character in string', p);
      if (c !== 0x5c) {
        p++;
        continue;
      }
      out += t.slice(from, p);
      const e = t.charCodeAt(p + 1);
      const simple = SIMPLE_ESCAPES[e];
      if (simple !== undefined) {
        out += simple;
        p += 2;
      } else if (e === 0x75 /* u */) {
        let code = 0;
        for (let i = 2; i < 6; i++) {
          const h = hexValue(t.charCodeAt(p + i));
          if (h < 0) this.fail('invalid \\u escape', p);
          code = code * 16 + h;
        }
        out += String.fromCharCode(code);
        p += 6;
      } else {
        if (p + 1 >= t.length) this.fail('unterminated string', open);
        this.fail('invalid escape sequence', p);
      }
      from = p;
    }
    out += t.slice(from, p);
    this.#pos = p + 1;
    // Checked on the decoded value: a pair may be written as two \u escapes or literally, and a
    // lone half may hide in either form.
    if (loneSurrogateAt(out) >= 0) this.fail('string contains a lone surrogate', open);
    return out;
  }

  number(): number {
    const t = this.#text;
    const start = this.#pos;
    let p = start;
    if (t.charCodeAt(p) === 0x2d) p++;
    const first = t.charCodeAt(p);
    if (first === 0x30) {
      p++;
    } else if (isDigit(first)) {
      while (isDigit(t.charCodeAt(p))) p++;
    } else {
      this.#pos = p;
      this.unexpected();
    }
    if (t.charCodeAt(p) === 0x2e /* . */) {
      p++;
      if (!isDigit(t.charCodeAt(p))) this.fail('expected a digit after the decimal point', p);
      while (isDigit(t.charCodeAt(p))) p++;
    }
    const e = t.charCodeAt(p);
    if (e === 0x65 || e === 0x45) {
      p++;
      const sign = t.charCodeAt(p);
      if (sign === 0x2b || sign === 0x2d) p++;
      if (!isDigit(t.charCodeAt(p))) this.fail('expected a digit in the exponent', p);
      while (isDigit(t.charCodeAt(p))) p++;
    }
    // Number() rounds a JSON number spelling exactly as JSON.parse does.
    const value = Number(t.slice(start, p));
    if (!Number.isFinite(value)) this.fail('number is outside the IEEE 754 double range', start);
    this.#pos = p;
    return value;
  }
}

/**
 * JSON.parse for untrusted text, additionally rejecting duplicate member names and lone surrogates
 * (I-JSON, RFC 7493) and numbers that overflow a double. Throws INVALID_JSON with the position
 * (UTF-16 offset, line and column) of the problem, including nesting deeper than `maxDepth`.
 */
export function parseJsonStrict(text: string, options: ParseJsonOptions = {}): unknown {
  return newParser(text, options).parse();
}

export interface ParseJsonAsyncOptions extends ParseJsonOptions {
  /** Longest stretch of parsing before other work gets a turn, ms (default 4). */
  readonly sliceMs?: number;
  /** Gives other work its turn (default: a zero-delay timer; Node callers pass setImmediate). */
  readonly yieldTo?: () => Promise<void>;
}

/**
 * parseJsonStrict in slices of at most `sliceMs`, yielding between them: the same result and the
 * same errors, but a server parsing a large attacker-controlled body (hundreds of kilobytes of
 * `{"k0":0,"k1":0,…}` takes tens of milliseconds even bounded) keeps answering other requests
 * meanwhile.
 */
export async function parseJsonStrictAsync(text: string, options: ParseJsonAsyncOptions = {}): Promise<unknown> {
  const parser = newParser(text, options);
  const sliceMs = options.sliceMs ?? 4;
  const yieldTo = options.yieldTo ?? (() => new Promise<void>((resolve) => setTimeout(resolve, 0)));
  for (;;) {
    const until = performance.now() + sliceMs;
    const result = parser.parse(() => performance.now() > until);
    if (result !== PAUSED) return result;
    await yieldTo();
  }
}

function newParser(text: string, options: ParseJsonOptions): Parser {
  if (typeof text !== 'string') throw new RemembrancerError('INVALID_JSON', 'invalid JSON: input is not a string');
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH;
  if (!Number.isSafeInteger(maxDepth) || maxDepth < 1) {
    throw new RemembrancerError('INVALID_ARGUMENT', 'maxDepth must be a positive integer');
  }
  return new Parser(text, maxDepth);
}
