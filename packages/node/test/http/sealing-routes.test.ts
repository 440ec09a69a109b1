import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import {
  CosignatureSigner,
  base64Encode,
  canonicalBytes,
  formatSignatureLine,
  parseNote,
  parseTlogPolicy,
  verifyReceipt,
  type Receipt,
} from '@vaultmesh/core';
import { initNode } from '../../src/config/node-config.js';
import { cosignedCheckpointNote } from '../../src/federation/cosigned-checkpoint.js';
import { FederationRegistry } from '../../src/federation/federation-registry.js';
import { SqliteFederationStorage } from '../../src/federation/sqlite-federation-storage.js';
import type { FederationStorage } from '../../src/federation/federation-storage.js';
import { localPeerEntry } from '../../src/federation/local-peer.js';
import { buildHttpServer } from '../../src/http/server.js';
import { openLogEngine } from '../../src/log/index.js';
import type { LogEngine, PublishedCheckpoint } from '../../src/log/log-engine.js';
import { openNamespaceServices, type NamespaceServices } from '../../src/namespaces/namespace-services.js';
import { SealedCheckpoints, type WitnessPolicy } from '../../src/namespaces/sealing.js';
import { genesisOf, makePeer, type TestPeer } from '../federation/federation-fixture.js';
import { startTestServer, type TestServer } from './test-server.js';

const NS = 'dao:vaultmesh';
const enc = encodeURIComponent(NS);
const NAME = 'alpha.vaultmesh.test';

function expectError(r: { statusCode: number; json(): unknown }, status: number, code: string) {
  assert.equal(r.statusCode, status, JSON.stringify(r.json()));
  assert.equal((r.json() as { code: string }).code, code);
}

let n = 0;
async function grow(engine: LogEngine, count: number): Promise<PublishedCheckpoint> {
  await engine.append(
    NS,
    Array.from({ length: count }, () => canonicalBytes({ memo: `entry ${n++}` })),
  );
  return (await engine.publishCheckpoint(NS))!;
}

