import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  NoteSigner,
  formatNote,
  formatSignatureLine,
  parseNote,
  parseSignatureLine,
  type NoteSignature,
} from '../../src/index.js';
import { MAX_NOTE_SIGNATURES, isValidKeyName, parseSignatureLines } from '../../src/note/index.js';
import { keyName, mutated, nastyString, noteText, onlyRemembrancerErrors } from './arbitraries.js';

const signer = new NoteSigner('example.com/log', new Uint8Array(32).fill(7));
const sig = signer.sign('hello\n');
const line = formatSignatureLine(sig);

test('format: text, blank line, em-dash signature lines', () => {
  const n = formatNote({ text: 'hello\n', signatures: [sig] });
  assert.equal(n, 'hello\n\n' + line);
  assert.ok(line.startsWith('\u2014 example.com/log '));
  assert.ok(line.endsWith('\n'));
  assert.equal(Buffer.from(line.split(' ')[2]!.trim(), 'base64').length, 4 + 64);
});

test('key names: non-empty, no Unicode spaces, no plus', () => {
  for (const ok of [
    'a',
    'example.com/foo',
    'alpha.vaultmesh.local/dao:vaultmesh',
    'oid/1.3.6.1.4.1',
    '\u00e8',
    '\u2014',
    '😀',
  ]) {
    assert.ok(isValidKeyName(ok), ok);
  }
  for (const bad of [
    '',
    'a b',
    'a+b',
    'a\tb',
    'a\u00a0b',
    'a\u0085b',
    'a\u2003b',
    'a\u3000b',
    'a\u2028b',
    'a\nb',
    'a\u0001b',
    'a\ud800b',
  ]) {
    assert.ok(!isValidKeyName(bad), JSON.stringify(bad));
  }
});

test('parse rejects malformed notes', () => {
  const cases: Array<[string, string]> = [
    ['no final newline', 'hello\n\n' + line.slice(0, -1)],
    ['no blank line', 'hello\n' + line],
    ['no signatures', 'hello\n\n'],
    ['blank line at the end', 'hello\n\n' + line + '\n'],
    ['hyphen instead of em dash', 'hello\n\n-' + line.slice(1)],
    ['en dash instead of em dash', 'hello\n\n\u2013' + line.slice(1)],
    ['no space after dash', 'hello\n\n\u2014' + line.slice(2)],
    ['two spaces after dash', 'hello\n\n\u2014 ' + line.slice(1)],
    ['carriage return', 'hello\r\n\n' + line],
    ['tab in text', 'he\tllo\n\n' + line],
    ['NUL', 'he\u0000llo\n\n' + line],
    ['lone surrogate', 'he\ud800llo\n\n' + line],
    ['trailing space after signature', 'hello\n\n' + line.slice(0, -1) + ' \n'],
    ['unpadded base64', 'hello\n\n' + line.replace(/=+\n$/, '\n')],
    ['key ID only', 'hello\n\n\u2014 a AAAAAA==\n'],
    ['empty name', 'hello\n\n\u2014  AAAAAAA=\n'],
    ['plus in name', 'hello\n\n\u2014 a+b AAAAAAA=\n'],
    ['no signature part', 'hello\n\n\u2014 name\n'],
    ['empty signature part', 'hello\n\n\u2014 name \n'],
    ['not a string', 42 as unknown as string],
  ];
  for (const [why, n] of cases) assert.throws(() => parseNote(n), { code: 'NOTE_MALFORMED' }, why);
});

test('the smallest note: 5 signature bytes, text of one newline', () => {
  const n = parseNote('\n\n\u2014 a AAAAAAA=\n');
  assert.equal(n.text, '\n');
  assert.deepEqual(n.signatures, [{ name: 'a', keyId: 0, signature: new Uint8Array(1) }]);
});

test('the text may contain empty lines and ends at the last empty line', () => {
  const text = 'a\n\nb\n\n';
  const n = formatNote({ text, signatures: [sig] });
  assert.equal(n, 'a\n\nb\n\n\n' + line);
  assert.equal(parseNote(n).text, text);
});

