// `GET /v1/anchoring/epochs/{target}/{epoch}.ots` (issue 11, item 4) through the real HTTP stack
// with app.inject(): the bytes of a stored Bitcoin epoch's OpenTimestamps proof, public, and the
// node's JSON error shape with a stable code for each refusal. The epochs are recorded in a real
// AnchorStorage (the node's SQLite file); their evidence is synthetic (btc-epoch-fixture.ts; epoch-ots.test.ts uses bcoin).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { initNode } from '../../src/config/node-config.js';
import { localPeerEntry } from '../../src/federation/local-peer.js';
import { buildHttpServer } from '../../src/http/server.js';
import { openLogEngine } from '../../src/log/index.js';
import type { LogEngine } from '../../src/log/log-engine.js';
import { openNamespaceServices, type NamespaceServices } from '../../src/namespaces/namespace-services.js';
import type { AnchorStorage } from '../../src/anchoring/anchor-storage.js';
import { openAnchorStorage } from '../../src/anchoring/open-anchor-storage.js';
import type { AnchoringService } from '../../src/anchoring/anchoring-service.js';
import { epochOtsProof } from '../../src/anchoring/chain/epoch-ots.js';
import { syntheticBtcEpoch, type SyntheticBtcEpoch } from '../anchoring/btc-epoch-fixture.js';

const OTS_MAGIC = Buffer.from('004f70656e54696d657374616d7073000050726f6f6600bf89e2e884e89294', 'hex');

let dir: string;
let engine: LogEngine;
let namespaces: NamespaceServices;
let store: AnchorStorage;
let app: FastifyInstance;
/** The same node's API without anchoring (no federation registry). */
let plain: FastifyInstance;
let collaborative: SyntheticBtcEpoch;
let independent: SyntheticBtcEpoch;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'remembrancer-epoch-ots-route-'));
  const identity = initNode(dir, 'alpha.ots.test');
  engine = await openLogEngine({
    dbPath: identity.dbPath,
    nodeName: identity.config.name,
    logSeed: identity.logSeed,
    checkpointIntervalMs: 60_000,
    synchronous: 'NORMAL',
  });
  namespaces = await openNamespaceServices({
    engine,
    dataDir: dir,
    adminToken: identity.adminToken,
    operators: identity.governance,
    localOperator: { id: identity.operatorId, seed: identity.operatorSeed },
  });
  store = await openAnchorStorage({ kind: 'sqlite', dataDir: dir });
  collaborative = syntheticBtcEpoch({ epoch: 7, index: 4, count: 9, height: 1234 });
  independent = syntheticBtcEpoch({ epoch: 7, node: 'beta.ots.test' });
  await store.recordFinalized(collaborative.finalization, new Map(), 1_000);
  await store.recordFinalized(independent.finalization, new Map(), 1_000);
  await store.markEpoch('btc:regtest', 8, 'collaborative', '', 'abandoned', 1_000);
  // Stored evidence that no longer holds (a sibling hash changed): never exported.
  const damaged = syntheticBtcEpoch({ epoch: 9 });
  const sibling = damaged.evidence.branch[0]!;
  const branch = [`${sibling[0] === '0' ? '1' : '0'}${sibling.slice(1)}`, ...damaged.evidence.branch.slice(1)];
  await store.recordFinalized({ ...damaged.finalization, evidence: { ...damaged.evidence, branch } }, new Map(), 1_000);
  const options = {
    namespaces,
    engine,
    nodeName: identity.config.name,
    version: '0.0.0-test',
    self: localPeerEntry(identity),
    adminToken: identity.adminToken,
  };
  // The route reads only the anchoring store; the rest of the service (leaves, signer,
  // coordinator) needs a federation and is not what is under test.
  const anchoring = { store } as Pick<AnchoringService, 'store'> as AnchoringService;
  app = buildHttpServer({ ...options, anchoring });
  plain = buildHttpServer(options);
});

