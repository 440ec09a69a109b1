import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RegistryPeer } from '@vaultmesh/core';
import { Cosigner } from '../../src/federation/cosigner.js';
import type { FederationRegistry } from '../../src/federation/federation-registry.js';
import type { FederationStorage } from '../../src/federation/federation-storage.js';
import type { LogEngine, PublishedCheckpoint } from '../../src/log/log-engine.js';
import { TestLog, makePeer, waitFor } from './federation-fixture.js';

// A Cosigner with a fake engine and registry and one witness peer played by a real HTTP server
// that holds each request until the test lets it answer. stop() must wait for the request under
// way (no sleep loop, no deadline timer), send nothing after, and resolve as soon as it is answered.
const NS = 'dao:one';
const ORIGIN = `alpha.cosigner.test/${NS}`;
const log = new TestLog(makePeer('alpha.cosigner.test'), ORIGIN).append('a', 'b', 'c');
const checkpoint: PublishedCheckpoint = {
  size: 3,
  root: log.tree.rootAt(3),
  note: log.checkpoint(),
  publishedAt: new Date().toISOString(),
};

let server: Server;
let witness: RegistryPeer;
let mode: 'hold' | 'refuse' = 'hold';
let requests = 0;
const held: ServerResponse[] = [];

function handle(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  req.on('end', () => {
    requests++;
    if (mode === 'refuse') {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'INTERNAL', message: 'witness store is down' }));
      return;
    }
    held.push(res);
  });
}

/** Answers every held request: 409 with the size the witness holds, which would make the cosigner resend. */
function release(): void {
  for (const res of held.splice(0)) {
    res.writeHead(409, { 'content-type': 'text/x.tlog.size' });
    res.end('0\n');
  }
}

function cosigner(peers: RegistryPeer[], timeoutMs = 5000): Cosigner {
  const engine = {
    listNamespaces: () => [{ id: NS, origin: ORIGIN }],
    latestCheckpoint: () => checkpoint,
    consistencyProof: () => [],
  } as unknown as LogEngine;
  const registry = {
    latest: () => ({ version: 1, peers }),
    activeOthers: () => peers,
    peerAcrossRotation: () => [],
  } as unknown as FederationRegistry;
  const store = { addCosignature: () => Promise.resolve() } as unknown as FederationStorage;
  return new Cosigner({ engine, registry, store, self: 'alpha.cosigner.test', timeoutMs, pollMs: 10, retryMs: 20 });
}

before(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  witness = makePeer('beta.cosigner.test', `http://127.0.0.1:${(server.address() as AddressInfo).port}`).entry;
});

after(async () => {
  release();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('Cosigner.stop', () => {
  test('waits for the witness request in flight, resolves when it is answered, and sends nothing after', async () => {
    mode = 'hold';
    requests = 0;
    const c = cosigner([witness]);
    c.start();
    await waitFor('the witness request', () => held.length === 1 || undefined, 5000);

    let stopped = false;
    const stopping = c.stop().then(() => {
      stopped = true;
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(stopped, false, 'stop waits for the request under way');

    const releasedAt = performance.now();
    release();
    await stopping;
    assert.ok(
      performance.now() - releasedAt < 1000,
      'stop resolves as soon as the request is answered, not at the 5 s timeout',
    );

    // The 409 would normally be answered by a resend, and the 20 ms retry would ask again: after
    // stop neither happens, so no timer is left.
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(requests, 1, 'no request after stop');
    assert.equal(held.length, 0);
  });

  test('resolves at once with nothing in flight', async () => {
    const c = cosigner([witness]);
    const started = performance.now();
    await c.stop();
    assert.ok(performance.now() - started < 50);
  });

  test('a witness that answers is reachable even when it refuses; one that does not is not', async () => {
    mode = 'refuse';
    const dead = makePeer('gamma.cosigner.test', 'http://127.0.0.1:1').entry;
    const c = cosigner([witness, dead], 1000);
    const cosigners = await c.round(NS, ORIGIN, checkpoint);
    assert.deepEqual(cosigners, []);
    const states = new Map(c.witnessPeers().map((s) => [s.peer, s]));
    assert.equal(states.get(witness.id)?.reachable, true);
    assert.match(states.get(witness.id)?.lastError ?? '', /answered 500 INTERNAL: witness store is down/);
    assert.equal(states.get(dead.id)?.reachable, false);
    assert.match(states.get(dead.id)?.lastError ?? '', /unreachable/);
    // Neither cosigned the checkpoint of size 3: each trails it by all of it (the status's witness_lag).
    for (const p of [witness, dead])
      assert.deepEqual(c.witnessLags().get(p.id), { namespaces: 1, behind: 1, entries: 3 });
    await c.stop();
  });
});
