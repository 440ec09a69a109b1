import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { EMPTY_ROOT, MemoryTree, base64Decode, base64Encode, signRequest, verifyConsistency } from '@vaultmesh/core';
import { openLogEngine, peerConsistencyProofPath, peerRootPath, type ObservableLogEngine } from '../../src/index.js';
import {
  EvidenceLedger,
  FederationRegistry,
  SqliteFederationStorage,
  type FederationStorage,
  peerCredentials,
} from '../../src/federation/index.js';
import { peerArea } from '../../src/http/routes/peer-routes.js';
import { mountFederationArea } from '../http/area-fixture.js';
import { installErrorHandling } from '../../src/http/error-handler.js';
import { genesisOf, makePeer, type TestPeer } from './federation-fixture.js';

// The peer-only hash routes of alpha's node, which the equivocation monitors of the other peers
// ask to settle two checkpoints of one of alpha's logs: signed by a registry peer, they answer
// consistency proofs and roots (hashes, never entries) of any namespace, private ones included.
const [alpha, beta, gamma] = ['alpha.test', 'beta.test', 'gamma.test'].map((id) => makePeer(id)) as [
  TestPeer,
  TestPeer,
  TestPeer,
];
const NS = 'dao:one';
const SIZE = 7;

let dir: string;
let store: FederationStorage;
let registry: FederationRegistry;
let ledger: EvidenceLedger;
let engine: ObservableLogEngine;
let app: FastifyInstance;
const tree = new MemoryTree();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'remembrancer-peer-routes-'));
  store = SqliteFederationStorage.open(join(dir, 'federation.sqlite'));
  registry = await FederationRegistry.open(store);
  assert.equal(await registry.offer(genesisOf([alpha, beta, gamma])), true);
  ledger = await EvidenceLedger.open({ store, registry, self: alpha.id, creds: peerCredentials(0, alpha.authSeed) });
  engine = await openLogEngine({
    dataDir: join(dir, 'log'),
    nodeName: alpha.id,
    logSeed: alpha.logSeed,
    checkpointIntervalMs: 0,
    synchronous: 'NORMAL',
  });
  await engine.createNamespace(NS);
  const entries = Array.from({ length: SIZE }, (_, i) => new TextEncoder().encode(JSON.stringify({ i })));
  for (const e of entries) tree.append(e);
  await engine.append(NS, entries);
  assert.ok(await engine.publishCheckpoint(NS));
  app = Fastify();
  installErrorHandling(app);
  mountFederationArea(app, peerArea, {
    self: alpha.id,
    federation: { registry, store, ledger, status: undefined as never },
    engine,
  });
  await app.ready();
});

after(async () => {
  await app.close();
  await ledger.close();
  await engine.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A GET to alpha's node signed by `by` for alpha's registry endpoint. */
function get(path: string, by: TestPeer | null = beta) {
  const headers = by
    ? signRequest({
        method: 'GET',
        targetUri: new URL(path, alpha.entry.endpoint).href,
        keyid: by.keyid,
        seed: by.authSeed,
        body: new Uint8Array(0),
      })
    : {};
  return app.inject({ method: 'GET', url: path, headers: { ...headers } });
}

test('a registry peer gets consistency proofs that verify, and nothing but hashes', async () => {
  for (const [from, to] of [
    [3, 7],
    [4, 7],
    [1, 2],
    [7, 7],
    [0, 5],
  ] as const) {
    const r = await get(peerConsistencyProofPath(NS, from, to));
    assert.equal(r.statusCode, 200, r.body);
    const body = r.json() as { from: number; to: number; proof: string[] };
    assert.deepEqual(Object.keys(body).sort(), ['from', 'proof', 'to']);
    assert.deepEqual([body.from, body.to], [from, to]);
    if (from > 0) verifyConsistency(from, to, body.proof.map(base64Decode), tree.rootAt(from), tree.rootAt(to));
    else assert.deepEqual(body.proof, []);
  }
});

test('a registry peer gets the root at any size up to the tree size', async () => {
  for (const size of [0, 1, 4, SIZE]) {
    const r = await get(peerRootPath(NS, size), gamma);
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.json(), { size, root: base64Encode(size === 0 ? EMPTY_ROOT : tree.rootAt(size)) });
  }
});

test('the hash routes are for registry peers only', async () => {
  assert.equal((await get(peerRootPath(NS, 4), null)).statusCode, 401);
  const stranger = makePeer('mallory.test');
  const r = await get(peerConsistencyProofPath(NS, 3, 7), stranger);
  assert.equal(r.statusCode, 401);
  assert.equal(r.json().code, 'PEER_KEY_UNKNOWN');
  // Signed for another node's endpoint.
  const path = peerRootPath(NS, 4);
  const headers = signRequest({
    method: 'GET',
    targetUri: new URL(path, beta.entry.endpoint).href,
    keyid: gamma.keyid,
    seed: gamma.authSeed,
    body: new Uint8Array(0),
  });
  const other = await app.inject({ method: 'GET', url: path, headers: { ...headers } });
  assert.equal(other.statusCode, 401);
  assert.equal(other.json().code, 'SIGNATURE_INVALID');
});

test('parameters are checked strictly, each refusal with its stable code', async () => {
  const base = `/v1/federation/peer/ns/${encodeURIComponent(NS)}`;
  for (const [path, status, code] of [
    [`${base}/proof/consistency?from=5&to=3`, 400, 'INVALID_RANGE'],
    [`${base}/proof/consistency?from=3&to=8`, 400, 'SIZE_OUT_OF_RANGE'],
    [`${base}/proof/consistency?from=03&to=7`, 400, 'INVALID_ARGUMENT'],
    [`${base}/proof/consistency?from=3`, 400, 'INVALID_ARGUMENT'],
    [`${base}/proof/consistency?from=-1&to=7`, 400, 'INVALID_ARGUMENT'],
    [`${base}/proof/consistency?from=1&to=99999999999999999`, 400, 'INVALID_ARGUMENT'],
    [`${base}/root?size=8`, 400, 'SIZE_OUT_OF_RANGE'],
    [`${base}/root?size=1e3`, 400, 'INVALID_ARGUMENT'],
    [`${base}/root`, 400, 'INVALID_ARGUMENT'],
    [`/v1/federation/peer/ns/dao%3Anone/root?size=1`, 404, 'NAMESPACE_NOT_FOUND'],
    [`/v1/federation/peer/ns/nope/root?size=1`, 400, 'INVALID_NAMESPACE_ID'],
  ] as const) {
    const r = await get(path);
    assert.equal(r.statusCode, status, `${path}: ${r.body}`);
    assert.equal(r.json().code, code, path);
  }
});

test('the peer view lists every namespace of the engine, private ones included', async () => {
  const r = await get('/v1/federation/peer/view');
  assert.equal(r.statusCode, 200, r.body);
  assert.deepEqual(Object.keys(r.json().checkpoints), [`${alpha.id}/${NS}`]);
});
