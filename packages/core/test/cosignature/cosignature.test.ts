import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import fc from 'fast-check';
import {
  CosignatureSigner,
  CosignatureVerifier,
  NoteSigner,
  addSignatures,
  collectCosignatures,
  formatCheckpoint,
  formatSignatureLine,
  parseNote,
  parseSignatureLine,
  parseVkey,
  signCheckpoint,
  splitTimestampedSignature,
  verifyCosignature,
} from '../../src/index.js';
import { computeKeyId } from '../../src/note/index.js';
import { cosignedMessage } from '../../src/cosignature/index.js';
import { mutated, nastyString, onlyRemembrancerErrors } from '../note/arbitraries.js';

const origin = 'alpha.vaultmesh.local/dao:vaultmesh';
const cp = { origin, size: 5, root: new Uint8Array(32).fill(5) };
const body = formatCheckpoint(cp);
const log = new NoteSigner(origin, new Uint8Array(32).fill(1));
const w1 = new CosignatureSigner('alpha.vaultmesh.local/witness', new Uint8Array(32).fill(2));
const w2 = new CosignatureSigner('beta.vaultmesh.local/witness', new Uint8Array(32).fill(3));
const w3 = new CosignatureSigner('gamma.vaultmesh.local/witness', new Uint8Array(32).fill(4));

function spki(pub: Uint8Array) {
  return createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pub]),
    format: 'der',
    type: 'spki',
  });
}

test('signed message: "cosignature/v1\\ntime <t>\\n" followed by the checkpoint body', () => {
  assert.equal(
    cosignedMessage(
      'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n',
      1679315147,
    ),
    'cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n',
  );
  assert.equal(cosignedMessage(body, 0), 'cosignature/v1\ntime 0\n' + body);
});

test('signature payload: key ID || 8-byte big-endian timestamp || Ed25519 over the message', () => {
  const sig = w1.cosign(body, 1700000000);
  assert.equal(sig.name, w1.name);
  assert.equal(sig.keyId, computeKeyId(w1.name, 0x04, w1.publicKey));
  assert.equal(sig.signature.length, 72);
  assert.deepEqual([...sig.signature.subarray(0, 8)], [0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00]);
  // Checked independently with node:crypto over the exact message bytes.
  const ok = nodeVerify(
    null,
    Buffer.from(cosignedMessage(body, 1700000000), 'utf8'),
    spki(w1.publicKey),
    sig.signature.subarray(8),
  );
  assert.ok(ok);
  const raw = Buffer.from(formatSignatureLine(sig).trim().split(' ')[2]!, 'base64');
  assert.equal(raw.length, 4 + 8 + 64);
  assert.equal(raw.readUInt32BE(0), sig.keyId);
});

test('spec example cosignature decodes to the timestamp of the spec example message', () => {
  // https://c2sp.org/tlog-cosignature: the witness.example.com/w1 line and "time 1679315147".
  const s = parseSignatureLine(
    '\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==',
  );
  assert.equal(splitTimestampedSignature(s.signature).timestamp, 1679315147n);
});

test('vkeys carry type 0x04 and a key ID over 0x04', () => {
  const k = parseVkey(w1.vkey);
  assert.equal(k.type, 0x04);
  assert.equal(k.keyId, w1.keyId);
  assert.notEqual(w1.keyId, computeKeyId(w1.name, 0x01, w1.publicKey));
  const v = CosignatureVerifier.fromVkey(w1.vkey);
  assert.equal(v.vkey, w1.vkey);
  assert.throws(() => CosignatureVerifier.fromVkey(log.vkey), { code: 'VKEY_MALFORMED' });
  assert.equal(CosignatureSigner.fromSkey(w1.skey()).vkey, w1.vkey);
});

test('verifyCosignature returns the timestamp and rejects tampering', () => {
  const v = w1.verifier();
  const sig = w1.cosign(body, 1700000000);
  assert.equal(verifyCosignature(body, sig, v), 1700000000);
  const later = sig.signature.slice();
  later[7] = 1; // change the timestamp
  assert.throws(() => verifyCosignature(body, { ...sig, signature: later }, v), { code: 'SIGNATURE_INVALID' });
  assert.throws(() => verifyCosignature(formatCheckpoint({ ...cp, size: 6 }), sig, v), { code: 'SIGNATURE_INVALID' });
  assert.throws(() => verifyCosignature(body, sig, w2.verifier()), { code: 'SIGNATURE_INVALID' });
  assert.throws(() => verifyCosignature(body, { ...sig, signature: sig.signature.subarray(0, 71) }, v), {
    code: 'COSIGNATURE_MALFORMED',
  });
  const huge = sig.signature.slice();
  huge[0] = 0x80; // timestamp >= 2^63
  assert.throws(() => verifyCosignature(body, { ...sig, signature: huge }, v), { code: 'COSIGNATURE_MALFORMED' });
});

