// Shared fast-check building blocks for the note, checkpoint, cosignature, tlog-proof and receipt
// tests (not a test file itself).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RemembrancerError } from '../../src/index.js';

/** Runs fn and fails unless it returns or throws a RemembrancerError. */
export function onlyRemembrancerErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof RemembrancerError, `threw a non-RemembrancerError: ${String(e)}`);
  }
}

/** Characters that stress the parsers: separators, em dash, plus, spaces, controls, surrogates. */
const nasty = fc.constantFrom(
  '\n',
  '\n\n',
  '\u2014',
  '\u2014 ',
  ' ',
  '+',
  '=',
  '/',
  '\r',
  '\t',
  '\u0000',
  '\u0085',
  '\u00a0',
  '\u3000',
  '\ud800',
  '\udc00',
  '😀',
  'A',
  '0',
  '-',
);

/** Arbitrary strings biased towards the characters that matter to the line formats. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.array(fc.oneof(nasty, fc.string({ maxLength: 4 })), { maxLength: 60 }).map((a) => a.join('')),
);

/** Mutations of a valid text: cut, insert, replace, duplicate. */
export function mutated(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc
    .tuple(
      valid,
      fc.nat(),
      fc.nat(),
      fc.oneof(nasty, fc.string({ maxLength: 3 })),
      fc.constantFrom('cut', 'insert', 'replace', 'truncate'),
    )
    .map(([s, a, b, ins, op]) => {
      const i = s.length === 0 ? 0 : a % s.length;
      const j = s.length === 0 ? 0 : b % s.length;
      switch (op) {
        case 'cut':
          return s.slice(0, Math.min(i, j)) + s.slice(Math.max(i, j));
        case 'insert':
          return s.slice(0, i) + ins + s.slice(i);
        case 'replace':
          return s.slice(0, i) + ins + s.slice(i + 1);
        default:
          return s.slice(0, i);
      }
    });
}

/** Valid key names: no Unicode spaces, no "+", no control characters, non-empty. */
export const keyName: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^[a-z0-9.]{1,20}\/[a-z0-9:-]{1,20}$/),
  fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: 12 })
    .filter((s) => /^[^\p{White_Space}+\u0000-\u001f]+$/u.test(s)),
);

/** A line of note text: anything but control characters and lone surrogates. */
const textLine = fc.string({ unit: 'grapheme', maxLength: 30 }).filter((s) => !/[\u0000-\u001f]/.test(s));

/** Valid note texts: lines (possibly empty) each ending in newline, at least one line. */
export const noteText: fc.Arbitrary<string> = fc
  .array(textLine, { minLength: 1, maxLength: 6 })
  .map((ls) => ls.map((l) => l + '\n').join(''));

export const seed32: fc.Arbitrary<Uint8Array> = fc.uint8Array({ minLength: 32, maxLength: 32 });
