import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  NoteSigner,
  NoteVerifier,
  addSignatures,
  formatCheckpoint,
  formatNote,
  openCheckpoint,
  parseCheckpoint,
  parseNote,
  signCheckpoint,
  type Checkpoint,
} from '../../src/index.js';
import { mutated, nastyString, onlyRemembrancerErrors } from '../note/arbitraries.js';

const origin = 'alpha.vaultmesh.local/dao:vaultmesh';
const root = Uint8Array.from({ length: 32 }, (_, i) => i);
const cp: Checkpoint = { origin, size: 20852163, root };
const log = new NoteSigner(origin, new Uint8Array(32).fill(42));

test('format: origin, decimal size, base64 root, each ending in newline, no extensions', () => {
  assert.equal(formatCheckpoint(cp), `${origin}\n20852163\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n`);
  assert.equal(
    formatCheckpoint({ origin, size: 0, root }),
    `${origin}\n0\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n`,
  );
});

test('parse: the tlog-checkpoint spec example', () => {
  const c = parseCheckpoint('example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n');
  assert.equal(c.origin, 'example.com/behind-the-sofa');
  assert.equal(c.size, 20852163);
  assert.equal(Buffer.from(c.root).toString('base64'), 'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=');
  assert.deepEqual(c.extensions, []);
});

test('parse: extension lines are returned, never written', () => {
  const c = parseCheckpoint(formatCheckpoint(cp) + 'ext one\nsecond\n');
  assert.deepEqual(c.extensions, ['ext one', 'second']);
  assert.equal(formatCheckpoint(c), formatCheckpoint(cp));
});

test('parse is strict', () => {
  const r = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
  const bad = [
    '',
    `${origin}\n1\n${r}`, // no final newline
    `${origin}\n1\n`,
    `\n1\n${r}\n`, // empty origin
    `${origin}\n01\n${r}\n`, // leading zero
    `${origin}\n00\n${r}\n`,
    `${origin}\n-1\n${r}\n`,
    `${origin}\n+1\n${r}\n`,
    `${origin}\n1.0\n${r}\n`,
    `${origin}\n 1\n${r}\n`,
    `${origin}\n1e3\n${r}\n`,
    `${origin}\n9007199254740992\n${r}\n`, // beyond 2^53 - 1
    `${origin}\n99999999999999999999\n${r}\n`,
    `${origin}\n1\n${r.slice(0, -1)}\n`,
    `${origin}\n1\nAAAA\n`, // 3-byte root
    `${origin}\n1\n${r}AAAA\n`, // 35 bytes
    `${origin}\n1\n${r}\n\n`, // empty extension line
    `${origin}\n1\n${r}\next\n\n`,
    `${origin}\r\n1\n${r}\n`,
    `or\u0000igin\n1\n${r}\n`,
  ];
  for (const b of bad) assert.throws(() => parseCheckpoint(b), { code: 'CHECKPOINT_MALFORMED' }, JSON.stringify(b));
  assert.equal(parseCheckpoint(`${origin}\n9007199254740991\n${r}\n`).size, Number.MAX_SAFE_INTEGER);
});

test('format rejects what parse would reject', () => {
  assert.throws(() => formatCheckpoint({ ...cp, origin: '' }), { code: 'CHECKPOINT_MALFORMED' });
  assert.throws(() => formatCheckpoint({ ...cp, origin: 'a\nb' }), { code: 'CHECKPOINT_MALFORMED' });
  assert.throws(() => formatCheckpoint({ ...cp, size: -1 }), { code: 'CHECKPOINT_MALFORMED' });
  assert.throws(() => formatCheckpoint({ ...cp, size: 1.5 }), { code: 'CHECKPOINT_MALFORMED' });
  assert.throws(() => formatCheckpoint({ ...cp, size: 2 ** 53 }), { code: 'CHECKPOINT_MALFORMED' });
  assert.throws(() => formatCheckpoint({ ...cp, root: new Uint8Array(31) }), { code: 'CHECKPOINT_MALFORMED' });
});

