import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  NoteSigner,
  base64Encode,
  createGenesis,
  crypto,
  formatAddCheckpointRequest,
  proposeNext,
  signCheckpoint,
  signRegistry,
  verifyEvidenceWithRegistry,
  type EquivocationEvidence,
  type RegistrySet,
} from '@vaultmesh/core';
import { initNode, localPeerEntry, runNode, type RunningNode } from '../../src/index.js';
import { TestLog, freePorts, makePeer, waitFor } from './federation-fixture.js';

// Three real nodes in this process (runNode: HTTP, witness, cosigner, gossip) and a fourth peer,
// delta, played by a stub server whose keys the test holds, so it can show any view and serve
// any proof. Gossip must carry registry versions to every node, turn forked checkpoints into
// evidence at every honest node, and leave a node that cannot prove consistency a suspect.
const NS = 'dao:one';
const NAMES = ['alpha.gossip.test', 'beta.gossip.test', 'gamma.gossip.test'];

let dir: string;
let nodes: RunningNode[] = [];
let stub: FastifyInstance | undefined;
let registry: RegistrySet;
const deltaPort = { value: 0 };
let delta: ReturnType<typeof makePeer>;
/** What delta shows: its view, and the trees its proof routes answer from. */
const deltaView: { checkpoints: Record<string, string>; witnessed: Record<string, string> } = {
  checkpoints: {},
  witnessed: {},
};
const deltaTrees = new Map<string, TestLog>();
/** The registry versions delta claims to hold. */
const deltaRegistry: { versions: unknown[] } = { versions: [] };
const pushedToDelta: EquivocationEvidence[] = [];

async function json<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const r = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
  return { status: r.status, body: (await r.json()) as T };
}

function admin(node: RunningNode): Record<string, string> {
  return { authorization: `Bearer ${node.identity.adminToken}`, 'content-type': 'application/json' };
}

async function evidenceAt(node: RunningNode, origin: string): Promise<EquivocationEvidence[]> {
  const r = await json<{ evidence: EquivocationEvidence[] }>(
    `${node.url}/v1/federation/evidence?origin=${encodeURIComponent(origin)}`,
  );
  assert.equal(r.status, 200);
  return r.body.evidence;
}

async function status(node: RunningNode): Promise<Record<string, any>> {
  return (await json<Record<string, any>>(`${node.url}/v1/federation/status`)).body;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'remembrancer-gossip-'));
  const ports = await freePorts(4);
  deltaPort.value = ports[3]!;
  delta = makePeer('delta.gossip.test', `http://127.0.0.1:${deltaPort.value}`);
  const identities = NAMES.map((name, i) =>
    initNode(join(dir, name), name, {
      listen: `127.0.0.1:${ports[i]}`,
      gossipIntervalMs: 200,
      checkpointIntervalMs: 100,
      synchronous: 'NORMAL',
    }),
  );
  let genesis = createGenesis({
    federation_id: 'gossip-test',
    peers: [...identities.map((id) => localPeerEntry(id)), delta.entry],
    quorum: { witness: 1, registry: 2 },
    anchor_strategy: 'collaborative',
    effective_after: '2026-01-01T00:00:00Z',
  });
  for (const id of identities) genesis = signRegistry(genesis, id.config.name, id.peerSeed);
  registry = signRegistry(genesis, delta.id, delta.authSeed);

  stub = Fastify();
  stub.get('/v1/federation/peer/view', async () => ({
    registry_version: deltaRegistry.versions.length || 1,
    ...deltaView,
  }));
  stub.get('/v1/federation/registry', async () => deltaRegistry);
  stub.post('/v1/federation/evidence', async (request, reply) => {
    pushedToDelta.push(request.body as EquivocationEvidence);
    return reply.status(201).send({});
  });
  // The peer-only hash routes the equivocation monitor asks (the stub does not check signatures).
  stub.get<{ Params: { ns: string }; Querystring: Record<string, string> }>(
    '/v1/federation/peer/ns/:ns/proof/consistency',
    async (request, reply) => {
      const log = deltaTrees.get(request.params.ns);
      const from = Number(request.query.from);
      const to = Number(request.query.to);
      if (!log || to > log.tree.size) return reply.status(400).send({ code: 'SIZE_OUT_OF_RANGE', message: 'no' });
      return { from, to, proof: log.tree.consistencyProof(from, to).map(base64Encode) };
    },
  );
  stub.get<{ Params: { ns: string }; Querystring: Record<string, string> }>(
    '/v1/federation/peer/ns/:ns/root',
    async (request, reply) => {
      const log = deltaTrees.get(request.params.ns);
      const size = Number(request.query.size);
      if (!log || size > log.tree.size) return reply.status(400).send({ code: 'SIZE_OUT_OF_RANGE', message: 'no' });
      return { size, root: base64Encode(log.tree.rootAt(size)) };
    },
  );
  await stub.listen({ host: '127.0.0.1', port: deltaPort.value });

  nodes = await Promise.all(identities.map((id) => runNode({ dataDir: id.dataDir, logger: false })));
  for (const node of nodes) {
    const r = await fetch(`${node.url}/v1/federation/registry`, {
      method: 'PUT',
      headers: admin(node),
      body: JSON.stringify(registry),
    });
    assert.equal(r.status, 201, await r.text());
  }
  // alpha keeps a log that beta's and gamma's witnesses cosign.
  const alpha = nodes[0]!;
  assert.equal(
    (await fetch(`${alpha.url}/v1/ns/${NS}`, { method: 'PUT', headers: admin(alpha), body: '{}' })).status,
    201,
  );
  const r = await fetch(`${alpha.url}/v1/ns/${NS}/batch`, {
    method: 'POST',
    headers: admin(alpha),
    body: JSON.stringify({ entries: [{ n: 1 }, { n: 2 }, { n: 3 }] }),
  });
  assert.equal(r.status, 201);
  await waitFor("beta and gamma to cosign alpha's checkpoint of size 3", async () => {
    const note = await (await fetch(`${alpha.url}/v1/ns/${NS}/checkpoint`)).text();
    return note.split('\n')[1] === '3' &&
      note.includes('beta.gossip.test/witness') &&
      note.includes('gamma.gossip.test/witness')
      ? true
      : undefined;
  });
});