test('at least 16 signatures are accepted; more than 100 are rejected', () => {
  const sigs = (k: number): NoteSignature[] =>
    Array.from({ length: k }, (_, i) => ({ name: `w${i}.example`, keyId: i, signature: new Uint8Array(72).fill(i) }));
  for (const k of [1, 16, 17, MAX_NOTE_SIGNATURES]) {
    const n = 'hello\n\n' + sigs(k).map(formatSignatureLine).join('');
    assert.equal(parseNote(n).signatures.length, k);
  }
  const tooMany =
    'hello\n\n' +
    sigs(MAX_NOTE_SIGNATURES + 1)
      .map(formatSignatureLine)
      .join('');
  assert.throws(() => parseNote(tooMany), { code: 'NOTE_MALFORMED' });
  assert.throws(() => formatNote({ text: 'hello\n', signatures: sigs(MAX_NOTE_SIGNATURES + 1) }), {
    code: 'NOTE_MALFORMED',
  });
});

test('format rejects invalid parts', () => {
  assert.throws(() => formatNote({ text: 'hello', signatures: [sig] }), { code: 'NOTE_MALFORMED' });
  assert.throws(() => formatNote({ text: '', signatures: [sig] }), { code: 'NOTE_MALFORMED' });
  assert.throws(() => formatNote({ text: 'a\rb\n', signatures: [sig] }), { code: 'NOTE_MALFORMED' });
  assert.throws(() => formatNote({ text: 'hello\n', signatures: [] }), { code: 'NOTE_MALFORMED' });
  assert.throws(() => formatNote({ text: 'hello\n', signatures: [{ ...sig, name: 'a b' }] }), {
    code: 'NOTE_MALFORMED',
  });
  assert.throws(() => formatNote({ text: 'hello\n', signatures: [{ ...sig, keyId: 2 ** 32 }] }), {
    code: 'NOTE_MALFORMED',
  });
  assert.throws(() => formatNote({ text: 'hello\n', signatures: [{ ...sig, signature: new Uint8Array(0) }] }), {
    code: 'NOTE_MALFORMED',
  });
});

test('signature lines: key ID is the big-endian first four bytes', () => {
  const s = parseSignatureLine('\u2014 x/y 3q2+7wE=');
  assert.equal(s.keyId, 0xdeadbeef);
  assert.deepEqual(s.signature, Uint8Array.of(1));
  assert.deepEqual(parseSignatureLines(''), []);
  assert.throws(() => parseSignatureLines('\u2014 x/y 3q2+7wE='), { code: 'NOTE_MALFORMED' });
});

const signatureArb: fc.Arbitrary<NoteSignature> = fc
  .tuple(keyName, fc.nat({ max: 0xffffffff }), fc.uint8Array({ minLength: 1, maxLength: 80 }))
  .map(([name, keyId, signature]) => ({ name, keyId, signature }));
const noteArb = fc.record({ text: noteText, signatures: fc.array(signatureArb, { minLength: 1, maxLength: 5 }) });

test('property: valid notes round-trip through format and parse', () => {
  fc.assert(
    fc.property(noteArb, (n) => {
      const s = formatNote(n);
      const p = parseNote(s);
      assert.equal(p.text, n.text);
      assert.deepEqual(p.signatures, n.signatures);
      assert.equal(formatNote(p), s);
    }),
    { numRuns: 500 },
  );
});

test('property: parseNote and parseSignatureLines throw only RemembrancerErrors', () => {
  fc.assert(
    fc.property(fc.oneof(nastyString, mutated(noteArb.map(formatNote))), (s) => {
      onlyRemembrancerErrors(() => parseNote(s));
      onlyRemembrancerErrors(() => parseSignatureLines(s));
      onlyRemembrancerErrors(() => parseSignatureLine(s));
    }),
    { numRuns: 2000 },
  );
});

test('property: whatever parses re-encodes to the same text', () => {
  fc.assert(
    fc.property(mutated(noteArb.map(formatNote)), (s) => {
      let p;
      try {
        p = parseNote(s);
      } catch {
        return;
      }
      assert.equal(formatNote(p), s);
    }),
    { numRuns: 2000 },
  );
});
