import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  base64Encode,
  buildEquivocationEvidence,
  canonicalBytes,
  formatAddCheckpointRequest,
  logVerifierForOrigin,
  proposeNext,
  signEvidence,
  signRequest,
  verifyEvidenceWithRegistry,
  type EquivocationEvidence,
  type UnsignedEquivocationEvidence,
} from '@vaultmesh/core';
import type { LogEngine } from '../../src/index.js';
import {
  EvidenceLedger,
  FederationRegistry,
  SqliteFederationStorage,
  type FederationStorage,
  RegistryWitnessLogs,
  peerCredentials,
} from '../../src/federation/index.js';
import { SqliteWitnessStorage, Witness } from '../../src/witness/index.js';
import { installErrorHandling } from '../../src/http/error-handler.js';
import { federationArea } from '../../src/http/routes/federation-routes.js';
import { peerArea } from '../../src/http/routes/peer-routes.js';
import { mountFederationArea } from '../http/area-fixture.js';
import {
  TestLog,
  genesisOf,
  makePeer,
  sameSizeFork as sameSizeForkOf,
  signedBy,
  type TestPeer,
} from './federation-fixture.js';

// The evidence push route (peer-authenticated) and the public evidence list, with the ledger
// behind them: what is accepted, what is refused, and how evidence stops the witness cosigning.
const [alpha, beta, gamma] = ['alpha.test', 'beta.test', 'gamma.test'].map((id) => makePeer(id)) as [
  TestPeer,
  TestPeer,
  TestPeer,
];
const ORIGIN = 'alpha.test/dao:one';
const OTHER_ORIGIN = 'alpha.test/dao:two';
const BETA_ORIGIN = 'beta.test/dao:one';

let dir: string;
let store: FederationStorage;
let registry: FederationRegistry;
let ledger: EvidenceLedger;
let witness: Witness;
let app: FastifyInstance;

/** Nothing to show: these tests only push evidence. */
const noLogs = { listNamespaces: () => [], latestCheckpoint: () => undefined } as unknown as LogEngine;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'remembrancer-evidence-'));
  store = SqliteFederationStorage.open(join(dir, 'federation.sqlite'));
  registry = await FederationRegistry.open(store);
  assert.equal(await registry.offer(genesisOf([alpha, beta, gamma])), true);
  // This store is gamma's: it signs the evidence it makes with gamma's auth key.
  ledger = await EvidenceLedger.open({ store, registry, self: gamma.id, creds: peerCredentials(0, gamma.authSeed) });
  witness = new Witness({
    storage: SqliteWitnessStorage.open(join(dir, 'witness.sqlite')),
    name: 'gamma.test/witness',
    seed: gamma.witnessSeed,
    logs: new RegistryWitnessLogs(registry, undefined, (origin) => ledger.refused(origin)),
  });
  app = Fastify();
  installErrorHandling(app);
  const federation = {
    registry,
    store,
    ledger,
    status: undefined as never,
    witnessed: () => witness.witnessedOrigins(),
  };
  mountFederationArea(app, federationArea, { self: gamma.id, federation });
  mountFederationArea(app, peerArea, { self: gamma.id, federation, engine: noLogs });
  await app.ready();
});

