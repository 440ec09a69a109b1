import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  CosignatureSigner,
  MAX_WITNESS_BODY_BYTES,
  MemoryTree,
  NoteSigner,
  RemembrancerError,
  TLOG_SIZE_CONTENT_TYPE,
  formatAddCheckpointRequest,
  formatCosignatureResponse,
  formatSizeResponse,
  isWitnessOriginHash,
  parseAddCheckpointRequest,
  parseCosignatureResponse,
  parseSizeResponse,
  signCheckpoint,
  utf8Encode,
  witnessOriginHash,
} from '../../src/index.js';
import { MAX_CONSISTENCY_PROOF_LINES, utf8ByteLength } from '../../src/witness-protocol/index.js';
import { mutated, nastyString, onlyRemembrancerErrors } from '../note/arbitraries.js';

const origin = 'alpha.vaultmesh.local/dao:vaultmesh';
const log = new NoteSigner(origin, new Uint8Array(32).fill(1));
const witness = new CosignatureSigner('beta.vaultmesh.local/witness', new Uint8Array(32).fill(2));
const tree = new MemoryTree();
for (let i = 0; i < 21; i++) tree.append(utf8Encode(`{"n":${i}}`));
const checkpointAt = (size: number) => signCheckpoint({ origin, size, root: tree.rootAt(size) }, log);
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

function malformedRequest(body: string, why: RegExp) {
  assert.throws(
    () => parseAddCheckpointRequest(body),
    (e: unknown) => {
      assert.ok(e instanceof RemembrancerError);
      assert.equal(e.code, 'WITNESS_REQUEST_MALFORMED');
      assert.match(e.message, why);
      return true;
    },
  );
}

// https://c2sp.org/tlog-witness#add-checkpoint, "Example request body", verbatim.
const SPEC_REQUEST =
  'old 20852014\n' +
  'PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n' +
  'jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n' +
  '5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n' +
  '/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n' +
  '\n' +
  'example.com/behind-the-sofa\n' +
  '20852163\n' +
  'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n' +
  '\n' +
  '\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n' +
  '\u2014 example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n';

test('parse: the spec example request body', () => {
  const r = parseAddCheckpointRequest(SPEC_REQUEST);
  assert.equal(r.oldSize, 20852014);
  assert.equal(r.proof.length, 4);
  assert.equal(b64(r.proof[0]!), 'PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=');
  assert.equal(b64(r.proof[3]!), '/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=');
  assert.equal(r.checkpoint, SPEC_REQUEST.slice(SPEC_REQUEST.indexOf('example.com')));
  assert.equal(r.parsedCheckpoint.origin, 'example.com/behind-the-sofa');
  assert.equal(r.parsedCheckpoint.size, 20852163);
  assert.equal(r.note.signatures.length, 2);
  // Formatting the parts gives the spec's bytes back.
  assert.equal(formatAddCheckpointRequest(r), SPEC_REQUEST);
});

test('format: "old N", one base64 hash per line, an empty line, the checkpoint verbatim', () => {
  const proof = tree.consistencyProof(8, 21);
  const checkpoint = checkpointAt(21);
  const body = formatAddCheckpointRequest({ oldSize: 8, proof, checkpoint });
  assert.equal(body, 'old 8\n' + proof.map((h) => b64(h) + '\n').join('') + '\n' + checkpoint);
  assert.equal(formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint }), 'old 0\n\n' + checkpoint);
  const parsed = parseAddCheckpointRequest(body);
  assert.equal(parsed.oldSize, 8);
  assert.deepEqual(parsed.proof, proof);
  assert.equal(parsed.checkpoint, checkpoint);
});

test("parse is syntactic only: old size above the checkpoint size and a proof from 0 are the witness's business", () => {
  const r = parseAddCheckpointRequest(
    formatAddCheckpointRequest({ oldSize: 30, proof: [], checkpoint: checkpointAt(21) }),
  );
  assert.equal(r.oldSize, 30);
  const r0 = parseAddCheckpointRequest(
    formatAddCheckpointRequest({ oldSize: 0, proof: [new Uint8Array(32)], checkpoint: checkpointAt(21) }),
  );
  assert.equal(r0.proof.length, 1);
});

