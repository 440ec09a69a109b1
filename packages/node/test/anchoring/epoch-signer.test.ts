import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  NoteSigner,
  buildEpochTree,
  signRegistry,
  verifyEpochStatementSignature,
  peerAuthPublicKey,
  type RegistrySet,
} from '@vaultmesh/core';
import { parseAnchoringConfig } from '../../src/config/anchoring-config.js';
import { FederationRegistry } from '../../src/federation/federation-registry.js';
import { SqliteFederationStorage } from '../../src/federation/sqlite-federation-storage.js';
import { peerCredentials } from '../../src/federation/peer-client.js';
import type { AnchorStorage } from '../../src/anchoring/anchor-storage.js';
import { EpochSigner } from '../../src/anchoring/epoch-signer.js';
import {
  TARGET,
  alpha,
  beta,
  delta,
  epsilon,
  eta,
  federation,
  gamma,
  sealedLeaf,
  statementFor,
  zeta,
} from '../../../core/test/anchoring/federation.js';
import { makePeer } from '../../../core/test/federation/peers.js';
import { forEachBackend, type StorePlace } from '../storage/backend-suite.js';
import { openAnchorStorage } from './anchor-storage-fixtures.js';

// The one-root-per-epoch rule (issue 10, item 5) on a real storage (SQLite and PostgreSQL) and
// registry: a node signs at most one root per (target, epoch), the record is stored before the
// signature is returned, and it survives a restart (and holds across front ends); every leaf is
// checked before anything is signed.
const EPOCH_MS = 60_000;
const EPOCH = 480_000;
/** Just after the epoch closed. */
const NOW = (EPOCH + 1) * EPOCH_MS + 10;

let dir: string;
let fedStorage: SqliteFederationStorage;
let fedRegistry: FederationRegistry;
let registry: RegistrySet;

function signedGenesis(): RegistrySet {
  let g = federation('collaborative');
  for (const p of [alpha, beta, gamma, delta, epsilon, eta, zeta]) g = signRegistry(g, p.id, p.authSeed);
  return g;
}

const config = parseAnchoringConfig(
  {
    targets: {
      [TARGET]: {
        tsas: [
          {
            url: 'http://127.0.0.1:1/',
            trustAnchors: ['-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----'],
          },
        ],
        epochMs: EPOCH_MS,
      },
    },
    maxClockSkewMs: 5_000,
  },
  'config.json',
  '/nonexistent',
);

async function signerAt(place: StorePlace, now = NOW): Promise<{ signer: EpochSigner; store: AnchorStorage }> {
  const store = await openAnchorStorage(place);
  const signer = new EpochSigner({
    self: alpha.id,
    registry: fedRegistry,
    store,
    creds: peerCredentials(new NoteSigner(`${alpha.id}/peer`, alpha.authSeed).keyId, alpha.authSeed),
    config,
    now: () => now,
  });
  return { signer, store };
}

function proposal(size = 7) {
  const leaves = [
    sealedLeaf(beta, 'dao:treasury', 12, { cosigners: [alpha, gamma], allowlist: [alpha, gamma] }),
    sealedLeaf(gamma, 'dao:vaultmesh', size),
  ];
  const tree = buildEpochTree(leaves);
  return { statement: statementFor(tree, { epoch: EPOCH }, registry), leaves: [...tree.leaves] };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'remembrancer-epoch-signer-'));
  fedStorage = SqliteFederationStorage.open(join(dir, 'federation.sqlite'));
  registry = signedGenesis();
  fedRegistry = await FederationRegistry.open(fedStorage);
  assert.ok(await fedRegistry.offer(registry));
});

after(async () => {
  await fedStorage.close();
  rmSync(dir, { recursive: true, force: true });
});

