import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  CosignatureSigner,
  base64Encode,
  buildReceipt,
  canonicalBytes,
  formatSignatureLine,
  parseTlogPolicy,
  proposeNext,
  utf8Decode,
  verifyReceipt,
} from '@vaultmesh/core';
import { FederationRegistry } from '../../src/federation/federation-registry.js';
import type { FederationStorage } from '../../src/federation/federation-storage.js';
import { SqliteFederationStorage } from '../../src/federation/sqlite-federation-storage.js';
import type { LogEngine, NamespaceRecord, PublishedCheckpoint } from '../../src/log/log-engine.js';
import { openLogEngine } from '../../src/log/index.js';
import { SealedCheckpoints, type WitnessPolicy } from '../../src/namespaces/sealing.js';
import { LOG_SEED, NODE_NAME, tempDirs } from '../log/engine-fixture.js';
import { genesisOf, makePeer, signedBy, type TestPeer } from '../federation/federation-fixture.js';

const dirs = tempDirs('remembrancer-sealing-');
const alpha = makePeer(NODE_NAME);
const beta = makePeer('beta.vaultmesh.test');
const gamma = makePeer('gamma.vaultmesh.test');
const delta = makePeer('delta.vaultmesh.test');
const NS = 'dao:vaultmesh';

let engine: LogEngine;
let store: FederationStorage;
let registry: FederationRegistry;
let ns: NamespaceRecord;
const policies = new Map<string, WitnessPolicy>();
let sealing: SealedCheckpoints;

before(async () => {
  const dir = dirs.make();
  engine = await openLogEngine({
    dataDir: dir,
    nodeName: NODE_NAME,
    logSeed: LOG_SEED,
    checkpointIntervalMs: 0,
    synchronous: 'NORMAL',
  });
  store = SqliteFederationStorage.open(join(dirs.make() + '-fed.sqlite'));
  registry = await FederationRegistry.open(store);
  assert.equal(await registry.offer(genesisOf([alpha, beta, gamma, delta])), true);
  ns = await engine.createNamespace(NS);
  sealing = new SealedCheckpoints({ engine, registry, store, witnessPolicy: (id) => policies.get(id) });
});

after(async () => {
  await engine.close();
  await store.close();
  dirs.cleanup();
});

let appended = 0;
/** Appends n entries and publishes a checkpoint covering them. */
async function grow(n = 1, nsId = NS): Promise<PublishedCheckpoint> {
  // Canonical JSON (RFC 8785), as the HTTP layer stores entries, so receipts can be built from them.
  await engine.append(
    nsId,
    Array.from({ length: n }, () => canonicalBytes({ memo: `entry ${appended++}` })),
  );
  return (await engine.publishCheckpoint(nsId))!;
}

const witnessOf = (p: TestPeer, seed = p.witnessSeed) => new CosignatureSigner(`${p.id}/witness`, seed);

/** Stores `signer`'s cosignature of cp under witness id `as` (the peer id the cosigner files it under). */
async function cosign(
  cp: PublishedCheckpoint,
  p: TestPeer,
  { as = p.id, signer = witnessOf(p), origin = ns.origin } = {},
): Promise<void> {
  const body = cp.note.slice(0, cp.note.indexOf('\n\n') + 1);
  const sig = signer.cosign(body, 1_700_000_000 + cp.size);
  await store.addCosignature(
    origin,
    cp.size,
    base64Encode(cp.root),
    as,
    formatSignatureLine(sig),
    1_700_000_000 + cp.size,
  );
}

async function note(cp: PublishedCheckpoint): Promise<string> {
  const lines = await store.cosignatures(ns.origin, cp.size, base64Encode(cp.root));
  return cp.note + lines.map((l) => l.line).join('');
}

test('sealed iff k distinct allowlisted registry peers cosigned exactly that checkpoint', async () => {
  policies.set(NS, { min_required: 2, allowlist: [beta.id, gamma.id, delta.id, 'zeta.vaultmesh.test'] });
  const cp = await grow(3);
  const state = () => sealing.sealState(ns, cp);
  assert.deepEqual(await state(), {
    sealed: false,
    min_required: 2,
    allowlist: [beta.id, gamma.id, delta.id, 'zeta.vaultmesh.test'],
    cosigners: [],
  });

  await cosign(cp, beta);
  assert.deepEqual((await state()).cosigners, [beta.id]);
  assert.equal((await state()).sealed, false);
  // beta's cosignature filed under another allowlisted id does not make a second witness...
  await cosign(cp, beta, { as: delta.id });
  // ...nor does one filed under an id the registry does not know, or one not allowlisted.
  await cosign(cp, beta, { as: 'zeta.vaultmesh.test' });
  await cosign(cp, alpha);
  assert.deepEqual((await state()).cosigners, [beta.id]);
  assert.equal((await state()).sealed, false);
  // A cosignature of another checkpoint (the next one) counts only for that one.
  const next = await grow(1);
  await cosign(next, gamma);
  assert.equal((await state()).sealed, false);
  assert.deepEqual((await sealing.sealState(ns, next)).cosigners, [gamma.id]);

  await cosign(cp, gamma);
  assert.deepEqual(await state(), {
    sealed: true,
    min_required: 2,
    allowlist: [beta.id, gamma.id, delta.id, 'zeta.vaultmesh.test'],
    cosigners: [beta.id, gamma.id],
  });
});