test('parse rejects every malformed line with WITNESS_REQUEST_MALFORMED', () => {
  const cp = checkpointAt(21);
  const h = b64(new Uint8Array(32).fill(9));
  malformedRequest('', /old size line/);
  malformedRequest('old 5', /old size line/);
  malformedRequest('\n\n' + cp, /"old <size>"/);
  malformedRequest('Old 5\n\n' + cp, /"old <size>"/);
  malformedRequest('old  5\n\n' + cp, /canonical decimal/);
  malformedRequest('old 05\n\n' + cp, /canonical decimal/);
  malformedRequest('old -1\n\n' + cp, /canonical decimal/);
  malformedRequest('old 5 \n\n' + cp, /canonical decimal/);
  malformedRequest('old +5\n\n' + cp, /canonical decimal/);
  malformedRequest('old 99999999999999999999\n\n' + cp, /canonical decimal/);
  malformedRequest('old 5\r\n\r\n' + cp, /canonical decimal/);
  malformedRequest(`old 5\n${h}`, /empty line/);
  malformedRequest(`old 5\n${h}\n` + cp, /base64|checkpoint/);
  malformedRequest(`old 5\n${h.slice(0, -1)}\n\n` + cp, /not valid base64/);
  malformedRequest(`old 5\n ${h}\n\n` + cp, /not valid base64/);
  malformedRequest(`old 5\n${b64(new Uint8Array(31))}\n\n` + cp, /31 bytes/);
  malformedRequest(`old 5\n${b64(new Uint8Array(33))}\n\n` + cp, /33 bytes/);
  malformedRequest(`old 5\n${h}\n\n`, /invalid checkpoint/);
  malformedRequest(`old 5\n\n\n` + cp, /invalid checkpoint/);
  malformedRequest(`old 5\n\n` + cp.slice(0, -1), /invalid checkpoint/);
  malformedRequest(`old 5\n\n` + cp + 'trailing', /invalid checkpoint/);
  malformedRequest(`old 5\n\n` + cp.slice(0, cp.indexOf('\n\n') + 1), /invalid checkpoint/);
  malformedRequest(`old 5\n\n` + cp.replace('\n21\n', '\n021\n'), /invalid checkpoint/);
  malformedRequest(`old 5\n\nnot a checkpoint\n\n\u2014 ${origin} ${b64(new Uint8Array(68))}\n`, /invalid checkpoint/);
});

test('at most 63 consistency proof lines', () => {
  const cp = checkpointAt(21);
  const lines = (n: number) => Array.from({ length: n }, () => b64(new Uint8Array(32)) + '\n').join('');
  assert.equal(MAX_CONSISTENCY_PROOF_LINES, 63);
  assert.equal(parseAddCheckpointRequest(`old 5\n${lines(63)}\n${cp}`).proof.length, 63);
  malformedRequest(`old 5\n${lines(64)}\n${cp}`, /more than 63/);
  assert.throws(
    () =>
      formatAddCheckpointRequest({
        oldSize: 5,
        proof: Array.from({ length: 64 }, () => new Uint8Array(32)),
        checkpoint: cp,
      }),
    {
      code: 'WITNESS_REQUEST_MALFORMED',
    },
  );
});

test('the body size is bounded before parsing', () => {
  const cp = checkpointAt(21);
  const big = 'old 5\n\n' + cp.replace('\n\n', '\n' + 'x'.repeat(MAX_WITNESS_BODY_BYTES) + '\n\n');
  malformedRequest(big, /exceeds/);
  // Measured in UTF-8 bytes: 3-byte characters count three times.
  const wide = 'old 5\n\n' + cp.replace('\n\n', '\n' + '\u2603'.repeat(Math.ceil(MAX_WITNESS_BODY_BYTES / 3)) + '\n\n');
  assert.ok(wide.length < MAX_WITNESS_BODY_BYTES);
  malformedRequest(wide, /exceeds/);
  assert.equal(utf8ByteLength('a\u00e9\u2603😀'), 1 + 2 + 3 + 4);
  assert.equal(utf8ByteLength('\ud800x'), 4);
});

