import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signEpochStatement, verifyEpochEquivocationWithRegistry, type EpochStatement } from '@vaultmesh/core';
import {
  EpochEquivocationDetector,
  EvidenceLedger,
  FederationRegistry,
  SqliteFederationStorage,
  type FederationStorage,
  isEpochEvidence,
  peerCredentials,
} from '../../src/federation/index.js';
import { epochStatement as statement, genesisOf, makePeer, type TestPeer } from './federation-fixture.js';

// The detector with a real store, registry and ledger, and real keys: gamma, a dishonest peer,
// signs two roots for one epoch; alpha's node sees both and proves it.
const [alpha, beta, gamma] = ['alpha.test', 'beta.test', 'gamma.test'].map((id) => makePeer(id)) as [
  TestPeer,
  TestPeer,
  TestPeer,
];

let dir: string;
let store: FederationStorage;
let registry: FederationRegistry;
let ledger: EvidenceLedger;
let detector: EpochEquivocationDetector;

async function open(): Promise<void> {
  store = SqliteFederationStorage.open(join(dir, 'federation.sqlite'));
  registry = await FederationRegistry.open(store);
  ledger = await EvidenceLedger.open({ store, registry, self: alpha.id, creds: peerCredentials(0, alpha.authSeed) });
  detector = new EpochEquivocationDetector({ self: alpha.id, registry, ledger, store });
}

async function close(): Promise<void> {
  await detector.settled();
  await ledger.close();
  await store.close();
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'remembrancer-epoch-equivocation-'));
  await open();
  assert.equal(await registry.offer(genesisOf([alpha, beta, gamma])), true);
});

after(async () => {
  await close();
  rmSync(dir, { recursive: true, force: true });
});

const sig = (s: EpochStatement, p: TestPeer) => ({ node: p.id, sig: signEpochStatement(s, p.authSeed) });
/** The epoch evidence held once every signature observed so far has been compared. */
async function epochDocs() {
  await detector.settled();
  return (await ledger.list()).filter((e) => isEpochEvidence(e.doc));
}

test('one root per signer and epoch is no evidence, however often it is seen', async () => {
  const s = statement(10, 'root A');
  detector.observe(s, [sig(s, beta), sig(s, gamma)]);
  detector.observe(s, [sig(s, gamma)]);
  assert.equal((await epochDocs()).length, 0);
  assert.equal(detector.offenders(s).size, 0);
});

test('a signature that does not verify is neither remembered nor evidence', async () => {
  const a = statement(11, 'root A');
  const b = statement(11, 'root B');
  // Beta's key under gamma's name, then gamma's real signature on another root: no evidence,
  // since the first was never gamma's.
  detector.observe(a, [{ node: gamma.id, sig: signEpochStatement(a, beta.authSeed) }]);
  detector.observe(b, [sig(b, gamma)]);
  detector.observe({ ...a, root: 'not a hash' }, [sig(a, gamma)]);
  detector.observe(a, [
    { node: 'omega.test', sig: signEpochStatement(a, gamma.authSeed) },
    { node: 7, sig: null },
  ]);
  assert.equal((await epochDocs()).length, 0);
});

test("a peer's second root for one epoch becomes evidence that verifies offline; it no longer counts there", async () => {
  const a = statement(12, 'root A');
  const b = statement(12, 'root B', 3);
  detector.observe(a, [sig(a, beta), sig(a, gamma)]);
  detector.observe(b, [sig(b, gamma)]);
  const docs = await epochDocs();
  assert.equal(docs.length, 1);
  const [held] = docs;
  assert.equal(held!.origin, gamma.id);
  const verified = verifyEpochEquivocationWithRegistry(held!.doc, registry.versions());
  assert.equal(verified.signer, gamma.id);
  assert.equal(verified.detected_by, alpha.id);
  assert.deepEqual(verified.statements.map((s) => s.root).sort(), [a.root, b.root].sort());
  assert.deepEqual([...detector.offenders(a)], [gamma.id]);
  assert.deepEqual([...detector.offenders(b)], [gamma.id]);
  assert.equal(detector.offenders(statement(13, 'root A')).size, 0, 'another epoch is not affected');
  // A third root, or the second again: one proof per signer and epoch is enough.
  const c = statement(12, 'root C');
  detector.observe(c, [sig(c, gamma)]);
  detector.observe(b, [sig(b, gamma)]);
  assert.equal((await epochDocs()).length, 1);
  // Beta signed one root only.
  assert.equal(detector.offenders(a).has(beta.id), false);
});

test('the first signatures and the evidence survive a restart', async () => {
  const a = statement(20, 'root A');
  detector.observe(a, [sig(a, beta)]);
  await close();
  await open();
  assert.deepEqual([...detector.offenders(statement(12, 'root A'))], [gamma.id]);
  const b = statement(20, 'root B');
  detector.observe(b, [sig(b, beta)]);
  assert.deepEqual((await epochDocs()).map((e) => e.origin).sort(), [beta.id, gamma.id]);
});
