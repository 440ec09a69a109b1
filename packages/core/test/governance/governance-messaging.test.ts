import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildCadenceSet,
  buildNamespaceCreate,
  buildNamespacePolicySet,
  canonicalize,
  checkGovernanceSubmission,
  parseGovernanceDocument,
  replayGovernance,
  signGovernanceDocument,
  verifyGovernanceSignatures,
  type GovernanceDocument,
  type GovernanceEntry,
} from '../../src/index.js';
import { defaultMessagingRules } from '../../src/namespace/messaging-rules.js';
import { parseNamespaceSpec, specInForce, type NamespaceSpec } from '../../src/namespace/namespace-spec.js';
import { alice, at, bob, operators, richSpec, throwsCode } from './fixtures.js';

/*
 * `messaging` joined the namespace spec after governance documents were first recorded (issue 12):
 * documents recorded before lack it and must replay, with their signatures, exactly as before.
 */

/**
 * A namespace.create@1.0.0 as the code recorded it before `messaging` existed, signed then: the
 * worked example of docs/formats.md (operator ops-1, seed SHA-256("vaultmesh docs example operator")).
 */
const RECORDED_BEFORE_MESSAGING = {
  schema: 'namespace.create@1.0.0',
  namespace: 'fin:clearing',
  version: 1,
  spec: {
    description: 'clearing house settlements',
    visibility: 'private',
    witness_policy: {
      min_required: 2,
      allowlist: ['beta.vaultmesh.local', 'gamma.vaultmesh.local', 'delta.vaultmesh.local'],
    },
    schema_policy: { allow: ['settlement@^1.2.0'] },
    writers: [
      {
        id: 'clearing-bot',
        token_sha256: 'd564dd25f3653ad20a3196097ba83995a471bc136095747af78064c84c72f3c0',
        scopes: ['write'],
      },
    ],
    limits: { max_entry_bytes: 65535, rate_per_second: 50, burst: 50, quota_entries: null, quota_bytes: null },
    cadence: {},
  },
  issued_at: '2026-11-22T10:00:00Z',
  effective_after: '2026-12-01T00:00:00Z',
  signatures: [
    {
      signer: 'ops-1',
      sig: 'sCuB2jLOqOADGVXT6xFLEwSG8RuU+UmzzibZmwgHQzlE1t6PGBQJ4Wh3c5MwzCGLXY1B0LbecyTLCuv80cjlCQ==',
    },
  ],
};
const OPS_1 = { threshold: 1, operators: [{ id: 'ops-1', ed25519: '4SDtgc7+Hqm7hNsHZLvkP5IJdcS7+SrnK8iTlNNVJQw=' }] };

const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const log = (...docs: GovernanceDocument[]): GovernanceEntry[] => docs.map((doc, index) => ({ index, doc }));
const spec = (doc: GovernanceDocument): Record<string, unknown> => (doc as { spec: Record<string, unknown> }).spec;

/** A document as the code built it before `messaging`: today's, with the member removed, then signed. */
function recordedWithoutMessaging<T extends GovernanceDocument>(doc: T): T {
  const old = json(doc);
  delete spec(old)['messaging'];
  return signGovernanceDocument(signGovernanceDocument(old, 'alice', alice.seed), 'bob', bob.seed);
}

test('a document recorded before messaging parses to itself, and its signature still verifies', () => {
  const doc = parseGovernanceDocument(json(RECORDED_BEFORE_MESSAGING));
  assert.equal('messaging' in spec(doc), false, 'no member is added to a recorded document');
  assert.equal(canonicalize(doc), canonicalize(RECORDED_BEFORE_MESSAGING));
  assert.deepEqual(verifyGovernanceSignatures(doc, OPS_1), ['ops-1']);
  assert.deepEqual(verifyGovernanceSignatures(json(RECORDED_BEFORE_MESSAGING) as never, OPS_1), ['ops-1']);
});

test('replaying a document recorded before messaging gives the default rules: accept no messages', () => {
  const s = replayGovernance(log(parseGovernanceDocument(json(RECORDED_BEFORE_MESSAGING))), null);
  assert.deepEqual(s.skipped, []);
  const ns = s.namespaces.get('fin:clearing')!;
  assert.deepEqual(ns.spec.messaging, defaultMessagingRules());
  assert.deepEqual(ns.spec, parseNamespaceSpec(RECORDED_BEFORE_MESSAGING.spec));
});

