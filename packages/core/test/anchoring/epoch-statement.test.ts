import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RemembrancerError,
  buildEpochTree,
  canonicalize,
  countEpochSignatures,
  crypto,
  epochStatementBytes,
  epochStatementDigest,
  parseEpochStatement,
  peerAuthPublicKey,
  requiredEpochSignatures,
  signEpochStatement,
  utf8Decode,
  verifyEpochStatementSignature,
  type EpochStatement,
} from '../../src/index.js';
import {
  alpha,
  beta,
  delta,
  epochLeaves,
  epsilon,
  eta,
  federation,
  gamma,
  omega,
  refusedAt,
  registry,
  statementFor,
  zeta,
} from './federation.js';

const tree = buildEpochTree(epochLeaves());
const statement = statementFor(tree);
const independent = statementFor(tree, { mode: 'independent', node: beta.id });
const sig = (s: EpochStatement, p: { id: string; authSeed: Uint8Array }) => ({
  node: p.id,
  sig: signEpochStatement(s, p.authSeed),
});

test('parseEpochStatement: exactly the members; node null iff collaborative', () => {
  assert.deepEqual(parseEpochStatement(JSON.parse(JSON.stringify(statement))), statement);
  assert.deepEqual(parseEpochStatement(independent), independent);
  for (const target of ['rfc3161:a', 'eip155:1', 'eip155:9007199254740991', 'btc:regtest']) {
    assert.equal(parseEpochStatement({ ...statement, target }).target, target);
  }
  const pointerOf = (v: unknown) => refusedAt(parseEpochStatement, 'EPOCH_STATEMENT_INVALID', v);
  const { root: _r, ...noRoot } = statement;
  for (const [bad, pointer] of [
    [null, ''],
    [{ ...statement, extra: 1 }, '/extra'],
    [noRoot, '/root'],
    [{ ...statement, format: 'vaultmesh.epoch@2' }, '/format'],
    [{ ...statement, federation_id: 'Vault Mesh' }, '/federation_id'],
    [{ ...statement, registry_version: 0 }, '/registry_version'],
    [{ ...statement, target: 'rfc3161:' }, '/target'],
    [{ ...statement, target: 'eip155:9007199254740992' }, '/target'],
    [{ ...statement, target: 'btc:main' }, '/target'],
    [{ ...statement, target: 7 }, '/target'],
    [{ ...statement, epoch: -1 }, '/epoch'],
    [{ ...statement, epoch: 1.5 }, '/epoch'],
    [{ ...statement, mode: 'hybrid' }, '/mode'],
    [{ ...statement, node: beta.id }, '/node'],
    [{ ...independent, node: null }, '/node'],
    [{ ...independent, node: 'Beta' }, '/node'],
    [{ ...statement, tree_size: 0 }, '/tree_size'],
    [{ ...statement, root: 'AAAA' }, '/root'],
  ] as const) {
    assert.equal(pointerOf(bad), pointer, JSON.stringify(bad));
  }
});

test('the signed bytes are the JCS of the statement; the digest is their SHA-256', () => {
  const bytes = epochStatementBytes(statement);
  assert.equal(utf8Decode(bytes), canonicalize(statement));
  assert.ok(
    utf8Decode(bytes).startsWith('{"epoch":480000,"federation_id":"vaultmesh-test","format":"vaultmesh.epoch@1",'),
  );
  assert.deepEqual(epochStatementDigest(statement), crypto.sha256(bytes));
  // Member order and extra members of the caller's object do not change (or sneak into) the bytes.
  const reordered = Object.fromEntries(Object.entries(statement).reverse()) as unknown as EpochStatement;
  assert.deepEqual(epochStatementBytes(reordered), bytes);
  assert.throws(() => epochStatementBytes({ ...statement, extra: 1 } as EpochStatement), RemembrancerError);
});