test('extension lines are part of the cosigned message', () => {
  const withExt = body + 'extension\n';
  const sig = w1.cosign(withExt, 10);
  assert.equal(verifyCosignature(withExt, sig, w1.verifier()), 10);
  assert.throws(() => verifyCosignature(body, sig, w1.verifier()), { code: 'SIGNATURE_INVALID' });
});

test('cosign checks its inputs', () => {
  assert.throws(() => w1.cosign('not a checkpoint\n', 1), { code: 'CHECKPOINT_MALFORMED' });
  assert.throws(() => w1.cosign(body, -1), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => w1.cosign(body, 1.5), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => w1.cosign(body, 2 ** 53), { code: 'INVALID_ARGUMENT' });
  assert.equal(
    verifyCosignature(body, w1.cosign(body, Number.MAX_SAFE_INTEGER), w1.verifier()),
    Number.MAX_SAFE_INTEGER,
  );
});

test('collectCosignatures reports which trusted witnesses cosigned', () => {
  const note = addSignatures(signCheckpoint(cp, log), [w1.cosign(body, 100), w2.cosign(body, 200)]);
  const found = collectCosignatures(note, [w1.verifier(), w2.verifier(), w3.verifier()]);
  assert.deepEqual(found, [
    { name: w1.name, keyId: w1.keyId, timestamp: 100 },
    { name: w2.name, keyId: w2.keyId, timestamp: 200 },
  ]);
  assert.deepEqual(collectCosignatures(note, [w3.verifier()]), []);
  assert.deepEqual(collectCosignatures(note, []), []);
});

test('collectCosignatures: a trusted witness with a bad cosignature rejects the note', () => {
  const bad = { ...w1.cosign(body, 100), signature: new Uint8Array(72) };
  const note = addSignatures(signCheckpoint(cp, log), [bad, w2.cosign(body, 200)]);
  assert.throws(() => collectCosignatures(note, [w1.verifier(), w2.verifier()]), { code: 'SIGNATURE_INVALID' });
  assert.deepEqual(
    collectCosignatures(note, [w2.verifier()]).map((c) => c.name),
    [w2.name],
  );
  const short = addSignatures(signCheckpoint(cp, log), [{ ...w1.cosign(body, 1), signature: new Uint8Array(64) }]);
  assert.throws(() => collectCosignatures(short, [w1.verifier()]), { code: 'COSIGNATURE_MALFORMED' });
});

test('a witness key cannot pass for the log key and vice versa', () => {
  // Same seed, same name, different type byte: different key IDs, so the lines do not match.
  const seed = new Uint8Array(32).fill(9);
  const asLog = new NoteSigner(origin, seed);
  const asWitness = new CosignatureSigner(origin, seed);
  assert.notEqual(asLog.keyId, asWitness.keyId);
  const note = addSignatures(signCheckpoint(cp, asLog), [asWitness.cosign(body, 5)]);
  assert.deepEqual(
    collectCosignatures(note, [asWitness.verifier()]).map((c) => c.timestamp),
    [5],
  );
  assert.equal(parseNote(note).signatures.length, 2);
});

test('property: cosignatures round-trip through signature lines and verify', () => {
  fc.assert(
    fc.property(fc.nat({ max: Number.MAX_SAFE_INTEGER }), fc.nat({ max: 1e9 }), (ts, size) => {
      const b = formatCheckpoint({ ...cp, size });
      const sig = w2.cosign(b, ts);
      const back = parseSignatureLine(formatSignatureLine(sig).slice(0, -1));
      assert.deepEqual(back, sig);
      assert.equal(verifyCosignature(b, back, w2.verifier()), ts);
    }),
    { numRuns: 100 },
  );
});

test('property: collectCosignatures throws only RemembrancerErrors', () => {
  const vs = [w1.verifier(), w2.verifier()];
  const notes = fc
    .nat({ max: 1000 })
    .map((ts) => addSignatures(signCheckpoint(cp, log), [w1.cosign(body, ts), w2.cosign(body, ts + 1)]));
  fc.assert(
    fc.property(fc.oneof(nastyString, mutated(notes)), (s) => {
      onlyRemembrancerErrors(() => collectCosignatures(s, vs));
    }),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
      onlyRemembrancerErrors(() => splitTimestampedSignature(b));
      assert.equal(vs[0]!.verify(body, b), false);
    }),
  );
});