test('old creates and policy changes replay beside new ones; a cadence change keeps the rules', () => {
  const opened = { accept_from: ['beta.vaultmesh.local/*'], operations: ['record'] };
  const newCreate = buildNamespaceCreate({ namespace: 'a:new', spec: { messaging: opened }, issued_at: at(0) });
  const oldCreate = recordedWithoutMessaging(buildNamespaceCreate({ namespace: 'a:old', spec: {}, issued_at: at(1) }));
  // An old policy change replaces the whole spec, as every policy change does: its messaging is the default.
  const oldSet = recordedWithoutMessaging(
    buildNamespacePolicySet({ namespace: 'a:new', version: 2, spec: { description: 'v2' }, issued_at: at(2) }),
  );
  const newSet = buildNamespacePolicySet({
    namespace: 'a:old',
    version: 2,
    spec: { messaging: { accept_from: ['*/*'], actions: ['notify'] } },
    // The base a node holds for a namespace recorded before messaging: its spec in force.
    base: specInForce(oldCreate.spec),
    issued_at: at(3),
  });
  const cadence = buildCadenceSet({ namespace: 'a:old', version: 3, cadence: {}, issued_at: at(4) });
  for (const d of [oldCreate, oldSet]) assert.equal('messaging' in spec(d), false);
  const s = replayGovernance(log(newCreate, oldCreate, ...json([oldSet, newSet, cadence])), null);
  assert.deepEqual(s.skipped, []);
  assert.equal(s.applied, 5);
  assert.deepEqual(s.namespaces.get('a:new')!.spec.messaging, defaultMessagingRules());
  assert.deepEqual(s.namespaces.get('a:old')!.spec.messaging, {
    ...defaultMessagingRules(),
    accept_from: ['*/*'],
    actions: ['notify'],
  });
  // Whatever the history, a namespace in force has every member.
  for (const ns of s.namespaces.values()) assert.ok(ns.spec.messaging !== undefined);
  // Before its policy change, the namespace recorded without messaging had the default rules.
  assert.deepEqual(
    replayGovernance(log(newCreate, oldCreate), null).namespaces.get('a:old')!.spec,
    parseNamespaceSpec({}),
  );
});

test('documents built now always carry messaging, complete and normalized', () => {
  const created = buildNamespaceCreate({ namespace: 'dao:x', spec: {}, issued_at: at(0) });
  assert.deepEqual(created.spec.messaging, defaultMessagingRules());
  const rich = buildNamespaceCreate({ namespace: 'dao:x', spec: richSpec, issued_at: at(0) });
  assert.deepEqual(rich.spec.messaging, {
    accept_from: ['beta.vaultmesh.local/*', '*/fin:clearing'],
    actions: ['invoke', 'notify'],
    operations: ['*'],
    min_witnesses: 0,
  });
  // A base recorded without messaging (typed as recorded) still gives a complete spec.
  const old = parseGovernanceDocument(json(RECORDED_BEFORE_MESSAGING));
  assert.ok(old.schema === 'namespace.create@1.0.0');
  const set = buildNamespacePolicySet({
    namespace: 'fin:clearing',
    version: 2,
    spec: {},
    base: old.spec,
    issued_at: at(5),
  });
  assert.deepEqual(set.spec.messaging, defaultMessagingRules());
  const withMessaging: NamespaceSpec = set.spec;
  assert.deepEqual(parseGovernanceDocument(json(set)), set);
  assert.deepEqual(withMessaging, specInForce(set.spec));
});

test('a recorded messaging member must be complete and normalized, like every other', () => {
  const doc = json(buildNamespaceCreate({ namespace: 'dao:x', spec: richSpec, issued_at: at(0) }));
  const withMessaging = (m: unknown) => ({ ...doc, spec: { ...doc.spec, messaging: m } });
  throwsCode(
    () => parseGovernanceDocument(withMessaging({ accept_from: ['*/*'] })),
    'GOVERNANCE_INVALID',
    '/spec/messaging',
  );
  throwsCode(
    () => parseGovernanceDocument(withMessaging({ ...doc.spec.messaging, actions: ['notify', 'invoke'] })),
    'GOVERNANCE_INVALID',
    '/spec/messaging',
  );
  throwsCode(
    () => parseGovernanceDocument(withMessaging({ ...doc.spec.messaging, accept_from: ['beta'] })),
    'GOVERNANCE_INVALID',
    '/spec/messaging/accept_from/0',
  );
  throwsCode(() => parseGovernanceDocument(withMessaging(null)), 'GOVERNANCE_INVALID', '/spec/messaging');
  // Members that were always there stay required.
  const { cadence: _cadence, ...noCadence } = doc.spec;
  throwsCode(() => parseGovernanceDocument({ ...doc, spec: noCadence }), 'GOVERNANCE_INVALID', '/spec/cadence');
});

test('a node still takes a document without messaging on submission: it means the default rules', () => {
  const old = recordedWithoutMessaging(buildNamespaceCreate({ namespace: 'a:b', spec: {}, issued_at: at(0) }));
  checkGovernanceSubmission(replayGovernance([], null), json(old));
  assert.deepEqual(verifyGovernanceSignatures(json(old), operators(2)), ['alice', 'bob']);
});