after(async () => {
  await app.close();
  await ledger.close();
  await witness.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function push(by: TestPeer, doc: unknown) {
  const bytes = canonicalBytes(doc);
  const headers = signRequest({
    method: 'POST',
    targetUri: new URL('/v1/federation/evidence', gamma.entry.endpoint).href,
    keyid: by.keyid,
    seed: by.authSeed,
    body: bytes,
  });
  return app.inject({
    method: 'POST',
    url: '/v1/federation/evidence',
    headers: { ...headers, 'content-type': 'application/json' },
    payload: Buffer.from(bytes),
  });
}

async function listed(origin?: string): Promise<EquivocationEvidence[]> {
  const r = await app.inject({
    method: 'GET',
    url: `/v1/federation/evidence${origin ? `?origin=${encodeURIComponent(origin)}` : ''}`,
  });
  assert.equal(r.statusCode, 200);
  return (r.json() as { evidence: EquivocationEvidence[] }).evidence;
}

const sameSizeFork = (origin: string, detector: TestPeer) => sameSizeForkOf(alpha, origin, detector);

function addCheckpoint(note: string, oldSize = 0, proof: Uint8Array[] = []) {
  return witness.addCheckpoint(formatAddCheckpointRequest({ oldSize, proof, checkpoint: note }));
}

describe('evidence push', () => {
  test('valid evidence is stored (201), then known (200), and served publicly', async () => {
    const evidence = sameSizeFork(OTHER_ORIGIN, beta);
    const first = await push(beta, evidence);
    assert.equal(first.statusCode, 201, first.body);
    assert.equal(first.json().stored, true);
    // Relayed by another peer: the same document is known already.
    const again = await push(alpha, evidence);
    assert.equal(again.statusCode, 200, again.body);
    assert.equal(again.json().stored, false);
    assert.equal(again.json().digest, first.json().digest);

    const served = await listed(OTHER_ORIGIN);
    assert.equal(served.length, 1);
    assert.deepEqual(served[0], evidence);
    assert.equal(verifyEvidenceWithRegistry(served[0], registry.latest()!).evidence.origin, OTHER_ORIGIN);
    assert.deepEqual(await listed(BETA_ORIGIN), []);
  });

  test("inconsistent-size evidence carrying the log's own proof is accepted", async () => {
    // Both share entries 0..2, then diverge; the fork grew further.
    const honest = new TestLog(alpha, 'alpha.test/dao:three').append('0', '1', '2');
    const forkAt = honest.fork().append('f3', 'f4', 'f5', 'f6', 'f7');
    honest.append('3', '4', '5');
    const unsigned = buildEquivocationEvidence({
      detectedBy: beta.id,
      detectedAt: new Date().toISOString(),
      checkpoints: [honest.checkpoint(6), forkAt.checkpoint(8)],
      logVerifier: logVerifierForOrigin(alpha.entry, 'alpha.test/dao:three'),
      consistencyProof: forkAt.tree.consistencyProof(6, 8),
    });
    assert.equal(unsigned.reason, 'inconsistent');
    const r = await push(gamma, signEvidence(unsigned, beta.authSeed));
    assert.equal(r.statusCode, 201, r.body);
  });

  test('forged evidence is 400 and stored nowhere', async () => {
    const before = (await listed()).length;
    const genuine = sameSizeFork('alpha.test/dao:forged', beta);
    // Signed by gamma's key, but claiming beta detected it.
    const forgedSignature = { ...genuine, signature: signEvidence(genuine, gamma.authSeed).signature };
    const r1 = await push(gamma, forgedSignature);
    assert.equal(r1.statusCode, 400, r1.body);
    assert.equal(r1.json().code, 'EVIDENCE_INVALID');
    // A checkpoint swapped after signing breaks the detector's signature.
    const swapped = { ...genuine, checkpoints: [genuine.checkpoints[1], genuine.checkpoints[0]] };
    assert.equal((await push(gamma, swapped)).statusCode, 400);
    // A checkpoint the log never signed (signed by beta's log key instead).
    const notByTheLog = new TestLog(beta, genuine.origin).append('a', 'b', 'c', 'z').checkpoint();
    const badLog = signEvidence(
      { ...stripSig(genuine), checkpoints: [genuine.checkpoints[0], notByTheLog] },
      beta.authSeed,
    );
    assert.equal((await push(gamma, badLog)).statusCode, 400);
    // A detector that is not a registry peer.
    const mallory = makePeer('mallory.test');
    const byStranger = signEvidence({ ...stripSig(genuine), detected_by: mallory.id }, mallory.authSeed);
    assert.equal((await push(gamma, byStranger)).statusCode, 400);
    // Not evidence at all.
    assert.equal((await push(gamma, { hello: 'world' })).statusCode, 400);
    assert.equal((await listed()).length, before);
    assert.equal(ledger.refused(genuine.origin), false);
  });

  test('evidence of no conflict is 400', async () => {
    const log = new TestLog(alpha, 'alpha.test/dao:calm').append('a', 'b', 'c');
    const cp3 = log.checkpoint();
    const sameTwice = signEvidence(
      {
        type: 'federation.equivocation',
        origin: log.origin,
        detected_by: beta.id,
        detected_at: new Date().toISOString(),
        checkpoints: [cp3, cp3],
        reason: 'same_size_different_root',
      },
      beta.authSeed,
    );
    const r = await push(gamma, sameTwice);
    assert.equal(r.statusCode, 400, r.body);
    assert.match(r.json().message, /no conflict/);

    // Sizes 3 and 7 of one honest history, with the honest proof: consistent, so no evidence.
    log.append('d', 'e', 'f', 'g');
    const proof = log.tree.consistencyProof(3, 7);
    const honest: UnsignedEquivocationEvidence = {
      type: 'federation.equivocation',
      origin: log.origin,
      detected_by: beta.id,
      detected_at: new Date().toISOString(),
      checkpoints: [cp3, log.checkpoint()],
      reason: 'inconsistent',
      consistency_proof: proof.map(base64Encode),
      prefix_root: base64Encode(log.tree.rootAt(3)),
    };
    const r2 = await push(gamma, signEvidence(honest, beta.authSeed));
    assert.equal(r2.statusCode, 400, r2.body);
    assert.equal(ledger.refused(log.origin), false);
  });

  test('a push without a peer signature is 401', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/v1/federation/evidence',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(sameSizeFork(ORIGIN, beta)),
    });
    assert.equal(r.statusCode, 401);
  });
});