test('format rejects what it could not parse back', () => {
  const cp = checkpointAt(21);
  for (const bad of [
    { oldSize: -1, proof: [], checkpoint: cp },
    { oldSize: 1.5, proof: [], checkpoint: cp },
    { oldSize: 2 ** 53, proof: [], checkpoint: cp },
    { oldSize: 1, proof: [new Uint8Array(31)], checkpoint: cp },
    { oldSize: 1, proof: [], checkpoint: 'not a note' },
    { oldSize: 1, proof: [], checkpoint: cp.replace('\n21\n', '\nx\n') },
  ]) {
    assert.throws(() => formatAddCheckpointRequest(bad), { code: 'WITNESS_REQUEST_MALFORMED' });
  }
});

test('cosignature response: one or more signature lines, each "— name base64" and a newline', () => {
  const body = checkpointAt(21).slice(0, checkpointAt(21).indexOf('\n\n') + 1);
  const s1 = witness.cosign(body, 1700000000);
  const s2 = new CosignatureSigner('gamma.vaultmesh.local/witness', new Uint8Array(32).fill(3)).cosign(
    body,
    1700000001,
  );
  const text = formatCosignatureResponse([s1, s2]);
  const lines = text.split('\n');
  assert.equal(lines.length, 3);
  assert.equal(lines[2], '');
  for (const l of lines.slice(0, 2)) assert.match(l, /^\u2014 [^ ]+ [A-Za-z0-9+/]+=*$/);
  assert.deepEqual(parseCosignatureResponse(text), [s1, s2]);
  assert.throws(() => formatCosignatureResponse([]), { code: 'WITNESS_RESPONSE_MALFORMED' });
  // https://c2sp.org/tlog-witness#add-checkpoint, "Example response body".
  const spec =
    '\u2014 witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTSvVjyQLrdk3DXDqI5G2HgLatVs0pWh6Up69HVOw==\n' +
    '\u2014 witness.example/w1 I7rEps0pvK2UqkS2gSpVUDhrhVtQV9lgF6pRrWAvjJHjyWpW7VcE3SiOlVlbQNt64vWhO+DlkL0+UfzuOBMh9ChdMkP1vi/lCAsmlw==\n' +
    '\u2014 witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrrKbYKA7nC3HNJhm/kWl7oJlqU3rXXvpysAdyP3wQ==\n';
  const sigs = parseCosignatureResponse(spec);
  assert.deepEqual(
    sigs.map((s) => s.name),
    ['witness.example/w1', 'witness.example/w1', 'witness.example/w2'],
  );
  assert.equal(formatCosignatureResponse(sigs), spec);
  for (const bad of [
    '',
    '\n',
    spec.slice(0, -1),
    spec + '\n',
    spec.replace('\u2014 ', '- '),
    '\u2014 w1 AAAA\n',
    'x'.repeat(MAX_WITNESS_BODY_BYTES + 1),
  ]) {
    assert.throws(
      () => parseCosignatureResponse(bad),
      { code: 'WITNESS_RESPONSE_MALFORMED' },
      JSON.stringify(bad.slice(0, 40)),
    );
  }
});

