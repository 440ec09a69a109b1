import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CosignatureSigner,
  NoteSigner,
  NoteVerifier,
  addSignatures,
  formatNote,
  parseNote,
  verifyNote,
} from '../../src/index.js';
import { signNote } from '../../src/note/index.js';
import { mutated, noteText, onlyRemembrancerErrors } from './arbitraries.js';

const a = new NoteSigner('a.example/log', new Uint8Array(32).fill(1));
const b = new NoteSigner('b.example/log', new Uint8Array(32).fill(2));
const text = 'some text\n';

test('verifies with the known key and ignores unknown signatures', () => {
  const n = signNote(text, [b, a]);
  const r = verifyNote(n, [a.verifier()]);
  assert.equal(r.text, text);
  assert.deepEqual(
    r.verified.map((s) => s.name),
    ['a.example/log'],
  );
  const both = verifyNote(n, [a.verifier(), b.verifier()]);
  assert.deepEqual(
    both.verified.map((s) => s.name),
    ['b.example/log', 'a.example/log'],
  );
});

test('no signature from a known key: SIGNATURE_MISSING', () => {
  assert.throws(() => verifyNote(signNote(text, [b]), [a.verifier()]), { code: 'SIGNATURE_MISSING' });
  assert.throws(() => verifyNote(signNote(text, [b]), []), { code: 'SIGNATURE_MISSING' });
});

test('a known key whose signature fails rejects the whole note, even if another verifies', () => {
  const good = parseNote(signNote(text, [a, b]));
  const forged = { ...good.signatures[1]!, signature: good.signatures[0]!.signature };
  const n = formatNote({ text, signatures: [good.signatures[0]!, forged] });
  assert.throws(() => verifyNote(n, [a.verifier(), b.verifier()]), { code: 'SIGNATURE_INVALID' });
  // Without b's key the forged line is just an unknown signature.
  assert.equal(verifyNote(n, [a.verifier()]).verified.length, 1);
});

test('a signature sharing only the name or only the key ID with a known key is ignored', () => {
  const sig = a.sign(text);
  const sameNameOtherId = { ...sig, keyId: (sig.keyId + 1) >>> 0, signature: new Uint8Array(64) };
  const sameIdOtherName = { ...sig, name: 'mallory.example/log', signature: new Uint8Array(64) };
  const n = formatNote({ text, signatures: [sameNameOtherId, sameIdOtherName, sig] });
  assert.equal(verifyNote(n, [a.verifier()]).verified.length, 1);
});

test('the same key twice is reported once', () => {
  const sig = a.sign(text);
  const n = formatNote({ text, signatures: [sig, sig] });
  assert.equal(verifyNote(n, [a.verifier()]).verified.length, 1);
});

test('cached verification never accepts a different text or signature', () => {
  const v = a.verifier();
  const sig = a.sign(text);
  assert.ok(v.verify(text, sig.signature));
  assert.ok(v.verify(text, sig.signature)); // cache hit
  assert.ok(!v.verify('other\n', sig.signature));
  const flipped = sig.signature.slice();
  flipped[5]! ^= 1;
  assert.ok(!v.verify(text, flipped));
  assert.ok(!v.verify(text, sig.signature.subarray(0, 63)));
});

test('verifiers with the same name and ID from a different public key fail, not skip', () => {
  // A forged vkey cannot claim a's ID with another key (parseVkey recomputes it), but a verifier
  // constructed for the real name with a wrong key has a different ID and just ignores the line.
  const other = new NoteVerifier('a.example/log', b.publicKey);
  assert.notEqual(other.keyId, a.keyId);
  assert.throws(() => verifyNote(signNote(text, [a]), [other]), { code: 'SIGNATURE_MISSING' });
});

test('addSignatures merges, replaces same key in place, keeps the first signature first', () => {
  const body = 'origin.example/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n';
  const log = new NoteSigner('origin.example/log', new Uint8Array(32).fill(9));
  const w1 = new CosignatureSigner('w1.example/witness', new Uint8Array(32).fill(10));
  const w2 = new CosignatureSigner('w2.example/witness', new Uint8Array(32).fill(11));
  const n0 = signNote(body, [log]);
  const n1 = addSignatures(n0, [w1.cosign(body, 100), w2.cosign(body, 100)]);
  const n2 = addSignatures(n1, [w1.cosign(body, 200), log.sign(body)]);
  const p = parseNote(n2);
  assert.deepEqual(
    p.signatures.map((s) => s.name),
    ['origin.example/log', 'w1.example/witness', 'w2.example/witness'],
  );
  assert.deepEqual(p.signatures[1], w1.cosign(body, 200));
  assert.equal(addSignatures(n2, []), n2);
  assert.equal(addSignatures(n2, [w2.cosign(body, 100)]), n2);
  assert.throws(() => addSignatures('not a note', []), { code: 'NOTE_MALFORMED' });
});

test('property: signed notes verify; mutated ones never throw anything but RemembrancerError', () => {
  const v = a.verifier();
  fc.assert(
    fc.property(noteText, (t) => {
      const n = signNote(t, [a]);
      assert.equal(verifyNote(n, [v]).text, t);
    }),
    { numRuns: 200 },
  );
  fc.assert(
    fc.property(mutated(noteText.map((t) => signNote(t, [a, b]))), (n) => {
      onlyRemembrancerErrors(() => verifyNote(n, [v]));
      onlyRemembrancerErrors(() => addSignatures(n, [b.sign('x\n')]));
    }),
    { numRuns: 1000 },
  );
});
