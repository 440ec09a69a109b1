import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { NoteVerifier, SIGNATURE_TYPE_ED25519, formatNote, parseNote, parseVkey, verifyNote } from '../../src/index.js';
import { computeKeyId, parseSignatureLines } from '../../src/note/index.js';

// test/vectors/c2sp/signed-note.json: the Ed25519 example of https://c2sp.org/signed-note.
const vector = JSON.parse(
  readFileSync(new URL('../../../../test/vectors/c2sp/signed-note.json', import.meta.url), 'utf8'),
) as {
  vkey: string;
  note: string;
  expect: string;
};

test('signed-note vector: the note verifies with the vkey', () => {
  const v = NoteVerifier.fromVkey(vector.vkey);
  const { text, verified } = verifyNote(vector.note, [v]);
  assert.equal(text, 'This is an example message.\n');
  assert.equal(verified.length, 1);
  assert.equal(verified[0]!.name, 'example.com/foo');
  assert.equal(verified[0]!.keyId, 0x530d903a);
});

test('signed-note vector: key ID = SHA-256(name || 0x0A || 0x01 || pubkey)[:4]', () => {
  const k = parseVkey(vector.vkey);
  assert.equal(k.type, SIGNATURE_TYPE_ED25519);
  assert.equal(k.keyId, 0x530d903a);
  assert.equal(computeKeyId('example.com/foo', 0x01, k.publicKey), 0x530d903a);
  // The key ID commits to the type byte: the same key as a cosignature key has another ID.
  assert.notEqual(computeKeyId('example.com/foo', 0x04, k.publicKey), 0x530d903a);
});

test('signed-note vector: vkey and note re-encode byte for byte', () => {
  assert.equal(NoteVerifier.fromVkey(vector.vkey).vkey, vector.vkey);
  assert.equal(formatNote(parseNote(vector.note)), vector.note);
});

test('signed-note vector: any change to text or signature is detected', () => {
  const v = NoteVerifier.fromVkey(vector.vkey);
  const changedText = vector.note.replace('example message', 'exemplary message');
  assert.throws(() => verifyNote(changedText, [v]), { code: 'SIGNATURE_INVALID' });
  const sigLine = vector.note.slice(vector.note.indexOf('\u2014'));
  const b64 = sigLine.split(' ')[2]!.trim();
  const flipped = b64.slice(0, 10) + (b64[10] === 'A' ? 'B' : 'A') + b64.slice(11);
  assert.throws(() => verifyNote(vector.note.replace(b64, flipped), [v]), { code: 'SIGNATURE_INVALID' });
});

test('spec examples parse and re-encode (signed-note, tlog-checkpoint, tlog-cosignature, tlog-witness)', () => {
  const examples = [
    // https://c2sp.org/signed-note
    'Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned \u00e8 subito sera.\n\n\u2014 quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n',
    // https://c2sp.org/tlog-cosignature
    'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n',
  ];
  for (const n of examples) assert.equal(formatNote(parseNote(n)), n);
  const poem = parseNote(examples[0]!);
  // The text may hold empty lines; the last empty line separates the signatures.
  assert.equal(
    poem.text,
    'Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned \u00e8 subito sera.\n',
  );
  const cosigned = parseNote(examples[1]!);
  assert.equal(cosigned.signatures.length, 2);
  assert.equal(cosigned.signatures[1]!.signature.length, 72);
  // https://c2sp.org/tlog-witness add-checkpoint response body.
  const body =
    '\u2014 witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTSvVjyQLrdk3DXDqI5G2HgLatVs0pWh6Up69HVOw==\n' +
    '\u2014 witness.example/w1 I7rEps0pvK2UqkS2gSpVUDhrhVtQV9lgF6pRrWAvjJHjyWpW7VcE3SiOlVlbQNt64vWhO+DlkL0+UfzuOBMh9ChdMkP1vi/lCAsmlw==\n' +
    '\u2014 witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrrKbYKA7nC3HNJhm/kWl7oJlqU3rXXvpysAdyP3wQ==\n';
  assert.equal(parseSignatureLines(body).length, 3);
});
