import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGovernanceDocument, replayGovernance, type GovernanceState } from '@vaultmesh/core';
import { openNamespaceServices } from '../../src/namespaces/namespace-services.js';
import { startTestServer, type TestServer } from '../http/test-server.js';

// The live namespace rules are exactly the replay of sys:governance: rebuilt from scratch (a new
// directory over the same log, and core's pure replay over the entries served by the API) they
// compare equal. Documents apply at effective_after; cadence due times survive a restart.

const T0 = Date.parse('2026-11-22T12:00:00.000Z');
let clock = T0;
let s: TestServer;
const rulesDirs: string[] = [];
const admin = () => ({ authorization: `Bearer ${s.token}` });

before(async () => {
  s = await startTestServer({ now: () => clock });
});
after(async () => {
  await s.close();
  for (const d of rulesDirs) rmSync(d, { recursive: true, force: true });
});

async function put(path: string, payload: object, query = '') {
  return s.app.inject({ method: 'PUT', url: `/v1/ns/${path}${query}`, headers: admin(), payload });
}

/** What the state says about every namespace, in a form that compares with deepEqual. */
function snapshot(state: GovernanceState) {
  return {
    namespaces: [...state.namespaces.values()].map((n) => ({ ...n })).sort((a, b) => (a.id < b.id ? -1 : 1)),
    schemas: [...state.schemas.keys()].sort(),
    pending: state.pending.map((p) => p.index),
  };
}

async function documentsFromApi() {
  const size = s.engine.sequencedSize('sys:governance');
  const docs = [];
  for (let i = 0; i < size; i++) {
    const r = await s.app.inject({ method: 'GET', url: `/v1/ns/sys:governance/entries/${i}` });
    assert.equal(r.statusCode, 200);
    docs.push({ index: i, doc: parseGovernanceDocument((r.json() as { entry: unknown }).entry) });
  }
  return docs;
}

test('changes take effect at effective_after; until then they are pending', async () => {
  assert.equal((await put('dao:vaultmesh', { description: 'the DAO' })).statusCode, 201);
  const later = new Date(T0 + 60_000).toISOString();
  const deferred = await put('dao:vaultmesh', { description: 'the DAO, renamed' }, `?effective_after=${later}`);
  assert.equal(deferred.statusCode, 202, deferred.body);
  const future = await put('fin:later', { description: 'born later' }, `?effective_after=${later}`);
  assert.equal(future.statusCode, 202, future.body);
  let view = (await s.app.inject({ method: 'GET', url: '/v1/ns/dao:vaultmesh' })).json() as {
    description: string;
    version: number;
    pending: unknown[];
  };
  assert.equal(view.description, 'the DAO');
  assert.equal(view.pending.length, 1);
  assert.equal((await s.app.inject({ method: 'GET', url: '/v1/ns/fin:later' })).statusCode, 404);
  // A further change must build on the pending one (its version), and may not take effect before it.
  const early = await put(
    'dao:vaultmesh',
    { description: 'too early' },
    `?effective_after=${new Date(T0 + 30_000).toISOString()}`,
  );
  assert.equal(early.statusCode, 409, early.body);

  clock = T0 + 60_001;
  view = (await s.app.inject({ method: 'GET', url: '/v1/ns/dao:vaultmesh' })).json() as {
    description: string;
    version: number;
    pending: unknown[];
  };
  assert.equal(view.description, 'the DAO, renamed');
  assert.equal(view.version, 2);
  assert.deepEqual(view.pending, []);
  assert.equal((await s.app.inject({ method: 'GET', url: '/v1/ns/fin:later' })).statusCode, 200);
});

