import { after, before, describe, test } from 'node:test';
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
import { FederationStore } from '../../src/federation/federation-store.js';
import { peerCredentials } from '../../src/federation/peer-client.js';
import { ANCHOR_DB_FILE, AnchorStore } from '../../src/anchoring/anchor-store.js';
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

// The one-root-per-epoch rule (issue 10, item 5) on a real store and registry: a node signs at
// most one root per (target, epoch), the record is on disk before the signature is returned,
// and it survives a restart; every leaf is checked before anything is signed.
const EPOCH_MS = 60_000;
const EPOCH = 480_000;
/** Just after the epoch closed. */
const NOW = (EPOCH + 1) * EPOCH_MS + 10;

let dir: string;
let fedStore: FederationStore;
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

function signerAt(path: string, now = NOW): { signer: EpochSigner; store: AnchorStore } {
  const store = new AnchorStore(path);
  const signer = new EpochSigner({
    self: alpha.id,
    registry: new FederationRegistry(fedStore),
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

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'remembrancer-epoch-signer-'));
  fedStore = new FederationStore(join(dir, 'federation.sqlite'));
  registry = signedGenesis();
  assert.ok(new FederationRegistry(fedStore).offer(registry));
});

after(() => {
  fedStore.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('EpochSigner', () => {
  test('signs a valid proposal with its auth key; asked again, it gives the same signature', () => {
    const { signer, store } = signerAt(join(dir, 'a', ANCHOR_DB_FILE));
    try {
      const p = proposal();
      const s1 = signer.sign(p.statement, p.leaves);
      assert.equal(s1.node, alpha.id);
      assert.ok(verifyEpochStatementSignature(p.statement, peerAuthPublicKey(alpha.peer), s1.sig));
      assert.deepEqual(signer.sign(p.statement, p.leaves), s1);
    } finally {
      store.close();
    }
  });

  test('"A node signs at most one root per (target, epoch), persisted before the signature leaves the node": a second root is EPOCH_CONFLICT, after a restart too', () => {
    const path = join(dir, 'b', ANCHOR_DB_FILE);
    const first = signerAt(path);
    const p = proposal(7);
    first.signer.sign(p.statement, p.leaves);
    const other = proposal(8);
    assert.throws(() => first.signer.sign(other.statement, other.leaves), { code: 'EPOCH_CONFLICT' });
    first.store.close();
    // A restart reads the record from disk: still one root.
    const again = signerAt(path);
    try {
      assert.throws(() => again.signer.sign(other.statement, other.leaves), { code: 'EPOCH_CONFLICT' });
      assert.equal(again.store.signedRoot(TARGET, EPOCH, 'collaborative')?.statement.root, p.statement.root);
    } finally {
      again.store.close();
    }
  });

  test('every leaf is verified before signing: a forged log signature or too few cosignatures is refused, nothing recorded', () => {
    const { signer, store } = signerAt(join(dir, 'c', ANCHOR_DB_FILE));
    try {
      const p = proposal();
      // gamma's name, another log key: the registry's key for gamma's origins does not verify it.
      const impostor = makePeer('gamma', 3, { logSeed: new Uint8Array(32).fill(9) });
      const forgedTree = buildEpochTree([p.leaves[0]!, sealedLeaf(impostor, 'dao:vaultmesh', 7)]);
      const forged = statementFor(forgedTree, { epoch: EPOCH }, registry);
      assert.throws(() => signer.sign(forged, [...forgedTree.leaves]), /log signature|does not verify/);
      const weak = sealedLeaf(gamma, 'dao:vaultmesh', 7, { cosigners: [beta], min: 2 });
      const weakTree = buildEpochTree([p.leaves[0]!, weak]);
      const s = statementFor(weakTree, { epoch: EPOCH }, registry);
      assert.throws(() => signer.sign(s, [...weakTree.leaves]), /cosignatures/);
      assert.equal(store.signedRoot(TARGET, EPOCH, 'collaborative'), undefined);
    } finally {
      store.close();
    }
  });

  test('refuses an epoch that has not closed by its clock and the skew window', () => {
    const { signer, store } = signerAt(join(dir, 'd', ANCHOR_DB_FILE), EPOCH * EPOCH_MS);
    try {
      const p = proposal();
      assert.throws(() => signer.sign(p.statement, p.leaves), /closes at/);
    } finally {
      store.close();
    }
  });

  test('refuses a statement the leaves do not make, leaves out of order, another registry version, target or mode', () => {
    const { signer, store } = signerAt(join(dir, 'e', ANCHOR_DB_FILE));
    try {
      const p = proposal();
      assert.throws(() => signer.sign({ ...p.statement, tree_size: 3 }, p.leaves), { code: 'EPOCH_REFUSED' });
      assert.throws(() => signer.sign(p.statement, [...p.leaves].reverse()), /order/);
      assert.throws(() => signer.sign({ ...p.statement, registry_version: 2 }, p.leaves), { code: 'REGISTRY_STALE' });
      assert.throws(() => signer.sign({ ...p.statement, target: 'rfc3161:other' }, p.leaves), {
        code: 'ANCHOR_TARGET_UNKNOWN',
      });
      assert.throws(() => signer.sign({ ...p.statement, mode: 'independent', node: beta.id }, p.leaves), {
        code: 'EPOCH_REFUSED',
      });
      assert.equal(store.signedRoot(TARGET, EPOCH, 'collaborative'), undefined);
    } finally {
      store.close();
    }
  });
});
