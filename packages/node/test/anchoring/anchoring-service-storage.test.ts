// The anchoring service over its storage on both backends (issue 14): one node anchoring alone
// (independent strategy) at a real openssl TSA behind HTTP, its anchoring state and cadence in
// SQLite files or in PostgreSQL tables. A namespace whose cadence comes due is anchored once; the
// status, epochs, namespace view and entry anchors read it back from the storage, and the
// entry's federation receipt verifies offline.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  NoteSigner,
  canonicalBytes,
  createGenesis,
  peerAuthKeyName,
  signRegistry,
  verifyFederationReceipt,
  type RegistrySet,
} from '@vaultmesh/core';
import { initNode, type NodeIdentity } from '../../src/config/node-config.js';
import { FederationRegistry } from '../../src/federation/federation-registry.js';
import { localPeerEntry } from '../../src/federation/local-peer.js';
import { peerCredentials } from '../../src/federation/peer-client.js';
import { SqliteFederationStorage } from '../../src/federation/sqlite-federation-storage.js';
import { openLogEngine } from '../../src/log/index.js';
import type { LogEngine } from '../../src/log/log-engine.js';
import { anchorTargets } from '../../src/anchoring/anchor-targets.js';
import { AnchoringService } from '../../src/anchoring/anchoring-service.js';
import { startDevTsa, type DevTsa } from '../../src/anchoring/index.js';
import { CadenceScheduler } from '../../src/namespaces/cadence-scheduler.js';
import { LogSignatureSealing } from '../../src/namespaces/sealing-without-witnesses.js';
import { waitFor } from '../federation/federation-fixture.js';
import { forEachBackend } from '../storage/backend-suite.js';
import { nodeStoragesAt } from './anchor-storage-fixtures.js';
import { TARGET, anchoringSettings, trustFor, type Federation } from './in-process-federation.js';

const NS = 'dao:anchored';

let dir: string;
let tsa: DevTsa;
let identity: NodeIdentity;
let registrySet: RegistrySet;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'remembrancer-anchoring-service-'));
  tsa = await startDevTsa({ dir: join(dir, 'tsa') });
  identity = initNode(join(dir, 'node'), 'alpha.storage.test', {
    anchoring: anchoringSettings(tsa),
  });
  const genesis = createGenesis({
    federation_id: 'anchoring-storage',
    peers: [localPeerEntry(identity)],
    quorum: { witness: 1, registry: 1 },
    anchor_strategy: 'independent',
    effective_after: '2026-01-01T00:00:00Z',
  });
  registrySet = signRegistry(genesis, identity.config.name, identity.peerSeed);
});

after(async () => {
  await tsa.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A log with one namespace of two entries and a checkpoint, in its own directory. */
async function logWithEntries(logDir: string): Promise<LogEngine> {
  const engine = await openLogEngine({
    dbPath: join(logDir, 'log.sqlite'),
    nodeName: identity.config.name,
    logSeed: identity.logSeed,
    checkpointIntervalMs: 60_000,
    synchronous: 'NORMAL',
  });
  await engine.createNamespace(NS);
  await engine.append(NS, [canonicalBytes({ n: 1 }), canonicalBytes({ n: 2 })]);
  await engine.publishCheckpoint(NS);
  return engine;
}

forEachBackend('AnchoringService', (freshPlace) => {
  test(
    'a due namespace is anchored alone once; status, epochs, namespace view and entry anchors read it back',
    {
      timeout: 60_000,
    },
    async () => {
      const place = await freshPlace();
      const logDir = mkdtempSync(join(dir, 'log-'));
      const engine = await logWithEntries(logDir);
      const federation = SqliteFederationStorage.open(join(logDir, 'federation.sqlite'));
      const { anchoring: storage, cadence: cadenceStorage } = await nodeStoragesAt(place);
      const cadence = new CadenceScheduler({ storage: cadenceStorage });
      let service: AnchoringService | undefined;
      try {
        const registry = await FederationRegistry.open(federation);
        assert.ok(await registry.offer(registrySet));
        await cadence.apply(NS, { fast: { target: TARGET, every: '1s', confirmations: 0 } }, Date.now() - 10_000);
        service = new AnchoringService({
          storage,
          self: identity.config.name,
          config: identity.anchoring,
          registry,
          engine,
          sealing: new LogSignatureSealing(engine),
          cadence,
          checkpointNote: (_origin, cp) => cp.note,
          witnessPolicy: () => undefined,
          creds: peerCredentials(
            new NoteSigner(peerAuthKeyName(identity.config.name), identity.peerSeed).keyId,
            identity.peerSeed,
          ),
          targets: anchorTargets(identity.anchoring),
        });
        await service.start();
        const s = service;
        const record = engine.getNamespace(NS)!;
        const anchors = await waitFor(
          'an anchor of entry 1',
          async () => {
            const found = await s.anchorsFor(record, 1, 2);
            return found.length > 0 ? found : undefined;
          },
          30_000,
        );
        await service.stop();

        assert.equal(anchors.length, 1);
        const receipt = anchors[0]!.federation_receipt;
        assert.equal(receipt.statement.mode, 'independent');
        const fed = { registry: registrySet, tsa } as Federation;
        const verified = await verifyFederationReceipt(receipt, trustFor(fed));
        assert.ok(verified.ok, JSON.stringify(verified.checks));

        const status = await service.status();
        const t = status.targets[0]!;
        assert.equal(t.target, TARGET);
        assert.equal(t.finalized['independent'], 1, JSON.stringify(t));
        assert.equal(t.target_requests, 1);
        assert.equal(t.pending_leaves, 0, 'the anchored due left the queue');
        assert.equal(t.last_finalized?.epoch, receipt.statement.epoch);
        const epochs = await service.epochs(TARGET, Number.MAX_SAFE_INTEGER, 10);
        assert.deepEqual(
          epochs.filter((e) => e.epoch.status === 'finalized').map((e) => e.epoch.epoch),
          [receipt.statement.epoch],
        );
        assert.deepEqual(await service.namespaceView(record), {
          [TARGET]: { configured: true, anchored_size: 2, queued: false },
        });
      } finally {
        await service?.stop();
        await (service ? service.close() : storage.close());
        await cadence.close();
        await federation.close();
        await engine.close();
      }
    },
  );
});
