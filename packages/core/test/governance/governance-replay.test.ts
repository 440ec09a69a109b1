import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  advanceGovernance,
  buildCadenceSet,
  buildNamespaceCreate,
  buildNamespacePolicySet,
  buildSchemaRegister,
  checkGovernanceSubmission,
  replayGovernance,
  type GovernanceDocument,
  type GovernanceEntry,
  type GovernanceState,
} from '../../src/index.js';
import { compareUtcTimestamps } from '../../src/federation/index.js';
import { emptyGovernanceState } from '../../src/governance/index.js';
import { parseNamespaceSpec } from '../../src/namespace/namespace-spec.js';
import { at, richSpec, sampleDefinition, settled, throwsCode } from './fixtures.js';

const NS = 'dao:vaultmesh';
const create = (t: number, ns = NS, spec: unknown = {}) =>
  buildNamespaceCreate({ namespace: ns, spec, issued_at: at(t) });
const policy = (t: number, version: number, spec: unknown, ns = NS) =>
  buildNamespacePolicySet({ namespace: ns, version, spec, issued_at: at(t) });
const cadence = (t: number, version: number, c: unknown, ns = NS) =>
  buildCadenceSet({ namespace: ns, version, cadence: c, issued_at: at(t) });
const register = (t: number, id: string, definition: Record<string, unknown> = sampleDefinition) =>
  buildSchemaRegister({ schema_id: id, definition, issued_at: at(t) });
const log = (...docs: GovernanceDocument[]): GovernanceEntry[] => docs.map((doc, index) => ({ index, doc }));

test('the empty log is the empty state', () => {
  assert.deepEqual(replayGovernance([], null), emptyGovernanceState());
  assert.deepEqual(replayGovernance([], at(0)), emptyGovernanceState());
});

test('create, policy and cadence changes apply in order and track versions and times', () => {
  const fastOnly = { fast: { target: 'eip155:10', every: '30s', confirmations: 1 } };
  const s = replayGovernance(
    log(
      create(10, NS, richSpec),
      policy(20, 2, { description: 'v2' }),
      cadence(30, 3, fastOnly),
      create(40, 'fin:clearing'),
    ),
    null,
  );
  assert.equal(s.applied, 4);
  assert.deepEqual(s.skipped, []);
  assert.deepEqual(s.pending, []);
  assert.equal(s.next_index, 4);
  const ns = s.namespaces.get(NS)!;
  // policy.set replaces the whole spec (its partial input was merged onto the defaults by the builder).
  assert.deepEqual(ns, {
    id: NS,
    spec: { ...parseNamespaceSpec({ description: 'v2' }), cadence: fastOnly },
    version: 3,
    created_at: at(10),
    updated_at: at(30),
    last_index: 2,
  });
  assert.deepEqual(s.namespaces.get('fin:clearing'), {
    id: 'fin:clearing',
    spec: parseNamespaceSpec({}),
    version: 1,
    created_at: at(40),
    updated_at: at(40),
    last_index: 3,
  });
  assert.deepEqual([...s.namespaces.keys()], [NS, 'fin:clearing']);
});

test('cadence.set replaces only the cadence', () => {
  const s = replayGovernance(log(create(0, NS, richSpec), cadence(1, 2, {})), null);
  assert.deepEqual(s.namespaces.get(NS)!.spec, { ...parseNamespaceSpec(richSpec), cadence: {} });
});

test('documents that break a rule are skipped with a reason, never thrown', () => {
  const s = replayGovernance(
    log(
      create(0),
      create(1), // exists
      policy(2, 3, {}), // version 3 does not follow 1
      policy(3, 1 + 1, { description: 'ok' }),
      cadence(4, 2, {}), // version 2 again
      policy(5, 2, {}, 'fin:none'), // unknown namespace
      cadence(6, 2, {}, 'fin:none'),
    ),
    null,
  );
  assert.equal(s.applied, 2);
  assert.deepEqual(
    s.skipped.map(({ index, schema }) => [index, schema]),
    [
      [1, 'namespace.create@1.0.0'],
      [2, 'namespace.policy.set@1.0.0'],
      [4, 'governance.cadence.set@1.0.0'],
      [5, 'namespace.policy.set@1.0.0'],
      [6, 'governance.cadence.set@1.0.0'],
    ],
  );
  assert.match(s.skipped[0]!.reason, /already exists \(version 1\)/);
  assert.match(s.skipped[1]!.reason, /version 3 does not follow version 1 .* expected 2/);
  assert.match(s.skipped[3]!.reason, /namespace fin:none does not exist/);
  assert.equal(s.namespaces.get(NS)!.version, 2);
  assert.equal(s.namespaces.get(NS)!.spec.description, 'ok');
});

