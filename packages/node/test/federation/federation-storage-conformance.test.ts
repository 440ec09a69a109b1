import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  CosignatureSigner,
  NoteSigner,
  createGenesis,
  proposeNext,
  type RegistryPeer,
  type RegistrySet,
} from '@vaultmesh/core';
import { SqliteFederationStorage } from '../../src/federation/sqlite-federation-storage.js';
import { PgFederationStorage } from '../../src/federation/pg-federation-storage.js';
import type { FederationStorage } from '../../src/federation/federation-storage.js';
import type { WriteFence } from '../../src/storage/postgres/write-fence.js';
import { forEachBackend, type StorePlace } from '../storage/backend-suite.js';
import { code, LOST_LEASE } from '../storage/conformance-checks.js';

/** The federation storage of the place's backend; the same place opens the same state again. */
async function openAt(place: StorePlace, fence?: WriteFence): Promise<FederationStorage> {
  if (place.kind === 'sqlite') return SqliteFederationStorage.open(join(place.dir, 'federation.sqlite'));
  return PgFederationStorage.open({ db: place.url, ...(fence === undefined ? {} : { fence }) });
}

function peer(id: string, fill: number): RegistryPeer {
  // Distinct keys per role: a registry refuses one key in two roles.
  const seed = (role: number) => new Uint8Array(32).fill(fill * 3 + role);
  return {
    id,
    endpoint: `http://${id}:8080`,
    log_vkey: new NoteSigner(id, seed(0)).vkey,
    witness_vkey: new CosignatureSigner(`${id}/witness`, seed(1)).vkey,
    auth_key: new NoteSigner(`${id}/peer`, seed(2)).vkey,
    status: 'active',
    roles: ['log', 'witness'],
  };
}

/** Versions 1 and 2 of a registry (unsigned: the storage keeps what its caller verified). */
function registries(): [RegistrySet, RegistrySet] {
  const v1 = createGenesis({
    federation_id: 'test',
    peers: [peer('alpha', 1), peer('beta', 2)],
    quorum: { witness: 1, registry: 2 },
    anchor_strategy: 'collaborative',
    memo: 'genesis',
    effective_after: '2026-01-01T00:00:00Z',
  });
  return [v1, proposeNext(v1, { peers: [peer('alpha', 1), peer('beta', 2), peer('gamma', 3)] })];
}

/** A document with keys out of JCS order and nesting: it must come back as the same value. */
const evidenceDoc = (n: number) => ({ z: n, a: { list: [3, 1, 2], text: 'é ✓' }, kind: 'equivocation' });

