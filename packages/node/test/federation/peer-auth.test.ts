import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  CosignatureSigner,
  NoteSigner,
  canonicalBytes,
  createGenesis,
  crypto,
  formatKeyId,
  proposeNext,
  signRegistry,
  signRequest,
  type RegistryPeer,
  type RegistrySet,
} from '@vaultmesh/core';
import { FederationRegistry, FederationStore, peerAuthenticatedRoutes } from '@vaultmesh/node';
import { installErrorHandling } from '../../src/http/error-handler.js';

interface TestPeer {
  entry: RegistryPeer;
  authSeed: Uint8Array;
  keyid: string;
}

function makePeer(name: string): TestPeer {
  const authSeed = crypto.randomBytes(32);
  const auth = new NoteSigner(`${name}/peer`, authSeed);
  return {
    authSeed,
    keyid: formatKeyId(auth.keyId),
    entry: {
      id: name,
      endpoint: `http://${name}:8080`,
      log_vkey: new NoteSigner(name, crypto.randomBytes(32)).vkey,
      witness_vkey: new CosignatureSigner(`${name}/witness`, crypto.randomBytes(32)).vkey,
      auth_key: auth.vkey,
      status: 'active',
      roles: ['log', 'witness'],
    },
  };
}

const peers = ['alpha.test', 'beta.test', 'gamma.test'].map(makePeer);
const stranger = makePeer('mallory.test');
let dir: string;
let store: FederationStore;
let registry: FederationRegistry;
let app: FastifyInstance;
let clock = Math.floor(Date.now() / 1000);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'remembrancer-peer-auth-'));
  store = new FederationStore(join(dir, 'federation.sqlite'));
  registry = new FederationRegistry(store);
  let genesis: RegistrySet = createGenesis({
    federation_id: 'test',
    peers: peers.map((p) => p.entry),
    quorum: { witness: 1, registry: 2 },
    anchor_strategy: 'collaborative',
    memo: '',
    effective_after: '2026-01-01T00:00:00Z',
  });
  for (const p of peers) genesis = signRegistry(genesis, p.entry.id, p.authSeed);
  assert.equal(registry.offer(genesis), true);
  app = Fastify();
  installErrorHandling(app);
  peerAuthenticatedRoutes(app, { registry, store, now: () => clock }, (peerApp) => {
    peerApp.post('/v1/federation/echo', async (request) => ({ from: request.peer!.id, body: request.body as unknown }));
  });
  await app.ready();
});

after(async () => {
  await app.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function signed(p: TestPeer, body: unknown, opts: { created?: number; url?: string } = {}) {
  const bytes = canonicalBytes(body);
  const headers = signRequest({ method: 'POST', targetUri: opts.url ?? 'http://localhost/v1/federation/echo', keyid: p.keyid, seed: p.authSeed, body: bytes, ...(opts.created ? { created: opts.created } : {}) });
  return { headers: { ...headers, 'content-type': 'application/json' }, payload: Buffer.from(bytes) };
}

async function post(req: { headers: Record<string, string>; payload: Buffer }) {
  return app.inject({ method: 'POST', url: '/v1/federation/echo', ...req });
}

test('a registry peer signed request is accepted and attributed', async () => {
  const r = await post(signed(peers[0]!, { hello: 1 }));
  assert.equal(r.statusCode, 200, r.body);
  assert.deepEqual(r.json(), { from: 'alpha.test', body: { hello: 1 } });
});

test('unknown keys, forged signatures and tampered bodies are 401', async () => {
  const unknown = await post(signed(stranger, { x: 1 }));
  assert.equal(unknown.statusCode, 401);
  assert.equal(unknown.json().code, 'PEER_KEY_UNKNOWN');

  const forged = signed(peers[1]!, { x: 1 });
  forged.headers['signature-input'] = forged.headers['signature-input']!.replace(/keyid="[0-9a-f]+"/, `keyid="${peers[0]!.keyid}"`);
  assert.equal((await post(forged)).statusCode, 401);

  const tampered = signed(peers[1]!, { amount: 1 });
  tampered.payload = Buffer.from(canonicalBytes({ amount: 1000 }));
  const t = await post(tampered);
  assert.equal(t.statusCode, 401);
  assert.equal(t.json().code, 'CONTENT_DIGEST_MISMATCH');

  const missing = await app.inject({ method: 'POST', url: '/v1/federation/echo', headers: { 'content-type': 'application/json' }, payload: '{}' });
  assert.equal(missing.statusCode, 401);

  const otherPath = await post(signed(peers[1]!, { x: 1 }, { url: 'http://localhost/v1/federation/other' }));
  assert.equal(otherPath.statusCode, 401);
});

test('clocks skewed by ±10 minutes are rejected, saying so', async () => {
  for (const skew of [-600, 600]) {
    const r = await post(signed(peers[2]!, { skew }, { created: clock + skew }));
    assert.equal(r.statusCode, 401);
    assert.equal(r.json().code, 'SIGNATURE_EXPIRED');
    assert.match(r.json().message, /±120 s/);
  }
  assert.equal((await post(signed(peers[2]!, { skew: 100 }, { created: clock + 100 }))).statusCode, 200);
});

test('a replayed request is 409', async () => {
  const req = signed(peers[0]!, { once: true });
  assert.equal((await post(req)).statusCode, 200);
  const again = await post(req);
  assert.equal(again.statusCode, 409);
  assert.equal(again.json().code, 'NONCE_REPLAYED');
});

test('a suspended peer is 403 once a registry update suspends it', async () => {
  const v1 = registry.latest()!;
  let v2 = proposeNext(v1, { peers: v1.peers.map((p) => (p.id === 'gamma.test' ? { ...p, status: 'suspended' as const } : p)) });
  v2 = signRegistry(v2, 'alpha.test', peers[0]!.authSeed);
  v2 = signRegistry(v2, 'beta.test', peers[1]!.authSeed);
  assert.equal(registry.offer(v2), true);
  const r = await post(signed(peers[2]!, { after: 'suspension' }));
  assert.equal(r.statusCode, 403);
  assert.equal(r.json().code, 'FORBIDDEN');
  clock += 1;
});