test('schema registrations: new ids apply, identical ones are harmless, different ones are skipped', () => {
  const other = { ...sampleDefinition, required: [] };
  // Key order does not matter: identical means identical JCS bytes.
  const reordered = Object.fromEntries(Object.entries(sampleDefinition).reverse());
  const s = replayGovernance(
    log(
      register(0, 'invoice@1.0.0'),
      register(1, 'invoice@1.0.0', reordered),
      register(2, 'invoice@1.0.0', other),
      register(3, 'invoice@1.1.0', other),
    ),
    null,
  );
  assert.equal(s.applied, 3);
  assert.deepEqual(
    s.skipped.map((x) => x.index),
    [2],
  );
  assert.match(s.skipped[0]!.reason, /already registered with a different definition/);
  assert.deepEqual(
    s.schemas,
    new Map([
      ['invoice@1.0.0', sampleDefinition],
      ['invoice@1.1.0', other],
    ]),
  );
});

test('order is (effective_after, index), not log order', () => {
  // The policy change was appended first but takes effect after the create.
  const later = buildNamespacePolicySet({
    namespace: NS,
    version: 2,
    spec: { description: 'later' },
    issued_at: at(0),
    effective_after: at(50),
  });
  const s = replayGovernance(log(later, create(10)), null);
  assert.equal(s.applied, 2);
  assert.equal(s.namespaces.get(NS)!.spec.description, 'later');
  assert.equal(s.namespaces.get(NS)!.last_index, 0);
  // Equal times: the lower index first.
  const a = buildSchemaRegister({ schema_id: 'x@1.0.0', definition: { title: 'a' }, issued_at: at(5) });
  const b = buildSchemaRegister({ schema_id: 'x@1.0.0', definition: { title: 'b' }, issued_at: at(5) });
  assert.deepEqual(replayGovernance(log(a, b), null).schemas.get('x@1.0.0'), { title: 'a' });
  assert.deepEqual(
    replayGovernance(
      [
        { index: 0, doc: b },
        { index: 1, doc: a },
      ],
      null,
    ).schemas.get('x@1.0.0'),
    { title: 'b' },
  );
  // Timestamps compare as instants, whatever their fraction digits.
  const early = buildSchemaRegister({
    schema_id: 'y@1.0.0',
    definition: { title: 'early' },
    issued_at: '2025-01-01T00:00:00.5Z',
  });
  const late = buildSchemaRegister({
    schema_id: 'y@1.0.0',
    definition: { title: 'late' },
    issued_at: '2025-01-01T00:00:00.123456789Z',
  });
  assert.deepEqual(replayGovernance(log(early, late), null).schemas.get('y@1.0.0'), { title: 'late' });
});

test('documents not yet effective are pending, in application order', () => {
  const docs = log(create(10), policy(30, 2, { description: 'v2' }), register(20, 'a@1.0.0'), cadence(40, 3, {}));
  const s = replayGovernance(docs, at(25));
  assert.equal(s.applied, 2);
  assert.deepEqual(
    s.pending.map((e) => e.index),
    [1, 3],
  );
  assert.equal(s.namespaces.get(NS)!.version, 1);
  // effective_after is inclusive: in force at that very instant.
  assert.equal(replayGovernance(docs, at(30)).namespaces.get(NS)!.version, 2);
  assert.equal(replayGovernance(docs, '2025-01-01T00:00:29.999999999Z').namespaces.get(NS)!.version, 1);
  // Advancing the clock applies them.
  assert.deepEqual(advanceGovernance(s, [], at(100)), replayGovernance(docs, at(100)));
  assert.deepEqual(advanceGovernance(s, [], null), replayGovernance(docs, null));
  assert.equal(advanceGovernance(s, [], null).namespaces.get(NS)!.version, 3);
});

