import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  CosignatureSigner,
  MAX_CONSISTENCY_PROOF_HASHES,
  MAX_EVIDENCE_NOTE_LENGTH,
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
import { PEER_BODY_LIMIT_BYTES } from '../../src/index.js';
import { FederationRegistry, SqliteFederationStorage, type FederationStorage } from '../../src/federation/index.js';
import { peerScope, peerTargetUri } from '../../src/http/index.js';
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
let store: FederationStorage;
let registry: FederationRegistry;
let app: FastifyInstance;
/** Handler calls: a request refused by peer auth never gets there. */
let handled = 0;
/** This app is alpha.test's node: peers sign for alpha's registry endpoint. */
const SELF = 'http://alpha.test:8080';
let clock = Math.floor(Date.now() / 1000);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'remembrancer-peer-auth-'));
  store = SqliteFederationStorage.open(join(dir, 'federation.sqlite'));
  registry = await FederationRegistry.open(store);
  let genesis: RegistrySet = createGenesis({
    federation_id: 'test',
    peers: peers.map((p) => p.entry),
    quorum: { witness: 1, registry: 2 },
    anchor_strategy: 'collaborative',
    memo: '',
    effective_after: '2026-01-01T00:00:00Z',
  });
  for (const p of peers) genesis = signRegistry(genesis, p.entry.id, p.authSeed);
  assert.equal(await registry.offer(genesis), true);
  app = Fastify();
  installErrorHandling(app);
  peerScope(app, { registry, store, self: 'alpha.test', now: () => clock }, (peerApp) => {
    peerApp.post('/v1/federation/echo', async (request) => {
      handled++;
      return { from: request.peer!.id, body: request.body };
    });
    peerApp.get('/v1/federation/hello', async (request) => ({ from: request.peer!.id }));
  });
  await app.ready();
});