after(async () => {
  await app.close();
  await plain.close();
  await store.close();
  await namespaces.close();
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

async function refused(url: string, status: number, code: string, on = app): Promise<string> {
  const r = await on.inject({ method: 'GET', url });
  assert.equal(r.statusCode, status, `${url}: ${r.body}`);
  assert.match(String(r.headers['content-type']), /^application\/json/);
  const body = r.json<{ code: string; message: string }>();
  assert.equal(body.code, code, url);
  assert.equal(typeof body.message, 'string');
  return body.message;
}

test('200: the proof of a finalized collaborative epoch, as an attachment, without credentials', async () => {
  for (const url of ['/v1/anchoring/epochs/btc:regtest/7.ots', '/v1/anchoring/epochs/btc%3Aregtest/7.ots']) {
    const r = await app.inject({ method: 'GET', url });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.headers['content-type'], 'application/vnd.opentimestamps.ots');
    assert.equal(r.headers['content-disposition'], 'attachment; filename="btc-regtest-7.ots"');
    assert.deepEqual(new Uint8Array(r.rawPayload), epochOtsProof(collaborative.statement, collaborative.evidence));
    assert.equal(Number(r.headers['content-length']), r.rawPayload.length);
    // The detached-file header, then sha256 (0x08) and the epoch root as the file digest.
    assert.deepEqual(r.rawPayload.subarray(0, OTS_MAGIC.length + 2), Buffer.concat([OTS_MAGIC, Buffer.of(1, 0x08)]));
    assert.deepEqual(new Uint8Array(r.rawPayload.subarray(33, 65)), collaborative.root);
  }
});

test('?node= gives that node’s independent epoch of the same number', async () => {
  const r = await app.inject({ method: 'GET', url: '/v1/anchoring/epochs/btc:regtest/7.ots?node=beta.ots.test' });
  assert.equal(r.statusCode, 200, r.body);
  assert.equal(r.headers['content-disposition'], 'attachment; filename="btc-regtest-7-beta.ots.test.ots"');
  assert.deepEqual(new Uint8Array(r.rawPayload), epochOtsProof(independent.statement, independent.evidence));
  assert.deepEqual(new Uint8Array(r.rawPayload.subarray(33, 65)), independent.root);
});

test('404 NOT_FOUND: no such epoch, not finalized, no such independent epoch, not a Bitcoin target', async () => {
  await refused('/v1/anchoring/epochs/btc:regtest/6.ots', 404, 'NOT_FOUND');
  assert.match(await refused('/v1/anchoring/epochs/btc:regtest/8.ots', 404, 'NOT_FOUND'), /abandoned/);
  await refused('/v1/anchoring/epochs/btc:regtest/7.ots?node=gamma.ots.test', 404, 'NOT_FOUND');
  await refused('/v1/anchoring/epochs/btc:testnet/7.ots', 404, 'NOT_FOUND');
  assert.match(await refused('/v1/anchoring/epochs/rfc3161:local/7.ots', 404, 'NOT_FOUND'), /not a Bitcoin target/);
  await refused('/v1/anchoring/epochs/eip155:31337/7.ots', 404, 'NOT_FOUND');
  assert.match(await refused('/v1/anchoring/epochs/btc:regtest/7.ots', 404, 'NOT_FOUND', plain), /does not anchor/);
});

test('500 ANCHOR_EVIDENCE_INVALID: stored evidence that fails its check again is not exported', async () => {
  assert.match(
    await refused('/v1/anchoring/epochs/btc:regtest/9.ots', 500, 'ANCHOR_EVIDENCE_INVALID'),
    /merkle-branch/,
  );
});

test('400 INVALID_ARGUMENT: a malformed target, epoch or node', async () => {
  for (const url of [
    '/v1/anchoring/epochs/btc:nowhere/7.ots',
    '/v1/anchoring/epochs/bitcoin/7.ots',
    `/v1/anchoring/epochs/btc:${'r'.repeat(100)}/7.ots`,
    '/v1/anchoring/epochs/btc:regtest/x.ots',
    '/v1/anchoring/epochs/btc:regtest/07.ots',
    '/v1/anchoring/epochs/btc:regtest/-1.ots',
    '/v1/anchoring/epochs/btc:regtest/7.ots.ots',
    '/v1/anchoring/epochs/btc:regtest/.ots',
    '/v1/anchoring/epochs/btc:regtest/99999999999999999999.ots',
    '/v1/anchoring/epochs/btc:regtest/7.ots?node=Not%20A%20Node',
  ])
    await refused(url, 400, 'INVALID_ARGUMENT');
  // Malformed is malformed on a node that does not anchor, too.
  await refused('/v1/anchoring/epochs/btc:regtest/x.ots', 400, 'INVALID_ARGUMENT', plain);
});
