import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CosignatureSigner,
  MemoryTree,
  NoteSigner,
  addSignatures,
  formatCheckpoint,
  leafHash,
  parseTlogProof,
  signCheckpoint,
  utf8Encode,
  verifyTlogProof,
  type TlogProof,
} from '../../src/index.js';
import { MAX_TLOG_PROOF_HASHES, formatTlogProof } from '../../src/tlog-proof/index.js';
import { mutated, nastyString, onlyRemembrancerErrors } from '../note/arbitraries.js';

const origin = 'alpha.vaultmesh.local/dao:vaultmesh';
const log = new NoteSigner(origin, new Uint8Array(32).fill(1));
const w1 = new CosignatureSigner('alpha.vaultmesh.local/witness', new Uint8Array(32).fill(2));
const w2 = new CosignatureSigner('beta.vaultmesh.local/witness', new Uint8Array(32).fill(3));

const tree = new MemoryTree();
const leaves = Array.from({ length: 13 }, (_, i) => utf8Encode(`{"n":${i}}`));
for (const l of leaves) tree.append(l);
const size = tree.size;
const body = formatCheckpoint({ origin, size, root: tree.root() });
const checkpoint = addSignatures(signCheckpoint({ origin, size, root: tree.root() }, log), [
  w1.cosign(body, 1700000000),
]);
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

function proofFor(index: number, extraData?: Uint8Array): string {
  const p: TlogProof = { index, proof: tree.inclusionProof(index, size), checkpoint };
  return formatTlogProof(extraData === undefined ? p : { ...p, extraData });
}

test('format: header, optional extra line, index, hashes, empty line, checkpoint verbatim', () => {
  const hashes = tree.inclusionProof(5, size);
  const text = proofFor(5, utf8Encode('context'));
  assert.equal(
    text,
    'c2sp.org/tlog-proof@v1\n' +
      `extra ${b64(utf8Encode('context'))}\n` +
      'index 5\n' +
      hashes.map((h) => b64(h) + '\n').join('') +
      '\n' +
      checkpoint,
  );
  assert.ok(!proofFor(5).includes('extra'));
  assert.ok(text.endsWith('\n'));
});

test('parse: the tlog-proof spec example (with its elided signatures filled in)', () => {
  const sig = (name: string) => `\u2014 ${name} ${b64(new Uint8Array(68).fill(7))}\n`;
  const text =
    'c2sp.org/tlog-proof@v1\n' +
    'extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\n' +
    'index 73894\n' +
    'gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n' +
    'B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n' +
    'EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\n' +
    'RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n' +
    'AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n' +
    '\n' +
    'example.com/fancylog\n109482\nsFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n\n' +
    sig('example.com/fancylog') +
    sig('witness1.example') +
    sig('witness2.example') +
    sig('witness3.example');
  const p = parseTlogProof(text);
  assert.equal(p.index, 73894);
  assert.equal(p.proof.length, 5);
  assert.equal(p.parsedCheckpoint.origin, 'example.com/fancylog');
  assert.equal(p.parsedCheckpoint.size, 109482);
  assert.equal(p.note.signatures.length, 4);
  assert.equal(Buffer.from(p.extraData!).toString('base64'), 'YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ');
  assert.equal(formatTlogProof(p), text);
});