forEachBackend('EpochSigner', (freshPlace) => {
  test('signs a valid proposal with its auth key; asked again, it gives the same signature', async () => {
    const { signer, store } = await signerAt(await freshPlace());
    try {
      const p = proposal();
      const s1 = await signer.sign(p.statement, p.leaves);
      assert.equal(s1.node, alpha.id);
      assert.ok(verifyEpochStatementSignature(p.statement, peerAuthPublicKey(alpha.peer), s1.sig));
      assert.deepEqual(await signer.sign(p.statement, p.leaves), s1);
    } finally {
      await store.close();
    }
  });

  test('"A node signs at most one root per (target, epoch), persisted before the signature leaves the node": a second root is EPOCH_CONFLICT, after a restart too', async () => {
    const place = await freshPlace();
    const first = await signerAt(place);
    const p = proposal(7);
    await first.signer.sign(p.statement, p.leaves);
    const other = proposal(8);
    await assert.rejects(first.signer.sign(other.statement, other.leaves), { code: 'EPOCH_CONFLICT' });
    await first.store.close();
    // A restart reads the record from storage: still one root.
    const again = await signerAt(place);
    try {
      await assert.rejects(again.signer.sign(other.statement, other.leaves), { code: 'EPOCH_CONFLICT' });
      assert.equal((await again.store.signedRoot(TARGET, EPOCH, 'collaborative'))?.statement.root, p.statement.root);
    } finally {
      await again.store.close();
    }
  });

  test('two signers over one storage (front ends) asked for two roots at once: one root is signed, the other refused', async () => {
    const place = await freshPlace();
    const a = await signerAt(place);
    const b = await signerAt(place);
    try {
      const p = proposal(7);
      const other = proposal(8);
      const [x, y] = await Promise.allSettled([
        a.signer.sign(p.statement, p.leaves),
        b.signer.sign(other.statement, other.leaves),
      ]);
      const signed = [x, y].filter((r) => r.status === 'fulfilled');
      const refused = [x, y].filter((r) => r.status === 'rejected');
      assert.equal(signed.length, 1);
      assert.equal(refused.length, 1);
      assert.equal((refused[0] as PromiseRejectedResult).reason.code, 'EPOCH_CONFLICT');
      const kept = (await a.store.signedRoot(TARGET, EPOCH, 'collaborative'))?.statement.root;
      assert.equal((signed[0] as PromiseFulfilledResult<{ root: string }>).value.root, kept);
    } finally {
      await a.store.close();
      await b.store.close();
    }
  });

  test('every leaf is verified before signing: a forged log signature or too few cosignatures is refused, nothing recorded', async () => {
    const { signer, store } = await signerAt(await freshPlace());
    try {
      const p = proposal();
      // gamma's name, another log key: the registry's key for gamma's origins does not verify it.
      const impostor = makePeer('gamma', 3, { logSeed: new Uint8Array(32).fill(9) });
      const forgedTree = buildEpochTree([p.leaves[0]!, sealedLeaf(impostor, 'dao:vaultmesh', 7)]);
      const forged = statementFor(forgedTree, { epoch: EPOCH }, registry);
      await assert.rejects(signer.sign(forged, [...forgedTree.leaves]), /log signature|does not verify/);
      const weak = sealedLeaf(gamma, 'dao:vaultmesh', 7, { cosigners: [beta], min: 2 });
      const weakTree = buildEpochTree([p.leaves[0]!, weak]);
      const s = statementFor(weakTree, { epoch: EPOCH }, registry);
      await assert.rejects(signer.sign(s, [...weakTree.leaves]), /cosignatures/);
      assert.equal(await store.signedRoot(TARGET, EPOCH, 'collaborative'), undefined);
    } finally {
      await store.close();
    }
  });

  test('refuses an epoch that has not closed by its clock and the skew window', async () => {
    const { signer, store } = await signerAt(await freshPlace(), EPOCH * EPOCH_MS);
    try {
      const p = proposal();
      await assert.rejects(signer.sign(p.statement, p.leaves), /closes at/);
    } finally {
      await store.close();
    }
  });

  test('refuses a statement the leaves do not make, leaves out of order, another registry version, target or mode', async () => {
    const { signer, store } = await signerAt(await freshPlace());
    try {
      const p = proposal();
      await assert.rejects(signer.sign({ ...p.statement, tree_size: 3 }, p.leaves), { code: 'EPOCH_REFUSED' });
      await assert.rejects(signer.sign(p.statement, [...p.leaves].reverse()), /order/);
      await assert.rejects(signer.sign({ ...p.statement, registry_version: 2 }, p.leaves), {
        code: 'REGISTRY_STALE',
      });
      await assert.rejects(signer.sign({ ...p.statement, target: 'rfc3161:other' }, p.leaves), {
        code: 'ANCHOR_TARGET_UNKNOWN',
      });
      await assert.rejects(signer.sign({ ...p.statement, mode: 'independent', node: beta.id }, p.leaves), {
        code: 'EPOCH_REFUSED',
      });
      assert.equal(await store.signedRoot(TARGET, EPOCH, 'collaborative'), undefined);
    } finally {
      await store.close();
    }
  });
});
