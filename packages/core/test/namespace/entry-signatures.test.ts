import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RemembrancerError, base64Encode, canonicalBytes, crypto, utf8Decode } from '../../src/index.js';
import {
  MAX_DOCUMENT_SIGNATURES,
  documentSignatures,
  publicKeyBase64,
  signDocument,
  signingBytes,
  verifyDocumentSignature,
} from '../../src/namespace/entry-signatures.js';

const seed = (n: number) => new Uint8Array(32).fill(n);
const entry = { schema: 'invoice@1.0.0', amount: 42, memo: 'ünïcode ✓' };

function refused(f: () => unknown, code: string, pointer: string): void {
  assert.throws(f, (e: unknown) => e instanceof RemembrancerError && e.code === code && e.pointer === pointer);
}

test('signatures cover the JCS bytes of the document without its signatures member', () => {
  const signed = signDocument(entry, 'w1', seed(1));
  assert.equal(utf8Decode(signingBytes(signed)), '{"amount":42,"memo":"ünïcode ✓","schema":"invoice@1.0.0"}');
  assert.deepEqual(signingBytes(signed), canonicalBytes(entry));
  assert.deepEqual(signingBytes(entry), canonicalBytes(entry));
  assert.equal(signed.signatures.length, 1);
  assert.equal(signed.signatures[0]!.signer, 'w1');
  // Ed25519 over exactly those bytes, verifiable with nothing but the public key.
  assert.ok(
    crypto.ed25519Verify(
      crypto.ed25519PublicKey(seed(1)),
      canonicalBytes(entry),
      Buffer.from(signed.signatures[0]!.sig, 'base64'),
    ),
  );
  assert.ok(verifyDocumentSignature(signed, signed.signatures[0]!, publicKeyBase64(seed(1))));
  // The input is not modified.
  assert.equal('signatures' in entry, false);
});

test('signatures are kept sorted by signer and a signer re-signing replaces its signature', () => {
  let doc = signDocument(entry, 'zed', seed(3));
  doc = signDocument(doc, 'amy', seed(1));
  doc = signDocument(doc, 'max', seed(2));
  assert.deepEqual(
    doc.signatures.map((s) => s.signer),
    ['amy', 'max', 'zed'],
  );
  // Any order of signing gives the same bytes.
  let other = signDocument(entry, 'max', seed(2));
  other = signDocument(other, 'zed', seed(3));
  other = signDocument(other, 'amy', seed(1));
  assert.deepEqual(canonicalBytes(other), canonicalBytes(doc));
  // A signer signing again with another key replaces its own signature, nobody else's.
  const resigned = signDocument(doc, 'max', seed(9));
  assert.deepEqual(
    resigned.signatures.map((s) => s.signer),
    ['amy', 'max', 'zed'],
  );
  assert.ok(verifyDocumentSignature(resigned, resigned.signatures[1]!, publicKeyBase64(seed(9))));
  assert.equal(verifyDocumentSignature(resigned, resigned.signatures[1]!, publicKeyBase64(seed(2))), false);
  for (const s of resigned.signatures.filter((x) => x.signer !== 'max')) {
    assert.ok(verifyDocumentSignature(resigned, s, publicKeyBase64(seed(s.signer === 'amy' ? 1 : 3))));
  }
});

test('a signature verifies only for its key and the unaltered document', () => {
  const doc = signDocument(entry, 'w1', seed(1));
  const sig = doc.signatures[0]!;
  assert.equal(verifyDocumentSignature(doc, sig, publicKeyBase64(seed(2))), false);
  assert.equal(verifyDocumentSignature({ ...doc, amount: 43 }, sig, publicKeyBase64(seed(1))), false);
  assert.equal(verifyDocumentSignature({ ...doc, extra: true }, sig, publicKeyBase64(seed(1))), false);
  // Malformed keys and signatures are failed verifications, not crashes.
  assert.equal(verifyDocumentSignature(doc, sig, 'not base64!'), false);
  assert.equal(verifyDocumentSignature(doc, sig, base64Encode(new Uint8Array(31))), false);
  assert.equal(verifyDocumentSignature(doc, { signer: 'w1', sig: 'AAAA' }, publicKeyBase64(seed(1))), false);
  assert.equal(verifyDocumentSignature(doc, { signer: 'w1', sig: '%%%%' }, publicKeyBase64(seed(1))), false);
  assert.equal(
    verifyDocumentSignature(doc, { signer: 'w1', sig: base64Encode(new Uint8Array(64)) }, publicKeyBase64(seed(1))),
    false,
  );
});