test('parse is strict', () => {
  const good = proofFor(3);
  const lines = good.split('\n');
  const bad: Array<[string, string]> = [
    ['empty', ''],
    ['wrong header', good.replace('tlog-proof@v1', 'tlog-proof@v2')],
    ['header only', 'c2sp.org/tlog-proof@v1\n'],
    ['CRLF', good.replace('\n', '\r\n')],
    ['index leading zero', good.replace('index 3\n', 'index 03\n')],
    ['index sign', good.replace('index 3\n', 'index +3\n')],
    ['index two spaces', good.replace('index 3\n', 'index  3\n')],
    ['index missing', good.replace('index 3\n', '')],
    ['extra after index', good.replace('index 3\n', 'index 3\nextra AAAA\n')],
    ['extra not base64', good.replace('index 3\n', 'extra !!\nindex 3\n')],
    ['extra without space', good.replace('index 3\n', 'extra\nindex 3\n')],
    ['short hash', good.replace(lines[2]!, lines[2]!.slice(0, 40) + '==')],
    ['hash with space', good.replace(lines[2]!, ' ' + lines[2]!)],
    ['no empty line', good.replace('\n\n' + checkpoint, '\n' + checkpoint)],
    ['checkpoint not a note', good.replace(checkpoint, 'hello\n')],
    ['checkpoint body not a checkpoint', good.replace(checkpoint, 'hello\n\n\u2014 a AAAAAAA=\n')],
    ['trailing data', good + 'x\n'],
    ['two empty lines', good.replace('\n\n' + checkpoint, '\n\n\n' + checkpoint)],
    ['no final newline', good.slice(0, -1)],
  ];
  for (const [why, t] of bad) assert.throws(() => parseTlogProof(t), { code: 'TLOG_PROOF_MALFORMED' }, why);
  const many =
    'c2sp.org/tlog-proof@v1\nindex 0\n' +
    `${b64(new Uint8Array(32))}\n`.repeat(MAX_TLOG_PROOF_HASHES + 1) +
    '\n' +
    checkpoint;
  assert.throws(() => parseTlogProof(many), { code: 'TLOG_PROOF_MALFORMED' });
});

test('empty extra data and empty proofs round-trip', () => {
  const t1 = formatTlogProof({ index: 0, proof: [], checkpoint, extraData: new Uint8Array(0) });
  assert.ok(t1.includes('\nextra \nindex 0\n\n'));
  assert.deepEqual(parseTlogProof(t1).extraData, new Uint8Array(0));
  const single = new MemoryTree();
  single.append(leaves[0]!);
  const cp1 = signCheckpoint({ origin, size: 1, root: single.root() }, log);
  const t2 = formatTlogProof({ index: 0, proof: [], checkpoint: cp1 });
  assert.equal(t2, 'c2sp.org/tlog-proof@v1\nindex 0\n\n' + cp1);
  assert.equal(verifyTlogProof(t2, { data: leaves[0]! }, log.verifier()).checkpoint.size, 1);
});

test('format rejects invalid parts', () => {
  assert.throws(() => formatTlogProof({ index: -1, proof: [], checkpoint }), { code: 'TLOG_PROOF_MALFORMED' });
  assert.throws(() => formatTlogProof({ index: 0, proof: [new Uint8Array(31)], checkpoint }), {
    code: 'TLOG_PROOF_MALFORMED',
  });
  assert.throws(() => formatTlogProof({ index: 0, proof: [], checkpoint: 'hello\n' }), {
    code: 'TLOG_PROOF_MALFORMED',
  });
});

test('verify: every leaf of the tree, by data and by leaf hash, with witnesses', () => {
  for (let i = 0; i < size; i++) {
    const t = proofFor(i);
    const r = verifyTlogProof(t, { data: leaves[i]! }, [log.verifier()], {
      witnessVerifiers: [w1.verifier(), w2.verifier()],
    });
    assert.equal(r.index, i);
    assert.equal(r.checkpoint.size, size);
    assert.deepEqual(
      r.cosigners.map((c) => [c.name, c.timestamp]),
      [[w1.name, 1700000000]],
    );
    assert.deepEqual(r.leafHash, leafHash(leaves[i]!));
    assert.equal(verifyTlogProof(t, { leafHash: leafHash(leaves[i]!) }, log.verifier()).index, i);
  }
  assert.deepEqual(
    verifyTlogProof(proofFor(2, Uint8Array.of(1, 2)), { data: leaves[2]! }, log.verifier()).extraData,
    Uint8Array.of(1, 2),
  );
});