test('k = 0, an unknown namespace policy, and a duplicated allowlist', async () => {
  const cp = await grow(1);
  policies.set(NS, { min_required: 0, allowlist: [beta.id] });
  assert.deepEqual(await sealing.sealState(ns, cp), {
    sealed: true,
    min_required: 0,
    allowlist: [beta.id],
    cosigners: [],
  });
  await cosign(cp, beta);
  assert.deepEqual(
    (await sealing.sealState(ns, cp)).cosigners,
    [beta.id],
    'cosigners are reported even when none are needed',
  );
  policies.delete(NS);
  assert.deepEqual(await sealing.sealState(ns, cp), { sealed: true, min_required: 0, allowlist: [], cosigners: [] });
  policies.set(NS, { min_required: 2, allowlist: [beta.id, beta.id, gamma.id] });
  assert.deepEqual(await sealing.sealState(ns, cp), {
    sealed: false,
    min_required: 2,
    allowlist: [beta.id, gamma.id],
    cosigners: [beta.id],
  });
  policies.set(NS, { min_required: -1, allowlist: [] });
  await assert.rejects(sealing.sealState(ns, cp), { code: 'POLICY_INVALID' });
});

test('latestSealed: newest sealed checkpoint, cached until the latest checkpoint or its cosigners change', async () => {
  policies.set(NS, { min_required: 1, allowlist: [beta.id] });
  let historyCalls = 0;
  const counting = new Proxy(engine, {
    get(target, prop) {
      if (prop === 'checkpointHistory') {
        return async (id: string, limit?: number) => {
          historyCalls++;
          return await target.checkpointHistory(id, limit);
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  const s = new SealedCheckpoints({ engine: counting, registry, store, witnessPolicy: (id) => policies.get(id) });

  const cp1 = await grow(2);
  await cosign(cp1, beta);
  assert.equal((await s.latestSealed(ns))?.checkpoint.size, cp1.size, 'the latest itself is sealed: no scan');
  assert.equal(historyCalls, 0);

  const cp2 = await grow(1);
  assert.equal((await s.latestSealed(ns))?.checkpoint.size, cp1.size);
  assert.deepEqual((await s.latestSealed(ns))?.state.cosigners, [beta.id]);
  assert.equal(historyCalls, 1, 'a second call with nothing changed does not rescan');

  await cosign(cp2, gamma); // not allowlisted: nothing changes
  assert.equal((await s.latestSealed(ns))?.checkpoint.size, cp1.size);
  await cosign(cp2, beta);
  assert.equal((await s.latestSealed(ns))?.checkpoint.size, cp2.size);

  const cp3 = await grow(1);
  await grow(1);
  historyCalls = 0;
  assert.equal((await s.latestSealed(ns))?.checkpoint.size, cp2.size);
  assert.equal(historyCalls, 1);
  // A late cosignature on an older checkpoint is seen once the cache is invalidated.
  await cosign(cp3, beta);
  s.invalidate(NS);
  assert.equal((await s.latestSealed(ns))?.checkpoint.size, cp3.size);

  // A stricter policy is applied at once; the scan is bounded by scanLimit.
  policies.set(NS, { min_required: 2, allowlist: [beta.id, gamma.id] });
  assert.equal((await s.latestSealed(ns))?.checkpoint.size, cp2.size);
  const bounded = new SealedCheckpoints({
    engine,
    registry,
    store,
    witnessPolicy: (id) => policies.get(id),
    scanLimit: 2,
  });
  assert.equal(await bounded.latestSealed(ns), undefined, 'cp2 is three checkpoints back');
  assert.equal(
    (
      await new SealedCheckpoints({
        engine,
        registry,
        store,
        witnessPolicy: (id) => policies.get(id),
        scanLimit: 4,
      }).latestSealed(ns)
    )?.checkpoint.size,
    cp2.size,
  );
  assert.throws(
    () => new SealedCheckpoints({ engine, registry, store, witnessPolicy: () => undefined, scanLimit: 0 }),
    { code: 'INVALID_ARGUMENT' },
  );
});

test('policyText is a tlog-policy that verifies exactly the receipts the node calls sealed', async () => {
  policies.set(NS, { min_required: 2, allowlist: [beta.id, gamma.id, delta.id] });
  const cp = await grow(2);
  await cosign(cp, beta);
  const text = sealing.policyText(ns);
  const policy = parseTlogPolicy(text);
  assert.deepEqual(policy.logs, [{ vkey: ns.logVkey, url: alpha.entry.endpoint }]);
  assert.deepEqual(
    policy.witnesses.map((w) => [w.name, w.vkey, w.url]),
    [beta, gamma, delta].map((p) => [p.id, p.entry.witness_vkey, `${p.entry.endpoint}/v1/witness`]),
  );
  assert.deepEqual(policy.groups, [{ name: `${NS}/witnesses`, threshold: 2, members: [beta.id, gamma.id, delta.id] }]);
  assert.equal(policy.quorum, `${NS}/witnesses`);
  assert.match(text, /^# Witness policy of namespace dao:vaultmesh .*2 distinct allowlisted witnesses cosigned it\.\n/);

  const index = cp.size - 1;
  const receiptAt = async () =>
    buildReceipt({
      namespace: NS,
      origin: ns.origin,
      index,
      entry: JSON.parse(utf8Decode((await engine.getEntry(NS, index))!)) as unknown,
      proof: await engine.inclusionProof(NS, index, cp.size),
      checkpointNote: await note(cp),
    });
  assert.equal((await sealing.sealState(ns, cp)).sealed, false);
  const unsealed = verifyReceipt(await receiptAt(), { logVkeys: [], policy: text });
  assert.equal(unsealed.ok, false);
  assert.equal(unsealed.checks.at(-1)!.code, 'POLICY_NOT_MET');
  await cosign(cp, delta);
  assert.equal((await sealing.sealState(ns, cp)).sealed, true);
  const sealed = verifyReceipt(await receiptAt(), { logVkeys: [], policy: text });
  assert.ok(sealed.ok, JSON.stringify(sealed.checks));
  assert.deepEqual(sealed.policy?.cosigners, [beta.id, delta.id]);
});

test('policyText: quorum none for k = 0, peers missing from the registry named, unsatisfiable k refused', async () => {
  policies.set(NS, { min_required: 0, allowlist: [] });
  const none = sealing.policyText(ns);
  assert.deepEqual(parseTlogPolicy(none).quorum, 'none');
  assert.match(none, /no cosignature required/);
  const withUrl = new SealedCheckpoints({
    engine,
    registry,
    store,
    witnessPolicy: (id) => policies.get(id),
    nodeUrl: () => 'https://alpha.example/api',
  });
  assert.deepEqual(parseTlogPolicy(withUrl.policyText(ns)).logs, [
    { vkey: ns.logVkey, url: 'https://alpha.example/api' },
  ]);

  policies.set(NS, { min_required: 1, allowlist: ['zeta.vaultmesh.test', beta.id] });
  const text = sealing.policyText(ns);
  assert.match(text, /^# Allowlisted but not counted: zeta\.vaultmesh\.test \(not in the federation registry\)\.$/m);
  assert.deepEqual(
    parseTlogPolicy(text).witnesses.map((w) => w.name),
    [beta.id],
  );
  assert.deepEqual(parseTlogPolicy(text).groups[0], { name: `${NS}/witnesses`, threshold: 1, members: [beta.id] });

  policies.set(NS, { min_required: 2, allowlist: ['zeta.vaultmesh.test', beta.id] });
  assert.throws(
    () => sealing.policyText(ns),
    (e: Error & { code?: string }) =>
      e.code === 'POLICY_INVALID' &&
      /requires 2 witnesses but only 1 allowlisted peer has/.test(e.message) &&
      /zeta/.test(e.message),
  );
});

test('registry changes: suspended peers and rotated-away witness keys no longer count', async () => {
  policies.set(NS, { min_required: 2, allowlist: [beta.id, gamma.id, delta.id] });
  const cp = await grow(1);
  await cosign(cp, beta);
  await cosign(cp, gamma);
  assert.equal((await sealing.sealState(ns, cp)).sealed, true);
  assert.equal((await sealing.latestSealed(ns))?.checkpoint.size, cp.size);

  // v2: gamma suspended, delta rotates its witness key.
  const v1 = registry.latest()!;
  const newDeltaSeed = new Uint8Array(32).fill(77);
  const peers = v1.peers.map((p) =>
    p.id === gamma.id
      ? { ...p, status: 'suspended' as const }
      : p.id === delta.id
        ? { ...p, witness_vkey: witnessOf(delta, newDeltaSeed).vkey }
        : p,
  );
  assert.equal(await registry.offer(signedBy(proposeNext(v1, { peers }), [alpha, beta, gamma, delta])), true);
  assert.deepEqual((await sealing.sealState(ns, cp)).cosigners, [beta.id]);
  assert.equal(await sealing.latestSealed(ns), undefined, 'the cached answer is dropped when the registry changes');
  assert.match(sealing.policyText(ns), /not counted: gamma\.vaultmesh\.test \(suspended\)/);

  await cosign(cp, delta); // with the old key: the store would not have accepted it after the rotation
  assert.deepEqual((await sealing.sealState(ns, cp)).cosigners, [beta.id]);
  await cosign(cp, delta, { signer: witnessOf(delta, newDeltaSeed) });
  assert.deepEqual((await sealing.sealState(ns, cp)).cosigners, [beta.id, delta.id]);
  assert.equal((await sealing.latestSealed(ns))?.checkpoint.size, cp.size);
});
