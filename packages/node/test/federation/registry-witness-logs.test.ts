import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NoteSigner, createGenesis, crypto, proposeNext, signRegistry } from '@vaultmesh/core';
import { FederationRegistry, SqliteFederationStorage, RegistryWitnessLogs } from '../../src/federation/index.js';
import { StaticWitnessLogs } from '../../src/witness/index.js';
import { makePeer } from './federation-fixture.js';

// Which origins a node's witness cosigns: registry peers' namespace logs (not suspended, not
// refused after evidence) and the external C2SP logs allowlisted in config.
const dir = mkdtempSync(join(tmpdir(), 'remembrancer-witness-logs-'));
const store = SqliteFederationStorage.open(join(dir, 'federation.sqlite'));
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('registry peers, the config allowlist, suspension and refusal', async () => {
  const peers = ['alpha.test', 'beta.test', 'gamma.test'].map((id) => makePeer(id));
  let v1 = createGenesis({
    federation_id: 'wl',
    peers: peers.map((p) => p.entry),
    quorum: { witness: 1, registry: 2 },
    anchor_strategy: 'collaborative',
    memo: '',
    effective_after: '2026-01-01T00:00:00Z',
  });
  for (const p of peers) v1 = signRegistry(v1, p.id, p.authSeed);
  const registry = await FederationRegistry.open(store);
  await registry.offer(v1);

  const external = new NoteSigner('sum.example.org/log', crypto.randomBytes(32));
  const refused = new Set<string>();
  const logs = new RegistryWitnessLogs(
    registry,
    new StaticWitnessLogs({ 'sum.example.org/log': [external.vkey] }),
    (o) => refused.has(o),
  );

  const beta = logs.verifiersFor('beta.test/dao:x');
  assert.equal(beta?.length, 1);
  assert.equal(beta[0]!.name, 'beta.test/dao:x', 'the peer log key under the origin name');
  assert.equal(logs.verifiersFor('sum.example.org/log')?.[0]?.name, 'sum.example.org/log', 'allowlisted external log');
  assert.equal(logs.verifiersFor('unknown.test/dao:x'), undefined);
  assert.equal(logs.verifiersFor('beta.test'), undefined, 'an origin needs a namespace part');

  refused.add('beta.test/dao:x');
  assert.equal(logs.verifiersFor('beta.test/dao:x'), undefined, 'refused after evidence');
  refused.clear();

  let v2 = proposeNext(v1, {
    peers: v1.peers.map((p) => (p.id === 'gamma.test' ? { ...p, status: 'suspended' as const } : p)),
  });
  v2 = signRegistry(signRegistry(v2, 'alpha.test', peers[0]!.authSeed), 'beta.test', peers[1]!.authSeed);
  await registry.offer(v2);
  assert.equal(logs.verifiersFor('gamma.test/dao:x'), undefined, 'a suspended peer is not witnessed');
});