test('verify: failures', () => {
  const t = proofFor(4);
  assert.throws(() => verifyTlogProof(t, { data: leaves[5]! }, log.verifier()), { code: 'PROOF_MISMATCH' });
  assert.throws(() => verifyTlogProof(t, { leafHash: new Uint8Array(31) }, log.verifier()), {
    code: 'INVALID_ARGUMENT',
  });
  const other = new NoteSigner('beta.vaultmesh.local/dao:vaultmesh', new Uint8Array(32).fill(1));
  assert.throws(() => verifyTlogProof(t, { data: leaves[4]! }, other.verifier()), { code: 'ORIGIN_MISMATCH' });
  const impostor = new NoteSigner(origin, new Uint8Array(32).fill(9));
  assert.throws(() => verifyTlogProof(t, { data: leaves[4]! }, impostor.verifier()), { code: 'SIGNATURE_MISSING' });
  // Wrong index with the right proof, an extra hash, a missing hash: strict RFC 9162 verification.
  const proof = tree.inclusionProof(4, size);
  const variants: TlogProof[] = [
    { index: 5, proof, checkpoint },
    { index: 4, proof: [...proof, new Uint8Array(32)], checkpoint },
    { index: 4, proof: proof.slice(0, -1), checkpoint },
    { index: size, proof, checkpoint },
  ];
  for (const v of variants) {
    assert.throws(
      () => verifyTlogProof(formatTlogProof(v), { data: leaves[4]! }, log.verifier()),
      (e: { code?: string }) => ['PROOF_MISMATCH', 'PROOF_MALFORMED', 'INDEX_OUT_OF_RANGE'].includes(e.code ?? ''),
    );
  }
  // A trusted witness's forged cosignature rejects the proof.
  const forged = addSignatures(checkpoint, [{ ...w2.cosign(body, 1), signature: new Uint8Array(72) }]);
  const tf = formatTlogProof({ index: 4, proof, checkpoint: forged });
  assert.throws(
    () => verifyTlogProof(tf, { data: leaves[4]! }, log.verifier(), { witnessVerifiers: [w2.verifier()] }),
    { code: 'SIGNATURE_INVALID' },
  );
});

const proofArb: fc.Arbitrary<TlogProof> = fc
  .tuple(
    fc.nat({ max: Number.MAX_SAFE_INTEGER }),
    fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 10 }),
    fc.option(fc.uint8Array({ maxLength: 40 }), { nil: undefined }),
  )
  .map(([index, proof, extraData]) =>
    extraData === undefined ? { index, proof, checkpoint } : { index, proof, checkpoint, extraData },
  );

test('property: tlog proofs round-trip', () => {
  fc.assert(
    fc.property(proofArb, (p) => {
      const text = formatTlogProof(p);
      const q = parseTlogProof(text);
      assert.equal(q.index, p.index);
      assert.deepEqual(q.proof, p.proof);
      assert.equal(q.checkpoint, p.checkpoint);
      assert.deepEqual(q.extraData, p.extraData);
      assert.equal(formatTlogProof(q), text);
    }),
    { numRuns: 500 },
  );
});

test('property: parseTlogProof and verifyTlogProof throw only RemembrancerErrors', () => {
  const v = log.verifier();
  const real = fc.nat({ max: size - 1 }).map((i) => proofFor(i));
  fc.assert(
    fc.property(
      fc.oneof(nastyString, mutated(proofArb.map(formatTlogProof)), mutated(real)),
      fc.nat({ max: size - 1 }),
      (s, i) => {
        onlyRemembrancerErrors(() => parseTlogProof(s));
        onlyRemembrancerErrors(() =>
          verifyTlogProof(s, { data: leaves[i]! }, v, { witnessVerifiers: [w1.verifier()] }),
        );
      },
    ),
    { numRuns: 1500 },
  );
});