describe('without a sealing option: every namespace as if k = 0', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
    await s.engine.createNamespace(NS);
    await grow(s.engine, 3);
  });
  after(async () => s.close());

  test('GET policy is tlog-policy text with the log and quorum none', async () => {
    const r = await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/policy` });
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    const policy = parseTlogPolicy(r.body);
    assert.deepEqual(policy, {
      logs: [{ vkey: s.engine.getNamespace(NS)!.logVkey, url: 'http://127.0.0.1:8080' }],
      witnesses: [],
      groups: [],
      quorum: 'none',
    });
    expectError(
      await s.app.inject({ method: 'GET', url: `/v1/ns/${encodeURIComponent('dao:nope')}/policy` }),
      404,
      'NAMESPACE_NOT_FOUND',
    );
    expectError(await s.app.inject({ method: 'GET', url: `/v1/ns/NOPE/policy` }), 400, 'INVALID_NAMESPACE_ID');
  });

  test('checkpoints and receipts are sealed by the log signature', async () => {
    const plain = await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/checkpoint` });
    assert.equal(plain.headers['x-sealed'], 'true');
    const sealed = await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/checkpoint?sealed=1` });
    assert.equal(sealed.statusCode, 200);
    assert.equal(sealed.body, plain.body);
    const r = (await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/receipt/1` })).json() as Receipt;
    assert.equal(r.sealed, true);
    assert.deepEqual(r.sealing, { min_required: 0, allowlist: [], cosigners: [] });
    const policy = (await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/policy` })).body;
    assert.ok(verifyReceipt(r, { logVkeys: [], policy }).ok);
    const rs = await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/receipt/1?sealed=1` });
    assert.deepEqual(rs.json(), r);
    for (const bad of ['2', 'yes', '']) {
      expectError(
        await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/checkpoint?sealed=${bad}` }),
        400,
        'INVALID_ARGUMENT',
      );
      expectError(
        await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/receipt/1?sealed=${bad}` }),
        400,
        'INVALID_ARGUMENT',
      );
    }
    assert.equal((await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/checkpoint?sealed=0` })).body, plain.body);
  });
});

describe('with witness policies', () => {
  let dir: string;
  let app: FastifyInstance;
  let engine: LogEngine;
  let store: FederationStorage;
  let namespaces: NamespaceServices;
  let origin: string;
  const policies = new Map<string, WitnessPolicy>();
  const [beta, gamma, delta] = ['beta', 'gamma', 'delta'].map((p) => makePeer(`${p}.vaultmesh.test`)) as [
    TestPeer,
    TestPeer,
    TestPeer,
  ];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'remembrancer-sealing-routes-'));
    const identity = initNode(join(dir, 'node'), NAME);
    engine = await openLogEngine({
      dbPath: identity.dbPath,
      nodeName: NAME,
      logSeed: identity.logSeed,
      checkpointIntervalMs: 60_000,
      synchronous: 'NORMAL',
    });
    store = SqliteFederationStorage.open(join(dir, 'federation.sqlite'));
    namespaces = await openNamespaceServices({
      engine,
      dataDir: join(dir, 'node'),
      adminToken: identity.adminToken,
      operators: identity.governance,
      localOperator: { id: identity.operatorId, seed: identity.operatorSeed },
    });
    const registry = await FederationRegistry.open(store);
    assert.equal(await registry.offer(genesisOf([makePeer(NAME), beta, gamma, delta])), true);
    origin = (await engine.createNamespace(NS)).origin;
    policies.set(NS, { min_required: 2, allowlist: [beta.id, gamma.id, delta.id] });
    app = buildHttpServer({
      namespaces,
      engine,
      nodeName: NAME,
      version: '0.0.0-test',
      self: localPeerEntry(identity),
      adminToken: identity.adminToken,
      checkpointNote: (o, cp) => cosignedCheckpointNote(store, o, cp),
      sealing: new SealedCheckpoints({ engine, registry, store, witnessPolicy: (id) => policies.get(id) }),
    });
  });
  after(async () => {
    await app.close();
    await namespaces.close();
    await engine.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function cosign(cp: PublishedCheckpoint, p: TestPeer): Promise<void> {
    const body = cp.note.slice(0, cp.note.indexOf('\n\n') + 1);
    const sig = new CosignatureSigner(`${p.id}/witness`, p.witnessSeed).cosign(body, 1_700_000_000);
    await store.addCosignature(origin, cp.size, base64Encode(cp.root), p.id, formatSignatureLine(sig), 1_700_000_000);
  }
  const get = (url: string) => app.inject({ method: 'GET', url: `/v1/ns/${enc}${url}` });

  test('unsealed: x-sealed false, sealed=1 is 409 NOT_YET_SEALED with Retry-After, receipts say so', async () => {
    await grow(engine, 4);
    const plain = await get('/checkpoint');
    assert.equal(plain.statusCode, 200);
    assert.equal(plain.headers['x-sealed'], 'false');
    const none = await get('/checkpoint?sealed=1');
    expectError(none, 409, 'NOT_YET_SEALED');
    // The namespace view says the same, for pages that show sealing without parsing notes.
    const view = (await get('')).json() as { checkpoint: unknown; sealed_checkpoint: unknown };
    const cp = engine.latestCheckpoint(NS)!;
    assert.deepEqual(view.checkpoint, {
      size: cp.size,
      signed_at: cp.publishedAt,
      sealed: false,
      cosigners: [],
      min_required: 2,
    });
    assert.equal(view.sealed_checkpoint, null);
    assert.equal(none.headers['retry-after'], '1');

    const r = (await get('/receipt/2')).json() as Receipt;
    assert.equal(r.sealed, false);
    assert.deepEqual(r.sealing, { min_required: 2, allowlist: [beta.id, gamma.id, delta.id], cosigners: [] });
    const rs = await get('/receipt/2?sealed=1');
    expectError(rs, 409, 'NOT_YET_SEALED');
    assert.equal(rs.headers['retry-after'], '1');
    const t = await get('/receipt/2?format=tlog-proof');
    assert.equal(t.headers['x-sealed'], 'false');
    assert.match(t.body, /^c2sp\.org\/tlog-proof@v1\n/);
  });

  test('sealed once k allowlisted witnesses cosigned; receipts refresh to the sealed checkpoint and verify with the served policy', async () => {
    const cp1 = engine.latestCheckpoint(NS)!;
    await cosign(cp1, beta);
    assert.equal((await get('/checkpoint')).headers['x-sealed'], 'false');
    await cosign(cp1, delta);
    const plain = await get('/checkpoint');
    assert.equal(plain.headers['x-sealed'], 'true');
    const view = (await get('')).json() as { checkpoint: Record<string, unknown>; sealed_checkpoint: unknown };
    assert.equal(view.checkpoint['sealed'], true);
    assert.deepEqual(view.checkpoint['cosigners'], [beta.id, delta.id], 'allowlist order');
    assert.deepEqual(view.sealed_checkpoint, { size: cp1.size, signed_at: cp1.publishedAt });
    const sealed = await get('/checkpoint?sealed=1');
    assert.equal(sealed.statusCode, 200);
    assert.equal(sealed.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(sealed.headers['x-sealed'], 'true');
    assert.equal(parseNote(sealed.body).signatures.length, 3, 'the log signature and both cosignatures');

    const policyText = (await get('/policy')).body;
    assert.equal(parseTlogPolicy(policyText).groups[0]!.threshold, 2);

    // The tree grows; the new checkpoint is not sealed yet.
    const cp2 = await grow(engine, 2);
    assert.equal((await get('/checkpoint')).headers['x-sealed'], 'false');
    assert.equal((await get('/checkpoint?sealed=1')).body, sealed.body, 'the sealed one is still served');

    // A receipt for an old entry: the plain one is against cp2 (unsealed), ?sealed=1 refreshes it to cp1.
    const plainReceipt = (await get('/receipt/1')).json() as Receipt;
    assert.equal(plainReceipt.sealed, false);
    assert.equal(
      verifyReceipt(plainReceipt, { logVkeys: [], policy: policyText }).checks.at(-1)!.code,
      'POLICY_NOT_MET',
    );
    const refreshed = await get('/receipt/1?sealed=1');
    assert.equal(refreshed.statusCode, 200);
    assert.equal(refreshed.headers['x-sealed'], 'true');
    const rr = refreshed.json() as Receipt;
    assert.equal(rr.sealed, true);
    assert.deepEqual(rr.sealing, {
      min_required: 2,
      allowlist: [beta.id, gamma.id, delta.id],
      cosigners: [beta.id, delta.id],
    });
    assert.equal(rr.checkpoint, sealed.body);
    const v = verifyReceipt(rr, { logVkeys: [], policy: policyText });
    assert.ok(v.ok, JSON.stringify(v.checks));
    assert.equal(v.checkpoint?.size, cp1.size);

    // A new entry is covered by no sealed checkpoint until cp2 is cosigned.
    const newIndex = cp2.size - 1;
    expectError(await get(`/receipt/${newIndex}?sealed=1`), 409, 'NOT_YET_SEALED');
    await cosign(cp2, gamma);
    await cosign(cp2, beta);
    const fresh = (await get(`/receipt/${newIndex}?sealed=1`)).json() as Receipt;
    assert.equal(fresh.sealed, true);
    assert.deepEqual(fresh.sealing?.cosigners, [beta.id, gamma.id]);
    assert.ok(verifyReceipt(fresh, { logVkeys: [], policy: policyText }).ok);
  });

  test('a policy that cannot be met by registered peers is refused, not weakened', async () => {
    policies.set(NS, { min_required: 2, allowlist: [beta.id, 'omega.vaultmesh.test'] });
    const r = await get('/policy');
    expectError(r, 400, 'POLICY_INVALID');
    assert.match((r.json() as { message: string }).message, /omega\.vaultmesh\.test: not in the federation registry/);
    policies.set(NS, { min_required: 2, allowlist: [beta.id, gamma.id, delta.id] });
  });
});