after(async () => {
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function signed(p: TestPeer, body: unknown, opts: { created?: number; url?: string } = {}) {
  return signedBytes(p, canonicalBytes(body), opts);
}

/** Signs exactly `bytes` (which need not be JSON) for `opts.url`, by default alpha's echo route. */
function signedBytes(p: TestPeer, bytes: Uint8Array, opts: { created?: number; url?: string } = {}) {
  const headers = signRequest({
    method: 'POST',
    targetUri: opts.url ?? `${SELF}/v1/federation/echo`,
    keyid: p.keyid,
    seed: p.authSeed,
    body: bytes,
    ...(opts.created ? { created: opts.created } : {}),
  });
  return {
    headers: { ...headers, 'content-type': 'application/json' } as Record<string, string>,
    payload: Buffer.from(bytes),
  };
}

async function post(req: { headers: Record<string, string>; payload: Buffer }, url = '/v1/federation/echo') {
  return app.inject({ method: 'POST', url, ...req });
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
  forged.headers['signature-input'] = forged.headers['signature-input']!.replace(
    /keyid="[0-9a-f]+"/,
    `keyid="${peers[0]!.keyid}"`,
  );
  assert.equal((await post(forged)).statusCode, 401);

  const tampered = signed(peers[1]!, { amount: 1 });
  tampered.payload = Buffer.from(canonicalBytes({ amount: 1000 }));
  const t = await post(tampered);
  assert.equal(t.statusCode, 401);
  assert.equal(t.json().code, 'CONTENT_DIGEST_MISMATCH');

  const missing = await app.inject({
    method: 'POST',
    url: '/v1/federation/echo',
    headers: { 'content-type': 'application/json' },
    payload: '{}',
  });
  assert.equal(missing.statusCode, 401);

  const otherPath = await post(signed(peers[1]!, { x: 1 }, { url: `${SELF}/v1/federation/other` }));
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

test("the signature is bound to this node's own registry endpoint, never to the Host header (RFC 9421 §2.2.2)", async () => {
  const before = handled;
  // Signed for beta's endpoint and sent to alpha, with no Host header of note or with beta's.
  for (const host of [undefined, 'beta.test:8080']) {
    const req = signed(
      peers[1]!,
      { to: 'beta', host: host ?? null },
      { url: 'http://beta.test:8080/v1/federation/echo' },
    );
    if (host) req.headers.host = host;
    const r = await post(req);
    assert.equal(r.statusCode, 401, r.body);
    assert.equal(r.json().code, 'SIGNATURE_INVALID');
  }
  // Signed for a host outside the federation, with that Host header.
  const foreign = signed(peers[1]!, { to: 'evil' }, { url: 'https://evil.example/v1/federation/echo' });
  foreign.headers.host = 'evil.example';
  assert.equal((await post(foreign)).json().code, 'SIGNATURE_INVALID');
  // alpha's host with another scheme or port is another target.
  for (const url of [
    'https://alpha.test:8080/v1/federation/echo',
    'http://alpha.test:8081/v1/federation/echo',
    'http://alpha.test/v1/federation/echo',
  ]) {
    const r = await post(signed(peers[1]!, { url }, { url }));
    assert.equal(r.statusCode, 401, url);
    assert.equal(r.json().code, 'SIGNATURE_INVALID', url);
  }
  assert.equal(handled, before, 'no refused request reached the route');
  // Signed for alpha's endpoint: accepted whatever Host header the client sends.
  const ok = signed(peers[1]!, { to: 'alpha' });
  ok.headers.host = 'anything.invalid:1';
  const r = await post(ok);
  assert.equal(r.statusCode, 200, r.body);
  assert.equal(r.json().from, 'beta.test');
});

test('the target is rebuilt the way the signer builds it, and only from origin-form request targets', async () => {
  for (const [endpoint, path] of [
    ['http://alpha.test:8080', '/v1/federation/peer/view'],
    ['https://alpha.test:443/', '/v1/federation/peer/ns/dao%3Aone/proof/consistency?from=3&to=7'],
    ['http://127.0.0.1:7801/some/base/', '/v1/federation/evidence'],
    ['http://[::1]:80', '/v1/federation/peer/ns/fin%3Aclearing/root?size=4'],
  ] as const) {
    // peer-client signs new URL(path, endpoint).href and fetch sends its path and query.
    assert.equal(peerTargetUri(endpoint, path), new URL(path, endpoint).href, `${endpoint} ${path}`);
  }
  // Absolute-form would let the client name the host again; dot segments and unencoded
  // characters are not what a peer's fetch sends.
  for (const target of [
    'http://evil.example/v1/federation/echo',
    'evil.example/x',
    '*',
    '/v1/federation/../federation/echo',
    '/v1/./x',
    '/v1/a b',
    '/v1/é',
  ]) {
    assert.equal(peerTargetUri('http://alpha.test:8080', target), undefined, target);
  }
  // A path starting with '//' stays a path of this node's origin.
  assert.equal(new URL(peerTargetUri('http://alpha.test:8080', '//evil.example/x')!).host, 'alpha.test:8080');
  assert.equal(peerTargetUri('not a url', '/x'), undefined);
});

test('a request captured on its way to one node is refused at another, and replayed at the first (RFC 9421 §7.2.2)', async () => {
  // beta's node: its own store (nonces) and registry, as on another machine.
  const betaStore = SqliteFederationStorage.open(join(dir, 'beta-federation.sqlite'));
  const betaRegistry = await FederationRegistry.open(betaStore);
  assert.equal(await betaRegistry.offer(registry.latest()!), true);
  const betaApp = Fastify();
  installErrorHandling(betaApp);
  peerScope(betaApp, { registry: betaRegistry, store: betaStore, self: 'beta.test', now: () => clock }, (peerApp) => {
    peerApp.post('/v1/federation/echo', async (request) => ({ at: 'beta', from: request.peer!.id }));
  });
  try {
    await betaApp.ready();
    const captured = signed(peers[2]!, { for: 'beta' }, { url: 'http://beta.test:8080/v1/federation/echo' });
    const atBeta = await betaApp.inject({ method: 'POST', url: '/v1/federation/echo', ...captured });
    assert.equal(atBeta.statusCode, 200, atBeta.body);
    // Replayed at alpha, even naming beta as the host: the nonce is new there, the target is not alpha's.
    const atAlpha = await post({ ...captured, headers: { ...captured.headers, host: 'beta.test:8080' } });
    assert.equal(atAlpha.statusCode, 401, atAlpha.body);
    assert.equal(atAlpha.json().code, 'SIGNATURE_INVALID');
    const again = await betaApp.inject({ method: 'POST', url: '/v1/federation/echo', ...captured });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().code, 'NONCE_REPLAYED');
  } finally {
    await betaApp.close();
    await betaStore.close();
  }
});

test('a node its registry in force does not list accepts no peer requests', async () => {
  const outsider = Fastify();
  installErrorHandling(outsider);
  peerScope(outsider, { registry, store, self: 'zeta.test', now: () => clock }, (peerApp) => {
    peerApp.post('/v1/federation/echo', async () => ({ reached: true }));
  });
  try {
    await outsider.ready();
    const req = signed(peers[0]!, { to: 'zeta' }, { url: 'http://zeta.test:8080/v1/federation/echo' });
    const r = await outsider.inject({ method: 'POST', url: '/v1/federation/echo', ...req });
    assert.equal(r.statusCode, 403, r.body);
    assert.equal(r.json().code, 'FORBIDDEN');
    assert.match(r.json().message, /zeta\.test\) is not a peer in registry version 1/);
  } finally {
    await outsider.close();
  }
});

test('nothing is read or parsed before the signature verifies, nor parsed before the digest matches', async () => {
  const before = handled;
  // Invalid JSON (nesting far beyond the parser's limit): parsed, it would be 400.
  const bomb = Buffer.from('['.repeat(200_000));
  const expectRefused = async (
    req: { headers: Record<string, string>; payload: Buffer },
    status: number,
    code: string,
  ) => {
    const r = await post(req);
    assert.equal(r.statusCode, status, r.body);
    assert.equal(r.json().code, code);
  };
  await expectRefused({ headers: { 'content-type': 'application/json' }, payload: bomb }, 401, 'SIGNATURE_MISSING');
  // Over the peer body limit: 401, not 413, since the body is never read.
  const huge = Buffer.alloc(PEER_BODY_LIMIT_BYTES + 1, '[');
  await expectRefused({ headers: { 'content-type': 'application/json' }, payload: huge }, 401, 'SIGNATURE_MISSING');
  await expectRefused(signedBytes(stranger, bomb), 401, 'PEER_KEY_UNKNOWN');
  await expectRefused(signedBytes(peers[0]!, bomb, { created: clock - 600 }), 401, 'SIGNATURE_EXPIRED');
  await expectRefused(
    signedBytes(peers[0]!, bomb, { url: 'http://beta.test:8080/v1/federation/echo' }),
    401,
    'SIGNATURE_INVALID',
  );
  await expectRefused(
    { ...signedBytes(peers[0]!, huge, { url: 'http://beta.test:8080/v1/federation/echo' }) },
    401,
    'SIGNATURE_INVALID',
  );
  // Headers signed for `{}`, body swapped for the bomb: the digest fails before any parsing.
  const swapped = signed(peers[0]!, {});
  await expectRefused({ headers: swapped.headers, payload: bomb }, 401, 'CONTENT_DIGEST_MISMATCH');
  assert.equal(handled, before);

  // A registry peer's own bytes are parsed once they verified, strictly.
  await expectRefused(signedBytes(peers[0]!, bomb), 400, 'INVALID_JSON');
  await expectRefused(signedBytes(peers[0]!, Buffer.from('{"a":1,"a":2}')), 400, 'INVALID_JSON');
  await expectRefused(signedBytes(peers[0]!, Buffer.from([0x22, 0xff, 0x22])), 400, 'INVALID_ENCODING');
  await expectRefused(signedBytes(peers[0]!, huge), 413, 'PAYLOAD_TOO_LARGE');
  assert.equal(handled, before);
});

test('the largest evidence document the schema admits fits in the peer body limit', async () => {
  // Two notes of the longest length, each code unit 3 bytes of UTF-8 (no escapes shorten it),
  // and a full-length proof: what a log that pads its own notes could make evidence weigh.
  const note = '\u20ac'.repeat(MAX_EVIDENCE_NOTE_LENGTH);
  const doc = {
    type: 'federation.equivocation',
    origin: `${'a'.repeat(253)}/${'b'.repeat(63)}:${'c'.repeat(63)}`,
    detected_by: 'beta.test',
    detected_at: '2026-01-01T00:00:00.000Z',
    checkpoints: [note, note],
    reason: 'inconsistent',
    consistency_proof: Array.from({ length: MAX_CONSISTENCY_PROOF_HASHES }, () => 'A'.repeat(43) + '='),
    prefix_root: 'A'.repeat(43) + '=',
    signature: 'A'.repeat(86) + '==',
  };
  const req = signed(peers[1]!, doc);
  assert.ok(req.payload.length > 256 * 1024, `${req.payload.length} bytes`);
  const r = await post(req);
  assert.equal(r.statusCode, 200, r.body.slice(0, 200));
});

test('a GET carries the digest of an empty body', async () => {
  const headers = signRequest({
    method: 'GET',
    targetUri: `${SELF}/v1/federation/hello`,
    keyid: peers[0]!.keyid,
    seed: peers[0]!.authSeed,
    body: new Uint8Array(0),
  });
  const r = await app.inject({ method: 'GET', url: '/v1/federation/hello', headers: { ...headers } });
  assert.equal(r.statusCode, 200, r.body);
  assert.deepEqual(r.json(), { from: 'alpha.test' });
});

test('a suspended peer is 403 once a registry update suspends it', async () => {
  const v1 = registry.latest()!;
  let v2 = proposeNext(v1, {
    peers: v1.peers.map((p) => (p.id === 'gamma.test' ? { ...p, status: 'suspended' as const } : p)),
  });
  v2 = signRegistry(v2, 'alpha.test', peers[0]!.authSeed);
  v2 = signRegistry(v2, 'beta.test', peers[1]!.authSeed);
  assert.equal(await registry.offer(v2), true);
  const r = await post(signed(peers[2]!, { after: 'suspension' }));
  assert.equal(r.statusCode, 403);
  assert.equal(r.json().code, 'FORBIDDEN');
  clock += 1;
});
