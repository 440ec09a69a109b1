import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CosignatureSigner, NoteSigner, NoteVerifier, RemembrancerError, parseVkey } from '../../src/index.js';
import { formatSkey, formatVkey, generateKeyPair, parseSkey } from '../../src/note/index.js';
import { keyName, mutated, nastyString, onlyRemembrancerErrors, seed32 } from './arbitraries.js';

const seed = new Uint8Array(32).fill(3);

test('NoteSigner exposes name, key ID, public key and a vkey that round-trips', () => {
  const s = new NoteSigner('alpha.example/dao:x', seed);
  assert.equal(s.name, 'alpha.example/dao:x');
  assert.equal(s.publicKey.length, 32);
  const v = NoteVerifier.fromVkey(s.vkey);
  assert.equal(v.keyId, s.keyId);
  assert.deepEqual(v.publicKey, s.publicKey);
  assert.equal(v.vkey, s.vkey);
  assert.match(s.vkey, /^alpha\.example\/dao:x\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
});

test('private keys: PRIVATE+KEY+name+keyid+base64(0x01 || seed) round-trip', () => {
  const s = new NoteSigner('alpha.example/log', seed);
  const skey = s.skey();
  assert.ok(skey.startsWith(`PRIVATE+KEY+alpha.example/log+${s.vkey.split('+')[1]}+`));
  const k = parseSkey(skey);
  assert.equal(k.type, 1);
  assert.deepEqual(k.seed, seed);
  assert.equal(formatSkey(k.name, k.type, k.seed), skey);
  assert.equal(NoteSigner.fromSkey(skey).vkey, s.vkey);
});

test('generateKeyPair gives matching skey and vkey for both key types', () => {
  const log = generateKeyPair('a.example/log');
  assert.equal(NoteSigner.fromSkey(log.skey).vkey, log.vkey);
  const w = generateKeyPair('a.example/witness', 0x04);
  assert.equal(CosignatureSigner.fromSkey(w.skey).vkey, w.vkey);
  assert.throws(() => NoteSigner.fromSkey(w.skey), { code: 'VKEY_MALFORMED' });
  assert.throws(() => CosignatureSigner.fromSkey(log.skey), { code: 'VKEY_MALFORMED' });
  assert.throws(() => NoteVerifier.fromVkey(w.vkey), { code: 'VKEY_MALFORMED' });
});

test('vkey parsing is strict', () => {
  const { vkey } = new NoteSigner('a.example/log', seed);
  const [name, hex] = vkey.split('+') as [string, string];
  const b64 = vkey.slice(name.length + hex.length + 2);
  const bad = [
    '',
    name,
    `${name}+${hex}`,
    `${name}+${hex}+${b64}+x`, // base64 with a stray "+" at the end decodes wrongly
    `${name}+${hex}+${b64}A`,
    `a b+${hex}+${b64}`,
    `+${hex}+${b64}`,
    `${name}+${hex.toUpperCase()}+${b64}`,
    `${name}+${hex.slice(1)}+${b64}`,
    `${name}+${hex}0+${b64}`,
    `${name}+00000000+${b64}`, // key ID does not match
    `other.example/log+${hex}+${b64}`, // name does not match the key ID
    `${name}+${hex}+${b64.slice(0, -1)}`,
    `${name}+${hex}+AQ==`, // type only
    `${name}+${hex}+${Buffer.from([1, ...new Uint8Array(31)]).toString('base64')}`, // short key
  ];
  for (const v of bad) assert.throws(() => parseVkey(v), { code: 'VKEY_MALFORMED' }, v);
  // Other signature types parse generically (their key ID rule is theirs to check).
  const other = parseVkey(`${name}+01234567+${Buffer.from([0x02, 1, 2, 3]).toString('base64')}`);
  assert.equal(other.type, 2);
  assert.throws(() => NoteVerifier.fromVkey(`${name}+01234567+${Buffer.from([0x02, 1, 2, 3]).toString('base64')}`), {
    code: 'VKEY_MALFORMED',
  });
});

test('keys whose base64 contains "+" parse (split at the first separators only)', () => {
  let found = 0;
  for (let i = 0; i < 64; i++) {
    const s = new NoteSigner('plus.example/log', new Uint8Array(32).fill(i));
    const vkeyB64 = s.vkey.slice('plus.example/log+01234567+'.length);
    const skeyB64 = s.skey().slice('PRIVATE+KEY+plus.example/log+01234567+'.length);
    if (!vkeyB64.includes('+') && !skeyB64.includes('+')) continue;
    found++;
    assert.equal(NoteVerifier.fromVkey(s.vkey).vkey, s.vkey);
    assert.equal(NoteSigner.fromSkey(s.skey()).vkey, s.vkey);
  }
  assert.ok(found > 0);
});

test('skey errors never echo the secret', () => {
  const skey = new NoteSigner('a.example/log', seed).skey();
  const broken = skey.slice(0, -4) + 'AAA=';
  try {
    parseSkey(broken);
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(e instanceof RemembrancerError);
    assert.equal(e.code, 'VKEY_MALFORMED');
    assert.ok(!e.message.includes(skey.slice(-40, -20)));
  }
  assert.throws(() => parseSkey(skey.replace('PRIVATE', 'private')), { code: 'VKEY_MALFORMED' });
  assert.throws(() => parseSkey(skey.replace(/\+[0-9a-f]{8}\+/, '+00000000+')), { code: 'VKEY_MALFORMED' });
});

test('signer input checks', () => {
  assert.throws(() => new NoteSigner('a b', seed), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => new NoteSigner('a', new Uint8Array(31)), { code: 'INVALID_ARGUMENT' });
  const s = new NoteSigner('a', seed);
  assert.throws(() => s.sign('no newline'), { code: 'NOTE_MALFORMED' });
  assert.throws(() => s.sign('bad\u0007\n'), { code: 'NOTE_MALFORMED' });
  // Ed25519 is deterministic.
  assert.deepEqual(s.sign('x\n'), s.sign('x\n'));
});

test('property: vkeys and skeys round-trip for any valid name and seed', () => {
  fc.assert(
    fc.property(keyName, seed32, fc.constantFrom(0x01, 0x04), (name, sd, type) => {
      const skey = formatSkey(name, type, sd);
      const k = parseSkey(skey);
      assert.equal(k.name, name);
      assert.deepEqual(k.seed, sd);
      const signer = type === 1 ? new NoteSigner(name, sd) : new CosignatureSigner(name, sd);
      const vkey = formatVkey(name, type, signer.publicKey);
      assert.equal(vkey, signer.vkey);
      const v = parseVkey(vkey);
      assert.equal(v.keyId, signer.keyId);
      assert.equal(v.type, type);
    }),
    { numRuns: 200 },
  );
});

test('property: parseVkey, parseSkey and fromVkey throw only RemembrancerErrors', () => {
  const valid = fc.tuple(keyName, seed32).map(([n, s]) => new NoteSigner(n, s));
  fc.assert(
    fc.property(fc.oneof(nastyString, mutated(valid.map((s) => s.vkey)), mutated(valid.map((s) => s.skey()))), (s) => {
      onlyRemembrancerErrors(() => parseVkey(s));
      onlyRemembrancerErrors(() => parseSkey(s));
      onlyRemembrancerErrors(() => NoteVerifier.fromVkey(s));
    }),
    { numRuns: 1000 },
  );
});