test('invalid documents are skipped as invalid; caller errors throw INVALID_ARGUMENT', () => {
  const bad = { ...create(0), namespace: 'sys:governance' } as GovernanceDocument;
  const s = replayGovernance(
    [
      { index: 0, doc: bad },
      { index: 1, doc: create(1, 'a:b') },
      { index: 2, doc: { schema: 7 } as never },
    ],
    null,
  );
  assert.equal(s.applied, 1);
  assert.deepEqual(
    s.skipped.map((x) => [x.index, x.schema]),
    [
      [0, 'namespace.create@1.0.0'],
      [2, null],
    ],
  );
  assert.match(s.skipped[0]!.reason, /^invalid: \/namespace: sys:governance is reserved/);
  throwsCode(() => replayGovernance([], 'now'), 'INVALID_ARGUMENT');
  throwsCode(() => replayGovernance([], '2025-01-01T00:00:00+01:00'), 'INVALID_ARGUMENT');
  throwsCode(
    () =>
      replayGovernance(
        [
          { index: 0, doc: create(0) },
          { index: 0, doc: create(1, 'a:b') },
        ],
        null,
      ),
    'INVALID_ARGUMENT',
  );
  throwsCode(() => replayGovernance([{ index: -1, doc: create(0) }], null), 'INVALID_ARGUMENT');
  throwsCode(() => replayGovernance([{ index: 1.5, doc: create(0) }], null), 'INVALID_ARGUMENT');
  const after = replayGovernance([{ index: 4, doc: create(0) }], null);
  assert.equal(after.next_index, 5);
  throwsCode(() => advanceGovernance(after, [{ index: 4, doc: create(1, 'a:b') }], null), 'INVALID_ARGUMENT');
  throwsCode(() => advanceGovernance(after, [{ index: 3, doc: create(1, 'a:b') }], null), 'INVALID_ARGUMENT');
});

test('states share nothing with their inputs; advancing leaves the earlier state as it was', () => {
  const docs = log(create(0, NS, richSpec), register(1, 'a@1.0.0'));
  const s = replayGovernance(docs, at(0));
  const before = structuredClone(s);
  const t = advanceGovernance(s, [], null);
  assert.deepEqual(s, before);
  assert.equal(t.schemas.size, 1);
  t.namespaces.get(NS)!.spec.writers.length = 0;
  t.schemas.get('a@1.0.0')!['type'] = 'array';
  assert.ok(docs[0]!.doc.schema === 'namespace.create@1.0.0');
  assert.deepEqual(docs[0]!.doc.spec, parseNamespaceSpec(richSpec));
  assert.equal(sampleDefinition.type, 'object');
  assert.deepEqual(replayGovernance(docs, null).namespaces.get(NS)!.spec, parseNamespaceSpec(richSpec));
});

// ---------------------------------------------------------------------------------------------
// Random histories (fast-check)

const NAMESPACES = ['dao:vaultmesh', 'fin:clearing', 'ops:audit'];
const SPECS: unknown[] = [
  {},
  richSpec,
  { description: 'x', visibility: 'private' },
  { limits: { rate_per_second: 5 } },
];
const CADENCES: unknown[] = [
  {},
  { fast: { target: 'eip155:1', every: '5m', confirmations: 2 } },
  { cold: { target: 'btc:signet', every: '1d', confirmations: 3 } },
];
const DEFINITIONS = [sampleDefinition, { type: 'string' }];
const SCHEMA_IDS = ['invoice@1.0.0', 'invoice@2.0.0'];

interface Action {
  kind: number;
  ns: number;
  t: number;
  pick: number;
  skew: number;
}

const action: fc.Arbitrary<Action> = fc.record({
  kind: fc.nat(3),
  ns: fc.nat(2),
  t: fc.nat(40),
  pick: fc.nat(11),
  skew: fc.integer({ min: -1, max: 1 }),
});

/**
 * A governance log from random actions. With `valid`, each document is appended only if
 * checkGovernanceSubmission accepts it against the projection of the log so far, as the node does;
 * without, anything goes (duplicate creates, wrong versions, conflicting schemas, backdated changes).
 */