test("signatures verify with the signer's auth key, and only over this statement", () => {
  const s = signEpochStatement(statement, alpha.authSeed);
  const key = peerAuthPublicKey(alpha.peer);
  assert.ok(verifyEpochStatementSignature(statement, key, s));
  assert.ok(!verifyEpochStatementSignature(statement, peerAuthPublicKey(beta.peer), s));
  for (const changed of [
    { epoch: 480_001 },
    { target: 'rfc3161:other' },
    { registry_version: 2 },
    { tree_size: tree.size + 1 },
    { root: 'A'.repeat(43) + '=' },
    { mode: 'independent' as const, node: alpha.id },
    { federation_id: 'other' },
  ]) {
    assert.ok(!verifyEpochStatementSignature({ ...statement, ...changed }, key, s), JSON.stringify(changed));
  }
  for (const junk of ['', 'AAAA', s.slice(0, -4), s + 'AAAA', '!'.repeat(88), 7 as unknown as string]) {
    assert.ok(!verifyEpochStatementSignature(statement, key, junk));
  }
  assert.ok(!verifyEpochStatementSignature(statement, key.slice(1), s));
  assert.throws(() => signEpochStatement(statement, new Uint8Array(31)), RemembrancerError);
});

test('counting ignores unknown, inactive, non-anchor, duplicate and bad signatures', () => {
  const forged = { node: delta.id, sig: signEpochStatement(statement, gamma.authSeed) };
  const count = countEpochSignatures(
    statement,
    [
      sig(statement, alpha),
      sig(statement, omega), // not in the registry
      sig(statement, epsilon), // suspended
      sig(statement, eta), // probation
      sig(statement, zeta), // active, but no anchor role
      sig(statement, alpha), // again
      forged, // delta's name, gamma's key
      { node: beta.id, sig: 'AAAA' },
      sig(statementFor(tree, { epoch: 1 }), beta), // beta, over another epoch
      sig(statement, gamma),
      { node: 7, sig: null } as never,
      null as never,
    ],
    registry,
  );
  assert.deepEqual(count.valid, [alpha.id, gamma.id]);
  assert.deepEqual(count.invalid, [omega.id, epsilon.id, eta.id, zeta.id, delta.id, beta.id, '7', 'undefined']);
  assert.equal(requiredEpochSignatures(statement, registry), 3);
  assert.ok(count.valid.length < requiredEpochSignatures(statement, registry));

  const full = countEpochSignatures(
    statement,
    [sig(statement, delta), sig(statement, beta), sig(statement, alpha)],
    registry,
  );
  assert.deepEqual(full, { valid: [delta.id, beta.id, alpha.id], invalid: [] });
  // A bad entry before a good one from the same node: the node counts, and the bad entry is reported.
  assert.deepEqual(countEpochSignatures(statement, [{ node: beta.id, sig: 'AAAA' }, sig(statement, beta)], registry), {
    valid: [beta.id],
    invalid: [beta.id],
  });
});

test('an independent epoch counts its own node only, and needs just that one signature', () => {
  const count = countEpochSignatures(
    independent,
    [sig(independent, alpha), sig(independent, beta), sig(independent, gamma)],
    registry,
  );
  assert.deepEqual(count, { valid: [beta.id], invalid: [alpha.id, gamma.id] });
  assert.equal(requiredEpochSignatures(independent, registry), 1);
  // A node that may not anchor cannot anchor alone either.
  const byZeta = statementFor(tree, { mode: 'independent', node: zeta.id });
  assert.deepEqual(countEpochSignatures(byZeta, [sig(byZeta, zeta)], registry), { valid: [], invalid: [zeta.id] });
});

test('signatures are counted against the registry version the statement names', () => {
  const v2 = federation('hybrid', 2);
  assert.throws(
    () => countEpochSignatures(statement, [sig(statement, alpha)], v2),
    (e: unknown) => e instanceof RemembrancerError && e.code === 'INVALID_ARGUMENT',
  );
  const s2 = statementFor(tree, {}, v2);
  assert.deepEqual(countEpochSignatures(s2, [sig(s2, alpha)], v2).valid, [alpha.id]);
  // A signature over the version-1 statement does not carry over to version 2.
  assert.deepEqual(countEpochSignatures(s2, [sig(statement, alpha)], v2).valid, []);
});