after(async () => {
  await Promise.all(nodes.map((n) => n.close()));
  await stub?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('gossip', () => {
  test('every node pulls every peer; a registry version applied at one node reaches all', async () => {
    const [alpha, beta, gamma] = nodes as [RunningNode, RunningNode, RunningNode];
    const origin = `${NAMES[0]}/${NS}`;
    const cp = await waitFor("beta's gossip to reach every peer and see alpha's checkpoint of size 3", async () => {
      const s = await status(beta);
      const others = (
        s.peers as Array<{
          id: string;
          self: boolean;
          gossip?: { reachable: boolean; checkpoints: Array<{ origin: string; size: number; lag: number | null }> };
        }>
      ).filter((p) => !p.self);
      const seen = others.find((p) => p.id === NAMES[0])?.gossip?.checkpoints.find((c) => c.origin === origin);
      return s.gossip.rounds > 0 && others.every((p) => p.gossip?.reachable === true) && seen && seen.size >= 3
        ? seen
        : undefined;
    });
    assert.equal(cp.lag, 0, "beta's witness cosigned what alpha shows");
    // The per-peer summaries the explorer's Federation page shows: beta's witness trails none of
    // alpha's logs (alpha's view), and beta's witness trails none of alpha's (beta's gossip view).
    const lag = await waitFor("alpha to see beta's witness caught up on every log", async () => {
      const p = (await status(alpha)).peers.find((x: { id: string }) => x.id === NAMES[1]);
      return p?.witness_lag?.behind === 0 ? p.witness_lag : undefined;
    });
    assert.ok(lag.namespaces >= 2, `dao:one and sys:governance: ${JSON.stringify(lag)}`);
    assert.equal(lag.entries, 0);
    const betaView = (await status(beta)).peers.find((x: { id: string }) => x.id === NAMES[0]);
    assert.equal(betaView.gossip.max_lag, 0);

    let v2 = proposeNext(registry, { memo: 'version 2, applied at alpha only' });
    v2 = signRegistry(v2, NAMES[0]!, nodes[0]!.identity.peerSeed);
    v2 = signRegistry(v2, NAMES[1]!, nodes[1]!.identity.peerSeed);
    const put = await fetch(`${alpha.url}/v1/federation/registry`, {
      method: 'PUT',
      headers: admin(alpha),
      body: JSON.stringify(v2),
    });
    assert.equal(put.status, 201, await put.text());
    for (const node of [beta, gamma]) {
      await waitFor(
        `${node.identity.config.name} to adopt version 2`,
        async () =>
          (await json<RegistrySet>(`${node.url}/v1/federation/registry`)).body.version === 2 ? true : undefined,
        10_000,
      );
    }
    const all = await json<{ versions: RegistrySet[] }>(`${gamma.url}/v1/federation/registry?all=1`);
    assert.deepEqual(
      all.body.versions.map((v) => v.version),
      [1, 2],
    );

    // delta claims a version 3 that only gamma signed (two signatures needed): every node
    // fetches it, verifies it against version 2, and stays on version 2.
    const bogus = signRegistry(proposeNext(v2, { memo: 'unauthorized' }), NAMES[2]!, nodes[2]!.identity.peerSeed);
    deltaRegistry.versions = [registry, v2, bogus].map((v) => JSON.parse(JSON.stringify(v)));
    await waitFor('beta to see delta at version 3', async () => {
      const st = await status(beta);
      return st.peers.find((p: { id: string }) => p.id === delta.id).gossip.registry_version === 3 ? true : undefined;
    });
    const rounds = (await status(beta)).gossip.rounds;
    await waitFor('two more gossip rounds', async () =>
      (await status(beta)).gossip.rounds >= rounds + 2 ? true : undefined,
    );
    for (const node of nodes)
      assert.equal((await json<RegistrySet>(`${node.url}/v1/federation/registry`)).body.version, 2);
    deltaRegistry.versions = [];
    registry = v2;

    // The view is for registry peers only.
    assert.equal((await fetch(`${beta.url}/v1/federation/peer/view`)).status, 401);
  });

  test('a node that cannot prove two of its checkpoints consistent is a suspect, with no evidence', async () => {
    const beta = nodes[1]!;
    const origin = `${NAMES[0]}/${NS}`;
    // delta shows a checkpoint of alpha's log, validly signed by alpha's key, far beyond alpha's tree.
    const far = signCheckpoint(
      { origin, size: 100, root: crypto.randomBytes(32) },
      new NoteSigner(origin, nodes[0]!.identity.logSeed),
    );
    deltaView.checkpoints = { [origin]: far };
    const s = await waitFor("beta to list alpha's log as a suspect", async () => {
      const st = await status(beta);
      return (st.equivocation.suspects as Array<{ origin: string }>).some((x) => x.origin === origin) ? st : undefined;
    });
    const suspect = s.equivocation.suspects.find((x: { origin: string }) => x.origin === origin);
    assert.deepEqual(suspect.sizes, [3, 100]);
    assert.equal(suspect.seen_at, delta.id);
    assert.match(suspect.reason, /answered 400/);
    assert.deepEqual(await evidenceAt(beta, origin), []);
    deltaView.checkpoints = {};
  });

  test('a same-size fork shown by a peer becomes evidence at every honest node, pushed to all, and the witnesses refuse the log', async () => {
    const [alpha, beta, gamma] = nodes as [RunningNode, RunningNode, RunningNode];
    const origin = `${NAMES[0]}/${NS}`;
    const fork = signCheckpoint(
      { origin, size: 3, root: crypto.randomBytes(32) },
      new NoteSigner(origin, alpha.identity.logSeed),
    );
    const started = Date.now();
    deltaView.checkpoints = { [origin]: fork };
    for (const node of [alpha, beta, gamma]) {
      const docs = await waitFor(`${node.identity.config.name} to hold evidence against ${origin}`, async () => {
        const e = await evidenceAt(node, origin);
        return e.length > 0 ? e : undefined;
      });
      for (const doc of docs) {
        const v = verifyEvidenceWithRegistry(doc, registry);
        assert.equal(v.evidence.reason, 'same_size_different_root');
        assert.ok(doc.checkpoints.includes(fork));
      }
    }
    assert.ok(Date.now() - started < 10_000);
    await waitFor('the evidence to be pushed to delta too', () =>
      pushedToDelta.some((e) => e.origin === origin) ? true : undefined,
    );
    deltaView.checkpoints = {};

    const st = await status(beta);
    assert.ok(st.equivocation.refused_origins.includes(origin));
    assert.deepEqual(
      st.equivocation.suspects.filter((x: { origin: string }) => x.origin === origin),
      [],
      'evidence replaces the suspicion',
    );
    assert.ok(st.peers.find((p: { id: string }) => p.id === NAMES[0]).evidence >= 1);

    // alpha's log keeps growing, but beta and gamma no longer cosign it.
    const r = await fetch(`${alpha.url}/v1/ns/${NS}/batch`, {
      method: 'POST',
      headers: admin(alpha),
      body: JSON.stringify({ entries: [{ n: 4 }] }),
    });
    assert.equal(r.status, 201);
    const note = await waitFor('alpha to publish size 4', async () => {
      const n = await (await fetch(`${alpha.url}/v1/ns/${NS}/checkpoint`)).text();
      return n.split('\n')[1] === '4' ? n : undefined;
    });
    await new Promise((res) => setTimeout(res, 1200));
    const after = await (await fetch(`${alpha.url}/v1/ns/${NS}/checkpoint`)).text();
    assert.equal(after.split('\n')[1], '4', note);
    assert.ok(!after.includes('beta.gossip.test/witness') && !after.includes('gamma.gossip.test/witness'), after);
    const direct = await fetch(`${beta.url}/v1/witness/add-checkpoint`, {
      method: 'POST',
      body: formatAddCheckpointRequest({ oldSize: 3, proof: [], checkpoint: note }),
    });
    assert.equal(direct.status, 404);
  });

  test('a fork the origin\'s own node proves (different sizes) becomes "inconsistent" evidence, also from a power-of-two size', async () => {
    const [, beta, gamma] = nodes as [RunningNode, RunningNode, RunningNode];
    for (const [ns, honestSize] of [
      ['dao:six', 6],
      ['dao:four', 4],
    ] as const) {
      const origin = `${delta.id}/${ns}`;
      const honest = new TestLog(delta, origin).append('0', '1', '2');
      const fork = honest.fork().append('f3', 'f4', 'f5', 'f6', 'f7');
      honest.append(...['3', '4', '5'].slice(0, honestSize - 3));
      // beta's and gamma's witnesses cosign the honest history...
      for (const node of [beta, gamma]) {
        const r = await fetch(`${node.url}/v1/witness/add-checkpoint`, {
          method: 'POST',
          body: formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: honest.checkpoint() }),
        });
        assert.equal(r.status, 200, await r.text());
      }
      // ...then delta shows and proves the fork.
      deltaTrees.set(ns, fork);
      deltaView.checkpoints = { [origin]: fork.checkpoint() };
      for (const node of [beta, gamma]) {
        const doc = await waitFor(`${node.identity.config.name} to hold evidence against ${origin}`, async () => {
          return (await evidenceAt(node, origin))[0];
        });
        const v = verifyEvidenceWithRegistry(doc, registry);
        assert.equal(v.evidence.reason, 'inconsistent');
        assert.deepEqual([v.checkpoints[0].size, v.checkpoints[1].size], [honestSize, 8]);
        assert.equal(v.evidence.prefix_root, base64Encode(fork.tree.rootAt(honestSize)));
      }
      deltaView.checkpoints = {};
    }
  });

  test("a conflicting checkpoint offered to a witness is evidence from the witness's conflict alone", async () => {
    const gamma = nodes[2]!;
    const origin = `${delta.id}/dao:direct`;
    const honest = new TestLog(delta, origin).append('0', '1', '2', '3', '4', '5');
    const fork = new TestLog(delta, origin).append('0', '1', '2', 'f3', 'f4', 'f5', 'f6', 'f7');
    const offer = (body: string) => fetch(`${gamma.url}/v1/witness/add-checkpoint`, { method: 'POST', body });
    assert.equal(
      (await offer(formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: honest.checkpoint() }))).status,
      200,
    );
    // delta's node never shows this log (it is in no view, and its proof routes know nothing of
    // it): the fork's own consistency proof, carried by the request, is the evidence.
    const r = await offer(
      formatAddCheckpointRequest({
        oldSize: 6,
        proof: fork.tree.consistencyProof(6, 8),
        checkpoint: fork.checkpoint(),
      }),
    );
    assert.equal(r.status, 422);
    const doc = await waitFor('gamma to hold evidence from its witness conflict', async () => {
      return (await evidenceAt(gamma, origin))[0];
    });
    assert.equal(verifyEvidenceWithRegistry(doc, registry).evidence.detected_by, NAMES[2]);
    assert.equal(doc.reason, 'inconsistent');
    // Refused from now on, even the honest history.
    honest.append('6');
    assert.equal(
      (
        await offer(
          formatAddCheckpointRequest({
            oldSize: 6,
            proof: honest.tree.consistencyProof(6, 7),
            checkpoint: honest.checkpoint(),
          }),
        )
      ).status,
      404,
    );
  });
});
