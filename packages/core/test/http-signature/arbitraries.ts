// fast-check building blocks for the http-signature tests (not a test file itself).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RemembrancerError } from '../../src/index.js';
import {
  SF_MAX_INTEGER,
  type SfBareItem,
  type SfDictionary,
  type SfInnerList,
  type SfItem,
  type SfMember,
  type SfParameters,
} from '../../src/http-signature/index.js';

/** Runs fn; fails unless it returns or throws a RemembrancerError. Returns what fn returned, if anything. */
export function onlyRemembrancerErrors<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    assert.ok(e instanceof RemembrancerError, `threw a non-RemembrancerError: ${String(e)}`);
    return undefined;
  }
}

/** Characters that matter to structured fields, plus controls, non-ASCII and lone surrogates. */
const significant = fc.constantFrom(
  '=',
  ',',
  ';',
  '(',
  ')',
  '"',
  '\\',
  ':',
  '?',
  '*',
  '-',
  '.',
  '/',
  '+',
  ' ',
  '\t',
  '0',
  '1',
  '9',
  'a',
  'z',
  'A',
  '_',
  '\n',
  '\r',
  '\u0000',
  '\u007f',
  '\u00e9',
  '\u2014',
  '\ud800',
  '😀',
  '@',
  '%',
  '!',
  '#',
);

/** Arbitrary strings biased towards structured-field syntax. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.array(fc.oneof(significant, fc.string({ maxLength: 3 })), { maxLength: 60 }).map((a) => a.join('')),
);

/** Mutations of a valid text: cut, insert, replace, truncate, duplicate a slice. */
export function mutated(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc
    .tuple(
      valid,
      fc.nat(),
      fc.nat(),
      fc.oneof(significant, fc.string({ maxLength: 3 })),
      fc.constantFrom('cut', 'insert', 'replace', 'truncate', 'duplicate'),
    )
    .map(([s, a, b, ins, op]) => {
      const i = s.length === 0 ? 0 : a % s.length;
      const j = s.length === 0 ? 0 : b % s.length;
      const [lo, hi] = [Math.min(i, j), Math.max(i, j)];
      switch (op) {
        case 'cut':
          return s.slice(0, lo) + s.slice(hi);
        case 'insert':
          return s.slice(0, i) + ins + s.slice(i);
        case 'replace':
          return s.slice(0, i) + ins + s.slice(i + 1);
        case 'duplicate':
          return s.slice(0, hi) + s.slice(lo, hi) + s.slice(hi);
        default:
          return s.slice(0, i);
      }
    });
}

export const sfKey: fc.Arbitrary<string> = fc.stringMatching(/^[a-z*][a-z0-9_\-.*]{0,8}$/);

const printableAscii = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));

export const sfBareItem: fc.Arbitrary<SfBareItem> = fc.oneof(
  fc
    .bigInt({ min: -BigInt(SF_MAX_INTEGER), max: BigInt(SF_MAX_INTEGER) })
    .map((n): SfBareItem => ({ type: 'integer', value: Number(n) })),
  // n thousandths with at most 12 integer digits: every such value survives a round trip.
  fc
    .bigInt({ min: -BigInt(SF_MAX_INTEGER), max: BigInt(SF_MAX_INTEGER) })
    .map((n): SfBareItem => ({ type: 'decimal', value: Number(n) / 1000 })),
  fc.string({ unit: printableAscii, maxLength: 20 }).map((value): SfBareItem => ({ type: 'string', value })),
  fc
    .stringMatching(/^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]{0,10}$/)
    .map((value): SfBareItem => ({ type: 'token', value })),
  fc.uint8Array({ maxLength: 40 }).map((value): SfBareItem => ({ type: 'binary', value })),
  fc.boolean().map((value): SfBareItem => ({ type: 'boolean', value })),
);

export const sfParameters: fc.Arbitrary<SfParameters> = fc
  .uniqueArray(fc.tuple(sfKey, sfBareItem), { selector: (t) => t[0], maxLength: 3 })
  .map((entries) => new Map(entries));

export const sfItemArb: fc.Arbitrary<SfItem> = fc.record(
  { value: sfBareItem, params: sfParameters },
  { noNullPrototype: true },
);

export const sfInnerListArb: fc.Arbitrary<SfInnerList> = fc.record(
  { items: fc.array(sfItemArb, { maxLength: 4 }), params: sfParameters },
  { noNullPrototype: true },
);

export const sfMember: fc.Arbitrary<SfMember> = fc.oneof(sfItemArb, sfInnerListArb);

export const sfDictionary: fc.Arbitrary<SfDictionary> = fc
  .uniqueArray(fc.tuple(sfKey, sfMember), { selector: (t) => t[0], maxLength: 4 })
  .map((entries) => new Map(entries));