test('size response (409, text/x.tlog.size): a decimal and a newline', () => {
  assert.equal(TLOG_SIZE_CONTENT_TYPE, 'text/x.tlog.size');
  assert.equal(formatSizeResponse(0), '0\n');
  assert.equal(formatSizeResponse(20852014), '20852014\n');
  assert.equal(parseSizeResponse('20852014\n'), 20852014);
  assert.equal(parseSizeResponse('0\n'), 0);
  for (const bad of [
    '',
    '\n',
    '5',
    '05\n',
    ' 5\n',
    '5\r\n',
    '5\n\n',
    '-1\n',
    '1e3\n',
    '99999999999999999999\n',
    '5 \n',
  ]) {
    assert.throws(() => parseSizeResponse(bad), { code: 'WITNESS_RESPONSE_MALFORMED' }, JSON.stringify(bad));
  }
  assert.throws(() => formatSizeResponse(-1), { code: 'WITNESS_RESPONSE_MALFORMED' });
});

test('origin hash: lowercase hex SHA-256 of the origin', () => {
  const expected = createHash('sha256').update('example.com/behind-the-sofa').digest('hex');
  assert.equal(witnessOriginHash('example.com/behind-the-sofa'), expected);
  assert.ok(isWitnessOriginHash(expected));
  assert.ok(!isWitnessOriginHash(expected.toUpperCase()));
  assert.ok(!isWitnessOriginHash(expected.slice(1)));
  assert.equal(witnessOriginHash('caf\u00e9'), createHash('sha256').update('caf\u00e9', 'utf8').digest('hex'));
});

// Valid requests: a real checkpoint, some proof hashes, any old size.
const validRequest = fc
  .record({
    size: fc.integer({ min: 1, max: 21 }),
    oldSize: fc.oneof(fc.integer({ min: 0, max: 21 }), fc.nat({ max: Number.MAX_SAFE_INTEGER })),
    proof: fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: MAX_CONSISTENCY_PROOF_LINES }),
    cosigned: fc.boolean(),
  })
  .map(({ size, oldSize, proof, cosigned }) => {
    let checkpoint = checkpointAt(size);
    if (cosigned)
      checkpoint += formatCosignatureResponse([
        witness.cosign(checkpoint.slice(0, checkpoint.indexOf('\n\n') + 1), 1700000000 + size),
      ]);
    return { oldSize, proof, checkpoint };
  });

test('property: format then parse round-trips every valid request', () => {
  fc.assert(
    fc.property(validRequest, (r) => {
      const body = formatAddCheckpointRequest(r);
      const p = parseAddCheckpointRequest(body);
      assert.equal(p.oldSize, r.oldSize);
      assert.deepEqual(p.proof, r.proof);
      assert.equal(p.checkpoint, r.checkpoint);
      assert.equal(formatAddCheckpointRequest(p), body);
    }),
  );
});

test('property: the parsers throw nothing but RemembrancerError, on anything', () => {
  const bodies = validRequest.map((r) => formatAddCheckpointRequest(r));
  fc.assert(
    fc.property(
      fc.oneof(
        nastyString,
        mutated(bodies),
        bodies.map((b) => b.replace(/\n/g, '\r\n')),
      ),
      (s) => {
        onlyRemembrancerErrors(() => parseAddCheckpointRequest(s));
        onlyRemembrancerErrors(() => parseCosignatureResponse(s));
        onlyRemembrancerErrors(() => parseSizeResponse(s));
      },
    ),
    { numRuns: 2000 },
  );
  for (const v of [undefined, null, 5, {}, []]) {
    onlyRemembrancerErrors(() => parseAddCheckpointRequest(v as string));
    onlyRemembrancerErrors(() => parseCosignatureResponse(v as string));
    onlyRemembrancerErrors(() => parseSizeResponse(v as string));
  }
});

test('property: a mutated request either fails to parse or parses to what it says', () => {
  const bodies = validRequest.map((r) => formatAddCheckpointRequest(r));
  fc.assert(
    fc.property(mutated(bodies), (s) => {
      let p;
      try {
        p = parseAddCheckpointRequest(s);
      } catch (e) {
        assert.ok(e instanceof RemembrancerError);
        return;
      }
      // Anything accepted is canonical: formatting it gives the same bytes.
      assert.equal(formatAddCheckpointRequest(p), s);
    }),
    { numRuns: 1000 },
  );
});