test('sign and open', () => {
  const note = signCheckpoint(cp, log);
  assert.ok(note.startsWith(formatCheckpoint(cp) + '\n\u2014 ' + origin + ' '));
  const opened = openCheckpoint(note, NoteVerifier.fromVkey(log.vkey));
  assert.equal(opened.checkpoint.origin, origin);
  assert.equal(opened.checkpoint.size, cp.size);
  assert.deepEqual(opened.checkpoint.root, root);
  assert.equal(opened.note.text, formatCheckpoint(cp));
  // An array of trusted log keys: the one named for the origin is used.
  const other = new NoteSigner('beta.vaultmesh.local/dao:vaultmesh', new Uint8Array(32).fill(43));
  assert.equal(openCheckpoint(note, [other.verifier(), log.verifier()]).checkpoint.size, cp.size);
});

test('open: the log key must be named as the origin', () => {
  const other = new NoteSigner('beta.vaultmesh.local/dao:vaultmesh', new Uint8Array(32).fill(43));
  const note = signCheckpoint(cp, log);
  assert.throws(() => openCheckpoint(note, other.verifier()), { code: 'ORIGIN_MISMATCH' });
  assert.throws(() => openCheckpoint(note, []), { code: 'ORIGIN_MISMATCH' });
  // A checkpoint for another origin signed by a key named like ours does not verify under ours.
  const impostor = new NoteSigner(origin, new Uint8Array(32).fill(44));
  const forged = formatNote({ text: formatCheckpoint(cp), signatures: [impostor.sign(formatCheckpoint(cp))] });
  assert.throws(() => openCheckpoint(forged, log.verifier()), { code: 'SIGNATURE_MISSING' });
  assert.throws(() => signCheckpoint(cp, other), { code: 'ORIGIN_MISMATCH' });
});

test('open: cosignatures and unknown signatures are ignored; a bad log signature is rejected', () => {
  const note = signCheckpoint(cp, log);
  const withExtra = addSignatures(note, [{ name: 'witness.example/w1', keyId: 1, signature: new Uint8Array(72) }]);
  assert.equal(openCheckpoint(withExtra, log.verifier()).checkpoint.size, cp.size);
  const p = parseNote(note);
  const bad = formatNote({ text: p.text, signatures: [{ ...p.signatures[0]!, signature: new Uint8Array(64) }] });
  assert.throws(() => openCheckpoint(bad, log.verifier()), { code: 'SIGNATURE_INVALID' });
  const notCheckpoint = formatNote({ text: 'hello\n', signatures: [log.sign('hello\n')] });
  assert.throws(() => openCheckpoint(notCheckpoint, log.verifier()), { code: 'CHECKPOINT_MALFORMED' });
});

const checkpointArb: fc.Arbitrary<Checkpoint & { extensions: string[] }> = fc
  .tuple(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((s) => !/[\u0000-\u001f]/.test(s)),
    fc.nat({ max: Number.MAX_SAFE_INTEGER }),
    fc.uint8Array({ minLength: 32, maxLength: 32 }),
    fc.array(
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).filter((s) => !/[\u0000-\u001f]/.test(s)),
      { maxLength: 3 },
    ),
  )
  .map(([o, size, r, extensions]) => ({ origin: o, size, root: r, extensions }));

test('property: checkpoints round-trip (with extension lines appended)', () => {
  fc.assert(
    fc.property(checkpointArb, (c) => {
      const body = formatCheckpoint(c) + c.extensions.map((e) => e + '\n').join('');
      const p = parseCheckpoint(body);
      assert.deepEqual({ ...p, root: [...p.root] }, { ...c, root: [...c.root] });
    }),
    { numRuns: 500 },
  );
});

test('property: parseCheckpoint and openCheckpoint throw only RemembrancerErrors', () => {
  const v = log.verifier();
  const signed = checkpointArb.map((c) => signCheckpoint({ ...c, origin }, log));
  fc.assert(
    fc.property(fc.oneof(nastyString, mutated(checkpointArb.map(formatCheckpoint)), mutated(signed)), (s) => {
      onlyRemembrancerErrors(() => parseCheckpoint(s));
      onlyRemembrancerErrors(() => openCheckpoint(s, v));
    }),
    { numRuns: 1500 },
  );
});