test('documentSignatures: absent, valid, or refused with the offending pointer', () => {
  assert.equal(documentSignatures(entry), undefined);
  const doc = signDocument(signDocument(entry, 'a', seed(1)), 'b', seed(2));
  assert.deepEqual(documentSignatures(doc), doc.signatures);
  const sig = doc.signatures[0]!.sig;
  const cases: [unknown, string][] = [
    [{}, '/signatures'],
    [[], '/signatures'],
    [Array.from({ length: MAX_DOCUMENT_SIGNATURES + 1 }, (_, i) => ({ signer: `s${i}`, sig })), '/signatures'],
    [['sig'], '/signatures/0'],
    [[{ signer: 'a' }], '/signatures/0/sig'],
    [[{ signer: 'a', sig, at: 1 }], '/signatures/0/at'],
    [[{ signer: 'bad signer', sig }], '/signatures/0/signer'],
    [[{ signer: 'a', sig: sig.slice(4) }], '/signatures/0/sig'],
    [[{ signer: 'a', sig: base64Encode(new Uint8Array(65)) }], '/signatures/0/sig'],
    [[{ signer: 'a', sig: 64 }], '/signatures/0/sig'],
    [
      [
        { signer: 'a', sig },
        { signer: 'a', sig },
      ],
      '/signatures/1',
    ],
  ];
  for (const [signatures, pointer] of cases) {
    refused(() => documentSignatures({ ...entry, signatures }), 'SIGNATURE_INVALID', pointer);
    refused(() => documentSignatures({ ...entry, signatures }, 'GOVERNANCE_INVALID'), 'GOVERNANCE_INVALID', pointer);
  }
});

test('signDocument refuses what it cannot sign', () => {
  const bad = (f: () => unknown) =>
    assert.throws(f, (e: unknown) => e instanceof RemembrancerError && e.code === 'INVALID_ARGUMENT');
  bad(() => signDocument([] as never, 'a', seed(1)));
  bad(() => signDocument(entry, 'no spaces', seed(1)));
  bad(() => signDocument(entry, 'a', new Uint8Array(31)));
  bad(() => signDocument({ ...entry, signatures: [] }, 'a', seed(1)));
  bad(() => signDocument({ ...entry, when: undefined }, 'a', seed(1)));
});

test('publicKeyBase64 is the base64 of the Ed25519 public key', () => {
  assert.equal(publicKeyBase64(seed(7)), base64Encode(crypto.ed25519PublicKey(seed(7))));
  assert.equal(publicKeyBase64(seed(7)).length, 44);
});

test('fast-check: any JSON object signs and verifies; any change to it breaks the signature', () => {
  fc.assert(
    fc.property(
      fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
      fc.string({ minLength: 1, maxLength: 6 }),
      (raw, key) => {
        const doc = JSON.parse(JSON.stringify(raw)) as Record<string, unknown>;
        delete doc['signatures'];
        const signed = signDocument(doc, 'w', seed(5));
        const [sig] = documentSignatures(signed)!;
        assert.ok(verifyDocumentSignature(signed, sig!, publicKeyBase64(seed(5))));
        if (key === 'signatures') return;
        const changed = { ...signed, [key]: key in doc ? [doc[key]] : 'added' };
        assert.equal(verifyDocumentSignature(changed, sig!, publicKeyBase64(seed(5))), false);
      },
    ),
    { numRuns: 150 },
  );
});