describe('refusing to cosign', () => {
  test('the witness refuses an origin under evidence until a newer registry version settles it', async () => {
    const log = new TestLog(alpha, ORIGIN).append('a', 'b');
    const betaLog = new TestLog(beta, BETA_ORIGIN).append('a');
    assert.equal((await addCheckpoint(log.checkpoint())).status, 200);
    assert.equal((await addCheckpoint(betaLog.checkpoint())).status, 200);

    const v1 = registry.latest()!;
    const r = await push(beta, sameSizeFork(ORIGIN, beta));
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(ledger.refused(ORIGIN), true);
    assert.deepEqual(ledger.refusedOrigins().includes(ORIGIN), true);
    assert.equal((await ledger.list(ORIGIN))[0]!.registryVersion, v1.version);

    // alpha's log is unknown to the witness now (404); beta's is not affected.
    log.append('c');
    assert.equal((await addCheckpoint(log.checkpoint(), 2, log.tree.consistencyProof(2, 3))).status, 404);
    betaLog.append('b');
    assert.equal((await addCheckpoint(betaLog.checkpoint(), 1, betaLog.tree.consistencyProof(1, 2))).status, 200);

    // The peers agree on version 2 (here: nothing changes but the memo): the evidence is settled.
    const v2 = signedBy(proposeNext(v1, { memo: 'alpha.test equivocation reviewed' }), [beta, gamma]);
    assert.equal(await registry.offer(v2), true);
    assert.equal(ledger.refused(ORIGIN), false);
    assert.equal((await addCheckpoint(log.checkpoint(), 2, log.tree.consistencyProof(2, 3))).status, 200);
    // The evidence itself is kept and still served.
    assert.ok((await listed(ORIGIN)).length >= 1);

    // Known evidence pushed again under version 2 does not revive the refusal...
    assert.equal((await push(gamma, (await ledger.list(ORIGIN))[0]!.doc)).statusCode, 200);
    assert.equal(ledger.refused(ORIGIN), false);
    // ...but new evidence under version 2 does.
    assert.equal((await push(beta, sameSizeFork(ORIGIN, gamma))).statusCode, 201);
    assert.equal(ledger.refused(ORIGIN), true);
  });

  test('evidence and its registry version survive a restart of the store', async () => {
    const reopened = SqliteFederationStorage.open(join(dir, 'federation.sqlite'));
    try {
      const reg = await FederationRegistry.open(reopened);
      const l = await EvidenceLedger.open({
        store: reopened,
        registry: reg,
        self: gamma.id,
        creds: peerCredentials(0, gamma.authSeed),
      });
      assert.equal(l.refused(ORIGIN), true);
      assert.equal(l.refused(OTHER_ORIGIN), false, 'settled by version 2');
      assert.equal(l.size(), ledger.size());
    } finally {
      await reopened.close();
    }
  });
});

function stripSig(e: EquivocationEvidence): UnsignedEquivocationEvidence {
  const { signature: _s, ...rest } = e;
  return rest;
}
