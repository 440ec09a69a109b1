import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NoteSigner,
  RemembrancerError,
  activePeers,
  createGenesis,
  formatKeyId,
  logVerifierForOrigin,
  openCheckpoint,
  parseVkey,
  peerAuthPublicKey,
  peerById,
  peerByAuthKeyId,
  peerForOrigin,
  signCheckpoint,
  verifyNote,
} from '../../src/index.js';
import { alpha, beta, gamma, withPeer } from './peers.js';

const set = createGenesis({
  federation_id: 'vaultmesh-test',
  peers: [alpha.peer, withPeer(beta, { status: 'probation' }), withPeer(gamma, { status: 'suspended' })],
  quorum: { witness: 1, registry: 1 },
  anchor_strategy: 'hybrid',
  effective_after: '2025-01-01T00:00:00Z',
});

test('activePeers and peerById', () => {
  assert.deepEqual(
    activePeers(set).map((p) => p.id),
    [alpha.id],
  );
  assert.equal(peerById(set, beta.id)?.status, 'probation');
  assert.equal(peerById(set, 'nobody'), undefined);
});

test('peerByAuthKeyId finds peers by key ID (number or hex) or by whole vkey', () => {
  const k = parseVkey(beta.peer.auth_key);
  assert.equal(peerByAuthKeyId(set, k.keyId)?.id, beta.id);
  assert.equal(peerByAuthKeyId(set, formatKeyId(k.keyId))?.id, beta.id);
  assert.equal(peerByAuthKeyId(set, beta.peer.auth_key)?.id, beta.id);
  assert.deepEqual(peerAuthPublicKey(peerById(set, beta.id)!), k.publicKey);
  // Other keys of the peer, unknown or garbled key IDs find nobody.
  assert.equal(peerByAuthKeyId(set, beta.peer.log_vkey), undefined);
  assert.equal(peerByAuthKeyId(set, parseVkey(beta.peer.log_vkey).keyId), undefined);
  for (const junk of ['', 'zzzzzzzz', 'ABCDEF01', '1234567', 'not+a+vkey', '\u0000'])
    assert.equal(peerByAuthKeyId(set, junk), undefined);
  assert.equal(peerByAuthKeyId(set, null as unknown as string), undefined);
});

test('logVerifierForOrigin derives the per-namespace log key and refuses foreign origins', () => {
  const origin = `${alpha.id}/dao:vaultmesh`;
  assert.equal(peerForOrigin(set, origin)?.id, alpha.id);
  assert.equal(peerForOrigin(set, `${beta.id}/dao:x`)?.id, beta.id);
  assert.equal(peerForOrigin(set, 'unknown.example/dao:x'), undefined);
  assert.equal(peerForOrigin(set, `${alpha.id}/Not A Namespace`), undefined);

  const v = logVerifierForOrigin(alpha.peer, origin);
  assert.equal(v.name, origin);
  const note = signCheckpoint({ origin, size: 3, root: new Uint8Array(32).fill(7) }, alpha.logSigner('dao:vaultmesh'));
  assert.equal(openCheckpoint(note, v).checkpoint.size, 3);
  // Another node's log key does not verify it.
  assert.throws(
    () => verifyNote(note, [logVerifierForOrigin(beta.peer, `${beta.id}/dao:vaultmesh`)]),
    RemembrancerError,
  );
  // A checkpoint under alpha's origin signed with someone else's key.
  const forged = signCheckpoint(
    { origin, size: 3, root: new Uint8Array(32).fill(7) },
    new NoteSigner(origin, beta.logSeed),
  );
  assert.throws(
    () => openCheckpoint(forged, v),
    (e: unknown) => e instanceof RemembrancerError && e.code === 'SIGNATURE_MISSING',
  );

  for (const bad of [
    `${beta.id}/dao:vaultmesh`,
    `${alpha.id}/`,
    `${alpha.id}/dao`,
    alpha.id,
    `${alpha.id}x/dao:vaultmesh`,
    `sub.${alpha.id}/dao:vaultmesh`,
  ]) {
    assert.throws(
      () => logVerifierForOrigin(alpha.peer, bad),
      (e: unknown) => e instanceof RemembrancerError && e.code === 'ORIGIN_MISMATCH',
      bad,
    );
  }
});