function history(actions: readonly Action[], valid: boolean): GovernanceEntry[] {
  const entries: GovernanceEntry[] = [];
  for (const a of actions) {
    const projected = replayGovernance(entries, null);
    const ns = NAMESPACES[a.ns]!;
    const cur = projected.namespaces.get(ns);
    let effective_after = at(a.t);
    // Mostly keep a namespace's changes in time order, so that many valid histories come out.
    if (cur !== undefined && a.pick % 3 !== 0 && compareUtcTimestamps(effective_after, cur.updated_at) < 0)
      effective_after = cur.updated_at;
    const times = { issued_at: at(0), effective_after };
    const version = (cur?.version ?? 1) + 1 + (valid ? 0 : a.skew);
    let doc: GovernanceDocument;
    // In valid histories a change to a namespace nobody created yet creates it instead.
    switch (valid && cur === undefined && (a.kind === 1 || a.kind === 2) ? 0 : a.kind) {
      case 0:
        doc = buildNamespaceCreate({ namespace: ns, spec: SPECS[a.pick % SPECS.length], ...times });
        break;
      case 1:
        doc = buildNamespacePolicySet({
          namespace: ns,
          version: Math.max(2, version),
          spec: SPECS[a.pick % SPECS.length],
          ...times,
        });
        break;
      case 2:
        doc = buildCadenceSet({
          namespace: ns,
          version: Math.max(2, version),
          cadence: CADENCES[a.pick % CADENCES.length],
          ...times,
        });
        break;
      default:
        doc = buildSchemaRegister({ schema_id: SCHEMA_IDS[a.ns % 2]!, definition: DEFINITIONS[a.pick % 2]!, ...times });
    }
    if (valid) {
      try {
        checkGovernanceSubmission(projected, doc);
      } catch {
        continue;
      }
    }
    entries.push({ index: entries.length, doc });
  }
  return entries;
}

const histories = (valid: boolean) =>
  fc.array(action, { minLength: 1, maxLength: 30, size: 'medium' }).map((a) => history(a, valid));
const time = fc.oneof(fc.constant(null), fc.nat(45).map(at));

function effectiveBy(entries: readonly GovernanceEntry[], t: string | null): GovernanceEntry[] {
  return entries.filter((e) => t === null || compareUtcTimestamps(e.doc.effective_after, t) <= 0);
}

test('fast-check: replay is deterministic and independent of the order entries are given in', () => {
  fc.assert(
    fc.property(
      fc.boolean().chain((v) => histories(v)),
      time,
      fc.nat(),
      (entries, t, seed) => {
        const s = replayGovernance(entries, t);
        assert.deepEqual(replayGovernance(entries, t), s);
        const shuffled = [...entries].sort((a, b) => ((a.index * 7919 + seed) % 101) - ((b.index * 7919 + seed) % 101));
        assert.deepEqual(replayGovernance(shuffled, t), s);
        assert.equal(s.applied + s.skipped.length + s.pending.length, entries.length);
      },
    ),
    { numRuns: 80 },
  );
});

test('fast-check: the replay at time t is the replay of the documents effective by t', () => {
  fc.assert(
    fc.property(
      fc.boolean().chain((v) => histories(v)),
      time,
      (entries, t) => {
        const s = replayGovernance(entries, t);
        assert.deepEqual(settled(s), settled(replayGovernance(effectiveBy(entries, t), null)));
        const waiting = entries.filter((e) => !effectiveBy([e], t).length);
        assert.deepEqual(
          s.pending.map((e) => e.index),
          waiting
            .sort((a, b) => compareUtcTimestamps(a.doc.effective_after, b.doc.effective_after) || a.index - b.index)
            .map((e) => e.index),
        );
      },
    ),
    { numRuns: 80 },
  );
});

test('fast-check: in a log of accepted documents nothing is ever skipped', () => {
  fc.assert(
    fc.property(histories(true), time, (entries, t) => {
      const s = replayGovernance(entries, t);
      assert.deepEqual(s.skipped, []);
      assert.equal(s.applied, effectiveBy(entries, t).length);
    }),
    { numRuns: 80 },
  );
});

test('fast-check: applying a log of accepted documents incrementally equals replaying it from scratch', () => {
  fc.assert(
    fc.property(
      histories(true),
      fc.array(fc.tuple(fc.nat(), fc.nat(45)), { maxLength: 6 }),
      time,
      (entries, cuts, end) => {
        // Entries arrive in log order, in chunks, while the clock moves forward.
        const steps = cuts
          .map(([c, t]) => [c % (entries.length + 1), t] as const)
          .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        let state: GovernanceState = emptyGovernanceState();
        let from = 0;
        let clock = 0;
        for (const [cut, t] of steps) {
          clock = Math.max(clock, t);
          state = advanceGovernance(state, entries.slice(from, cut), at(clock));
          from = cut;
        }
        const now = end === null ? null : compareUtcTimestamps(end, at(clock)) < 0 ? at(clock) : end;
        state = advanceGovernance(state, entries.slice(from), now);
        assert.deepEqual(state, replayGovernance(entries, now));
      },
    ),
    { numRuns: 80 },
  );
});