test('cadence: next due times are computed, shown, and kept across a restart', async () => {
  const cadence = {
    fast: { target: 'rfc3161:local-tsa', every: '89s', confirmations: 0 },
    strong: { target: 'eip155:31337', every: '4*fast', confirmations: 2 },
    cold: { target: 'btc:regtest', every: '1d', confirmations: 6 },
  };
  const r = await put('dao:vaultmesh/cadence', cadence);
  assert.equal(r.statusCode, 200, r.body);
  const view = r.json() as {
    cadence: unknown;
    cadence_schedule: Record<string, { next_due: string; period_ms: number }>;
    version: number;
  };
  assert.deepEqual(view.cadence, cadence);
  assert.equal(view.cadence_schedule['fast']!.next_due, new Date(clock + 89_000).toISOString());
  assert.equal(view.cadence_schedule['strong']!.period_ms, 4 * 89_000);
  assert.equal(view.cadence_schedule['cold']!.next_due, new Date(clock + 86_400_000).toISOString());
  const bad = await put('dao:vaultmesh/cadence', {
    fast: { target: 'rfc3161:x', every: '3*strong', confirmations: 0 },
  });
  assert.equal(bad.statusCode, 400);
  assert.equal((bad.json() as { pointer: string }).pointer, '/fast/every');

  // Time passes, the scheduler advances, and a restart (a new directory and scheduler over the
  // same data) shows the same due times instead of starting over.
  clock += 100_000;
  await s.namespaces.cadence.tick();
  const before = (
    (await s.app.inject({ method: 'GET', url: '/v1/ns/dao:vaultmesh' })).json() as { cadence_schedule: unknown }
  ).cadence_schedule;
  assert.equal(
    (before as Record<string, { next_due: string }>)['fast']!.next_due,
    new Date(T0 + 60_001 + 2 * 89_000).toISOString(),
  );
  // What a restart reads is what was persisted: a second scheduler over the same cadence.sqlite.
  clock += 1_000;
  const reopened = await openNamespaceServices({
    engine: s.engine,
    dataDir: s.identity.dataDir,
    adminToken: s.identity.adminToken,
    operators: s.identity.governance,
    now: () => clock,
  });
  try {
    assert.deepEqual(await reopened.cadence.view('dao:vaultmesh'), before);
  } finally {
    await reopened.close();
  }
});

test('the live state is exactly the replay of sys:governance, rebuilt from scratch', async () => {
  const live = s.namespaces.directory.liveState();
  // 1. Core's pure replay over the documents as the API serves them.
  const docs = await documentsFromApi();
  assert.equal(docs.length, 4, 'three namespace documents and a cadence change; refused ones are not logged');
  assert.deepEqual(snapshot(replayGovernance(docs, new Date(clock).toISOString())), snapshot(live));
  // 2. A brand-new directory over the same log (fresh cadence store: nothing carried over).
  const dir = mkdtempSync(join(tmpdir(), 'remembrancer-replay-'));
  rulesDirs.push(dir);
  const rebuilt = await openNamespaceServices({
    engine: s.engine,
    dataDir: dir,
    adminToken: 'x',
    operators: s.identity.governance,
    now: () => clock,
  });
  try {
    assert.deepEqual(snapshot(rebuilt.directory.liveState()), snapshot(live));
    for (const id of ['dao:vaultmesh', 'fin:later'])
      assert.deepEqual(rebuilt.directory.rules(id), s.namespaces.directory.rules(id));
  } finally {
    await rebuilt.close();
  }
  // 3. Replays are deterministic: the same log gives the same state twice, and a replay at an
  // earlier time is the replay of the documents in force by then.
  assert.deepEqual(snapshot(replayGovernance(docs, null)), snapshot(replayGovernance(docs, null)));
  const early = new Date(T0 + 1).toISOString();
  assert.deepEqual(
    snapshot(replayGovernance(docs, early)).namespaces,
    snapshot(
      replayGovernance(
        docs.filter((d) => d.doc.effective_after <= early),
        null,
      ),
    ).namespaces,
  );
});

test('a log that predates the governance log is adopted with default rules, once', async () => {
  const other = await startTestServer();
  try {
    await other.engine.createNamespace('old:log', {});
    // Until adopted it has default rules (version 0), so it stays usable.
    assert.equal(other.namespaces.directory.rules('old:log')?.version, 0);
    await other.namespaces.directory.adoptLegacyNamespaces();
    await other.namespaces.directory.adoptLegacyNamespaces();
    const docs = other.namespaces.directory.documents();
    assert.deepEqual(
      docs.map((d) => [d.doc.schema, 'namespace' in d.doc ? d.doc.namespace : '']),
      [['namespace.create@1.0.0', 'old:log']],
    );
    assert.equal(other.namespaces.directory.rules('old:log')?.version, 1);
  } finally {
    await other.close();
  }
});

test('a governance log holding an invalid document is refused at open, not replayed around', async () => {
  const other = await startTestServer();
  try {
    // Written beneath the directory (as a corrupted or foreign log would be).
    await other.engine.append('sys:governance', [
      new TextEncoder().encode('{"schema":"namespace.create@1.0.0","namespace":"x:y"}'),
    ]);
    await assert.rejects(
      () =>
        openNamespaceServices({
          engine: other.engine,
          dataDir: other.identity.dataDir,
          adminToken: 'x',
          operators: other.identity.governance,
        }),
      (e: unknown) =>
        (e as { code?: string }).code === 'STORAGE_FAILURE' &&
        /entry 0 is not a valid governance document/.test((e as Error).message),
    );
  } finally {
    await other.close();
  }
});