forEachBackend('FederationStorage conformance', (freshPlace) => {
  test('registry versions round-trip across reopen, oldest first; a stored version is REGISTRY_STALE', async () => {
    const place = await freshPlace();
    const [v1, v2] = registries();
    let s = await openAt(place);
    assert.deepEqual(await s.registryVersions(), []);
    assert.equal(await s.latestRegistry(), undefined);
    await s.addRegistryVersion(v1, '2026-01-01T00:00:00.000Z');
    await s.addRegistryVersion(v2, '2026-01-02T00:00:00.000Z');
    await assert.rejects(s.addRegistryVersion(v2, '2026-01-03T00:00:00.000Z'), code('REGISTRY_STALE'));
    await s.close();

    s = await openAt(place);
    assert.deepEqual(await s.registryVersions(), [v1, v2]);
    assert.deepEqual(await s.latestRegistry(), v2);
    await s.close();
  });

  test('rememberNonce: a replay is refused per key; nonces past the window are forgotten', async () => {
    const place = await freshPlace();
    let s = await openAt(place);
    assert.equal(await s.rememberNonce('key-a', 'n1', 1_000, 0), true);
    assert.equal(await s.rememberNonce('key-a', 'n1', 1_000, 0), false);
    assert.equal(await s.rememberNonce('key-b', 'n1', 1_000, 0), true);
    await s.close();
    s = await openAt(place);
    // Replay protection survives a restart.
    assert.equal(await s.rememberNonce('key-a', 'n1', 1_000, 500), false);
    // Once the window has moved past it, the nonce is forgotten (the clock-skew check refuses such requests).
    assert.equal(await s.rememberNonce('key-a', 'n2', 2_000, 1_500), true);
    assert.equal(await s.rememberNonce('key-a', 'n1', 1_000, 1_500), true);
    await s.close();
  });

  test('cosignatures: the newest per witness of a checkpoint, another root ignored, listed by witness', async () => {
    const place = await freshPlace();
    let s = await openAt(place);
    await s.addCosignature('log/a', 5, 'root5', 'zeta', '— zeta/witness AAAA', 100);
    await s.addCosignature('log/a', 5, 'root5', 'Beta', '— Beta/witness BBBB', 101);
    await s.addCosignature('log/a', 5, 'root5', 'alpha', '— alpha/witness CCCC', 102);
    await s.addCosignature('log/a', 5, 'root5', 'zeta', '— zeta/witness DDDD', 103);
    await s.addCosignature('log/a', 5, 'other', 'alpha', '— alpha/witness EEEE', 104);
    await s.addCosignature('log/a', 6, 'root6', 'alpha', '— alpha/witness FFFF', 105);
    await s.close();
    s = await openAt(place);
    assert.deepEqual(await s.cosignatures('log/a', 5, 'root5'), [
      { witness: 'Beta', line: '— Beta/witness BBBB', timestamp: 101 },
      { witness: 'alpha', line: '— alpha/witness CCCC', timestamp: 102 },
      { witness: 'zeta', line: '— zeta/witness DDDD', timestamp: 103 },
    ]);
    assert.deepEqual(await s.cosignatures('log/a', 5, 'other'), []);
    assert.deepEqual(await s.cosignatures('log/a', 6, 'root6'), [
      { witness: 'alpha', line: '— alpha/witness FFFF', timestamp: 105 },
    ]);
    await s.close();
  });

  test('evidence is kept once per digest, oldest first, with the version it came under; deliveries by peer', async () => {
    const place = await freshPlace();
    let s = await openAt(place);
    assert.equal(await s.addEvidence('d2', 'log/a', evidenceDoc(2), '2026-01-02T00:00:00.000Z', 1), true);
    assert.equal(await s.addEvidence('d1', 'log/b', evidenceDoc(1), '2026-01-01T00:00:00.000Z', 2), true);
    assert.equal(await s.addEvidence('d0', 'log/a', evidenceDoc(0), '2026-01-02T00:00:00.000Z', 2), true);
    assert.equal(await s.addEvidence('d2', 'log/c', evidenceDoc(9), '2026-01-09T00:00:00.000Z', 3), false);
    await s.markEvidenceDelivered('d2', 'zeta', '2026-01-03T00:00:00.000Z');
    await s.markEvidenceDelivered('d2', 'Beta', '2026-01-03T00:00:00.000Z');
    await s.markEvidenceDelivered('d2', 'zeta', '2026-01-04T00:00:00.000Z');
    await s.close();

    s = await openAt(place);
    assert.deepEqual(await s.evidence(), [
      {
        digest: 'd1',
        origin: 'log/b',
        doc: evidenceDoc(1),
        receivedAt: '2026-01-01T00:00:00.000Z',
        registryVersion: 2,
      },
      {
        digest: 'd0',
        origin: 'log/a',
        doc: evidenceDoc(0),
        receivedAt: '2026-01-02T00:00:00.000Z',
        registryVersion: 2,
      },
      {
        digest: 'd2',
        origin: 'log/a',
        doc: evidenceDoc(2),
        receivedAt: '2026-01-02T00:00:00.000Z',
        registryVersion: 1,
      },
    ]);
    assert.deepEqual(
      (await s.evidence('log/a')).map((e) => e.digest),
      ['d0', 'd2'],
    );
    assert.deepEqual(await s.evidence('log/z'), []);
    assert.deepEqual(await s.evidenceDeliveries('d2'), ['Beta', 'zeta']);
    assert.deepEqual(await s.evidenceDeliveries('d1'), []);
    await s.close();
  });

  test('firstEpochSignature keeps the first signature of a signer per epoch and forgets old epochs', async () => {
    const s = await openAt(await freshPlace());
    const first = await s.firstEpochSignature('epoch/1', 'alpha', { root: 'r1', n: [1] }, 'sig1', 1_000, 0);
    assert.deepEqual(first, { statement: { root: 'r1', n: [1] }, sig: 'sig1' });
    assert.deepEqual(await s.firstEpochSignature('epoch/1', 'alpha', { root: 'r2' }, 'sig2', 2_000, 0), first);
    assert.deepEqual(await s.firstEpochSignature('epoch/1', 'beta', { root: 'r2' }, 'sig3', 2_000, 0), {
      statement: { root: 'r2' },
      sig: 'sig3',
    });
    // A new row prunes those seen before the window: epoch/1 of alpha is forgotten, and a new first taken.
    await s.firstEpochSignature('epoch/2', 'alpha', { root: 'r9' }, 'sig9', 9_000, 1_500);
    assert.deepEqual(await s.firstEpochSignature('epoch/1', 'alpha', { root: 'r4' }, 'sig4', 9_500, 1_500), {
      statement: { root: 'r4' },
      sig: 'sig4',
    });
    assert.deepEqual(await s.firstEpochSignature('epoch/1', 'beta', { root: 'r5' }, 'sig5', 9_600, 1_500), {
      statement: { root: 'r2' },
      sig: 'sig3',
    });
    await s.close();
  });

  test('two instances on the same place: one winner per nonce, evidence digest, registry version and first signature', async () => {
    const place = await freshPlace();
    const first = await openAt(place);
    const second = await openAt(place);
    const both = [first, second];
    const nonces = await Promise.all(
      Array.from({ length: 20 }, (_, i) => both[i % 2]!.rememberNonce('key', `n${i % 5}`, 1_000, 0)),
    );
    assert.equal(nonces.filter(Boolean).length, 5, 'each of 5 nonces accepted once among 20 requests');
    const evidence = await Promise.all(
      Array.from({ length: 6 }, (_, i) => both[i % 2]!.addEvidence('d', 'log/a', evidenceDoc(i), 'now', 1)),
    );
    assert.equal(evidence.filter(Boolean).length, 1);
    const [v1, v2] = registries();
    await first.addRegistryVersion(v1, 'now');
    const offers = await Promise.allSettled(both.map((s) => s.addRegistryVersion(v2, 'now')));
    assert.deepEqual(offers.map((o) => o.status).sort(), ['fulfilled', 'rejected']);
    assert.ok(offers.some((o) => o.status === 'rejected' && code('REGISTRY_STALE')(o.reason)));
    const signatures = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        both[i % 2]!.firstEpochSignature('epoch/1', 'alpha', { n: i }, `sig${i}`, 1_000, 0),
      ),
    );
    for (const held of signatures) assert.deepEqual(held, signatures[0]);
    await first.close();
    await second.close();
  });

  test('a closed storage answers SHUTTING_DOWN; close is idempotent', async () => {
    const s = await openAt(await freshPlace());
    const [v1] = registries();
    await s.close();
    await s.close();
    await assert.rejects(s.registryVersions(), code('SHUTTING_DOWN'));
    await assert.rejects(s.latestRegistry(), code('SHUTTING_DOWN'));
    await assert.rejects(s.addRegistryVersion(v1, 'now'), code('SHUTTING_DOWN'));
    await assert.rejects(s.rememberNonce('k', 'n', 1, 0), code('SHUTTING_DOWN'));
    await assert.rejects(s.addCosignature('o', 1, 'r', 'w', 'l', 1), code('SHUTTING_DOWN'));
    await assert.rejects(s.cosignatures('o', 1, 'r'), code('SHUTTING_DOWN'));
    await assert.rejects(s.addEvidence('d', 'o', {}, 'now', 1), code('SHUTTING_DOWN'));
    await assert.rejects(s.evidence(), code('SHUTTING_DOWN'));
    await assert.rejects(s.firstEpochSignature('e', 's', {}, 'sig', 1, 0), code('SHUTTING_DOWN'));
    await assert.rejects(s.markEvidenceDelivered('d', 'p', 'now'), code('SHUTTING_DOWN'));
    await assert.rejects(s.evidenceDeliveries('d'), code('SHUTTING_DOWN'));
  });

  test('(PostgreSQL) a fence that throws LEASE_LOST stops cosignature writes; request-serving writes go on', async (t) => {
    const place = await freshPlace();
    if (place.kind === 'sqlite') {
      t.skip('a SQLite file has one writer per node: nothing to fence');
      return;
    }
    const s = await openAt(place, LOST_LEASE);
    await assert.rejects(s.addCosignature('log/a', 5, 'root5', 'alpha', 'line', 100), code('LEASE_LOST'));
    assert.deepEqual(await s.cosignatures('log/a', 5, 'root5'), []);
    // Any front end answers peers, lease or not: their nonces and evidence are stored.
    assert.equal(await s.rememberNonce('key', 'n', 1_000, 0), true);
    assert.equal(await s.addEvidence('d', 'log/a', evidenceDoc(1), 'now', 1), true);
    await s.close();
  });
});
