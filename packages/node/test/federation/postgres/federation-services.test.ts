// The witness and federation services (not only their storages) on SQLite and on PostgreSQL: the
// same scenarios over each backend, and two instances on one place standing for two front ends
// of one node sharing its database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CosignatureSigner,
  base64Encode,
  canonicalBytes,
  formatSignatureLine,
  parseSizeResponse,
  proposeNext,
  signEpochStatement,
  type EpochStatement,
} from '@vaultmesh/core';
import { cosignedCheckpointNote } from '../../../src/federation/cosigned-checkpoint.js';
import { EpochEquivocationDetector } from '../../../src/federation/epoch-equivocation-detector.js';
import { EvidenceLedger, isEpochEvidence } from '../../../src/federation/evidence-ledger.js';
import { FederationRegistry } from '../../../src/federation/federation-registry.js';
import type { FederationStorage } from '../../../src/federation/federation-storage.js';
import { peerCredentials } from '../../../src/federation/peer-client.js';
import { PgFederationStorage } from '../../../src/federation/pg-federation-storage.js';
import { SqliteFederationStorage } from '../../../src/federation/sqlite-federation-storage.js';
import { openLogEngine } from '../../../src/log/index.js';
import { SealedCheckpoints } from '../../../src/namespaces/sealing.js';
import { PgWitnessStorage } from '../../../src/witness/pg-witness-storage.js';
import { SqliteWitnessStorage } from '../../../src/witness/sqlite-witness-storage.js';
import type { WitnessConflict } from '../../../src/witness/witness-records.js';
import type { WitnessStorage } from '../../../src/witness/witness-storage.js';
import { LOG_SEED, NODE_NAME } from '../../log/engine-fixture.js';
import { forEachBackend, type StorePlace } from '../../storage/backend-suite.js';
import { TestLog as WitnessedLog, openWitness } from '../../witness/witness-fixture.js';
import { epochStatement, genesisOf, makePeer, sameSizeFork, signedBy, type TestPeer } from '../federation-fixture.js';

/** The place's witness state; the same place opens the same state again (another front end). */
async function witnessStorageAt(place: StorePlace): Promise<WitnessStorage> {
  return place.kind === 'sqlite'
    ? SqliteWitnessStorage.open(join(place.dir, 'witness.sqlite'))
    : PgWitnessStorage.open({ db: place.url });
}

/** The place's federation state, as witnessStorageAt. */
async function federationStorageAt(place: StorePlace): Promise<FederationStorage> {
  return place.kind === 'sqlite'
    ? SqliteFederationStorage.open(join(place.dir, 'federation.sqlite'))
    : PgFederationStorage.open({ db: place.url });
}

const [alpha, beta, gamma] = ['alpha.test', 'beta.test', 'gamma.test'].map((id) => makePeer(id)) as [
  TestPeer,
  TestPeer,
  TestPeer,
];
const now = () => 1_800_000_000_000;

forEachBackend('witness and federation services', (freshPlace) => {
  test('the witness cosigns, answers 409 and 422, keeps a conflict once, and its state survives a reopen', async () => {
    const place = await freshPlace();
    const log = new WitnessedLog('alpha.test/ns:services', 41);
    const seen: WitnessConflict[] = [];
    const w = openWitness(await witnessStorageAt(place), [log], { now, onConflict: (c) => seen.push(c) });
    try {
      assert.equal((await w.addCheckpoint(log.request(0, 5))).status, 200);
      assert.equal((await w.addCheckpoint(log.request(5, 9))).status, 200);
      const stale = await w.addCheckpoint(log.request(5, 12));
      assert.equal(stale.status, 409);
      assert.equal(parseSizeResponse(stale.body), 9);
      // The same fork offered twice, in one batch and again alone: kept and reported once.
      const fork = `old 9\n\n${log.forkedCheckpoint(9, new Uint8Array(32).fill(7))}`;
      const answers = await Promise.all([w.submitCheckpoint(fork), w.submitCheckpoint(fork)]);
      assert.deepEqual(
        answers.map((a) => a.status),
        [422, 422],
      );
      assert.equal((await w.addCheckpoint(fork)).status, 422);
      assert.equal(seen.length, 1);
      assert.equal((await w.conflicts(log.origin)).length, 1);
      // A batch whose requests build on each other: checked in arrival order, as one by one.
      const [a, b] = await Promise.all([
        w.submitCheckpoint(log.request(9, 11)),
        w.submitCheckpoint(log.request(11, 14)),
      ]);
      assert.deepEqual([a.status, b.status], [200, 200]);
    } finally {
      await w.close();
    }
    const again = openWitness(await witnessStorageAt(place), [log], { now });
    try {
      assert.equal((await again.checkpointFor(log.origin))?.size, 14);
      assert.deepEqual(
        (await again.witnessedOrigins()).map((c) => c.origin),
        [log.origin],
      );
      assert.equal((await again.conflicts()).length, 1);
    } finally {
      await again.close();
    }
  });

  test('two witnesses on one state (two front ends) racing from one size: one cosigns, the other learns its size', async () => {
    const place = await freshPlace();
    const log = new WitnessedLog('alpha.test/ns:race', 42).growTo(30);
    const front = [
      openWitness(await witnessStorageAt(place), [log], { now }),
      openWitness(await witnessStorageAt(place), [log], { now }),
    ];
    try {
      assert.equal((await front[0]!.addCheckpoint(log.request(0, 10))).status, 200);
      for (let round = 0; round < 5; round++) {
        const from = (await front[1]!.checkpointFor(log.origin))!.size;
        const answers = await Promise.all([
          front[0]!.addCheckpoint(log.request(from, from + 2)),
          front[1]!.addCheckpoint(log.request(from, from + 3)),
        ]);
        const won = answers.filter((r) => r.status === 200);
        assert.equal(won.length, 1, `round ${round}: ${answers.map((r) => r.status).join(', ')}`);
        const lost = answers.find((r) => r.status !== 200)!;
        assert.equal(lost.status, 409);
        assert.equal(parseSizeResponse(lost.body), (await front[0]!.checkpointFor(log.origin))!.size);
      }
    } finally {
      await Promise.all(front.map((w) => w.close()));
    }
  });

  test('registry and evidence ledger: a version or a document stored by one front end is held by the other', async () => {
    const place = await freshPlace();
    const stores = [await federationStorageAt(place), await federationStorageAt(place)];
    try {
      const registries = await Promise.all(stores.map((s) => FederationRegistry.open(s)));
      const genesis = genesisOf([alpha, beta, gamma]);
      assert.equal(await registries[0]!.offer(genesis), true);
      // The other front end had not read it: its offer finds the version stored and holds it.
      assert.equal(await registries[1]!.offer(genesis), false);
      assert.equal(registries[1]!.latest()?.version, 1);
      // A version one front end accepted reaches the other at its next refresh (each gossip round).
      const changes: number[] = [];
      registries[1]!.on('change', (set) => changes.push(set.version));
      const v2 = signedBy(proposeNext(genesis, { memo: 'v2' }), [alpha, beta, gamma]);
      assert.equal(await registries[0]!.offer(v2), true);
      assert.equal(registries[1]!.latest()?.version, 1);
      await registries[1]!.refresh();
      assert.deepEqual(changes, [2]);
      assert.deepEqual(
        registries[1]!.versions().map((v) => v.version),
        [1, 2],
      );
      const ledgers = await Promise.all(
        stores.map((store, i) =>
          EvidenceLedger.open({
            store,
            registry: registries[i]!,
            self: beta.id,
            creds: peerCredentials(0, beta.authSeed),
          }),
        ),
      );
      try {
        const origin = `${alpha.id}/ns:forked`;
        const doc = sameSizeFork(alpha, origin, gamma);
        const outcomes = await Promise.all(ledgers.map((l) => l.accept(doc, gamma.id)));
        assert.deepEqual(outcomes.map((o) => o.outcome).sort(), ['known', 'new']);
        assert.deepEqual(
          (await ledgers[1]!.list(origin)).map((e) => e.digest),
          [outcomes[0]!.digest],
        );
        // A ledger opened now (a restart, or a third front end) refuses the origin from what is stored.
        const reopened = await EvidenceLedger.open({
          store: stores[1]!,
          registry: registries[1]!,
          self: beta.id,
          creds: peerCredentials(0, beta.authSeed),
        });
        assert.equal(reopened.refused(origin), true);
        await reopened.close();
        // Evidence only one front end accepted: the other refuses the origin after its next push pass.
        const second = `${alpha.id}/ns:forked-again`;
        const accepted = await ledgers[0]!.accept(sameSizeFork(alpha, second, gamma), gamma.id);
        assert.equal(ledgers[1]!.refused(second), false);
        // Every peer holds it already (gamma made it; alpha is told here): the pass pushes nothing.
        await stores[0]!.markEvidenceDelivered(accepted.digest, alpha.id, new Date().toISOString());
        await ledgers[1]!.pushPending();
        assert.equal(ledgers[1]!.refused(second), true);
        assert.equal(ledgers[1]!.size(), 2);
      } finally {
        await Promise.all(ledgers.map((l) => l.close()));
      }
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  test('a second root of one signer for an epoch becomes one evidence document', async () => {
    const place = await freshPlace();
    const store = await federationStorageAt(place);
    try {
      const registry = await FederationRegistry.open(store);
      assert.equal(await registry.offer(genesisOf([alpha, beta, gamma])), true);
      const ledger = await EvidenceLedger.open({
        store,
        registry,
        self: alpha.id,
        creds: peerCredentials(0, alpha.authSeed),
      });
      const detector = new EpochEquivocationDetector({ self: alpha.id, registry, ledger, store });
      const sig = (s: EpochStatement) => ({ node: gamma.id, sig: signEpochStatement(s, gamma.authSeed) });
      const [a, b, c] = [epochStatement(3, 'A'), epochStatement(3, 'B'), epochStatement(3, 'C')];
      detector.observe(a, [sig(a)]);
      detector.observe(b, [sig(b)]);
      detector.observe(c, [sig(c)]);
      await detector.settled();
      const held = (await ledger.list()).filter((e) => isEpochEvidence(e.doc));
      assert.deepEqual(
        held.map((e) => e.origin),
        [gamma.id],
      );
      assert.deepEqual([...detector.offenders(a)], [gamma.id]);
      await ledger.close();
    } finally {
      await store.close();
    }
  });

  test('sealing and the served note read the cosignatures the storage holds', async () => {
    const place = await freshPlace();
    const logDir = mkdtempSync(join(tmpdir(), 'remembrancer-services-log-'));
    const engine = await openLogEngine({
      dataDir: logDir,
      nodeName: NODE_NAME,
      logSeed: LOG_SEED,
      checkpointIntervalMs: 0,
      synchronous: 'NORMAL',
    });
    const store = await federationStorageAt(place);
    try {
      const registry = await FederationRegistry.open(store);
      assert.equal(await registry.offer(genesisOf([makePeer(NODE_NAME), beta, gamma])), true);
      const ns = await engine.createNamespace('dao:services');
      await engine.append(ns.id, [canonicalBytes({ memo: 'one' }), canonicalBytes({ memo: 'two' })]);
      const cp = (await engine.publishCheckpoint(ns.id))!;
      const sealing = new SealedCheckpoints({
        engine,
        registry,
        store,
        witnessPolicy: () => ({ min_required: 1, allowlist: [beta.id] }),
      });
      assert.equal((await sealing.sealState(ns, cp)).sealed, false);
      assert.equal(await sealing.latestSealed(ns), undefined);
      assert.equal(await cosignedCheckpointNote(store, ns.origin, cp), cp.note);

      const body = cp.note.slice(0, cp.note.indexOf('\n\n') + 1);
      const line = formatSignatureLine(
        new CosignatureSigner(`${beta.id}/witness`, beta.witnessSeed).cosign(body, 1_700_000_000),
      );
      await store.addCosignature(ns.origin, cp.size, base64Encode(cp.root), beta.id, line, 1_700_000_000);
      sealing.invalidate(ns.id);
      assert.deepEqual((await sealing.sealState(ns, cp)).cosigners, [beta.id]);
      assert.equal((await sealing.latestSealed(ns))?.checkpoint.size, cp.size);
      assert.equal(await cosignedCheckpointNote(store, ns.origin, cp), cp.note + line);
    } finally {
      await store.close();
      await engine.close();
      rmSync(logDir, { recursive: true, force: true });
    }
  });
});
