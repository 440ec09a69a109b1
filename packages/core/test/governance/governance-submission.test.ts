import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RemembrancerError,
  buildCadenceSet,
  buildNamespaceCreate,
  buildNamespacePolicySet,
  buildSchemaRegister,
  checkGovernanceSubmission,
  replayGovernance,
  type GovernanceDocument,
  type GovernanceEntry,
} from '../../src/index.js';
import { emptyGovernanceState } from '../../src/governance/index.js';
import { at, sampleDefinition, throwsCode } from './fixtures.js';

const NS = 'dao:vaultmesh';
const log = (...docs: GovernanceDocument[]): GovernanceEntry[] => docs.map((doc, index) => ({ index, doc }));
const times = (issued: number, effective = issued) => ({ issued_at: at(issued), effective_after: at(effective) });

// The namespace exists from t=10; a change to version 2 is pending until t=100.
const entries = log(
  buildNamespaceCreate({ namespace: NS, ...times(0, 10) }),
  buildNamespacePolicySet({ namespace: NS, version: 2, spec: { description: 'v2' }, ...times(20, 100) }),
  buildSchemaRegister({ schema_id: 'invoice@1.0.0', definition: sampleDefinition, ...times(30) }),
);
const projected = replayGovernance(entries, null);

function conflict(doc: GovernanceDocument, pointer: string, message: RegExp, state = projected): void {
  throwsCode(() => checkGovernanceSubmission(state, doc), 'GOVERNANCE_CONFLICT', pointer);
  try {
    checkGovernanceSubmission(state, doc);
  } catch (e) {
    assert.ok(e instanceof RemembrancerError);
    assert.match(e.message, message);
  }
}

test('a create needs an unknown namespace', () => {
  checkGovernanceSubmission(projected, buildNamespaceCreate({ namespace: 'fin:clearing', ...times(5) }));
  checkGovernanceSubmission(emptyGovernanceState(), buildNamespaceCreate({ namespace: NS, ...times(5) }));
  conflict(
    buildNamespaceCreate({ namespace: NS, ...times(500) }),
    '/namespace',
    /namespace\.create@1\.0\.0 conflicts with the governance log: namespace dao:vaultmesh already exists \(version 2\)/,
  );
});

test('a change needs the projected version + 1, counting changes not in effect yet', () => {
  checkGovernanceSubmission(projected, buildNamespacePolicySet({ namespace: NS, version: 3, spec: {}, ...times(100) }));
  checkGovernanceSubmission(projected, buildCadenceSet({ namespace: NS, version: 3, cadence: {}, ...times(40, 200) }));
  conflict(
    buildNamespacePolicySet({ namespace: NS, version: 2, spec: {}, ...times(100) }),
    '/version',
    /version 2 does not follow version 2 .* expected 3/,
  );
  conflict(buildCadenceSet({ namespace: NS, version: 4, cadence: {}, ...times(100) }), '/version', /expected 3/);
  conflict(
    buildNamespacePolicySet({ namespace: 'fin:none', version: 2, spec: {}, ...times(100) }),
    '/namespace',
    /namespace fin:none does not exist/,
  );
  conflict(
    buildCadenceSet({ namespace: 'fin:none', version: 2, cadence: {}, ...times(100) }),
    '/namespace',
    /does not exist/,
  );
});

test("a change takes effect no earlier than the namespace's latest change", () => {
  conflict(
    buildNamespacePolicySet({ namespace: NS, version: 3, spec: {}, ...times(40, 99) }),
    '/effective_after',
    /effective_after 2025-01-01T00:01:39\.000Z is before 2025-01-01T00:01:40\.000Z, when the latest change to namespace dao:vaultmesh takes effect/,
  );
  conflict(
    buildCadenceSet({ namespace: NS, version: 3, cadence: {}, ...times(40, 50) }),
    '/effective_after',
    /takes effect/,
  );
  // Other namespaces' times do not matter, and creates may be backdated freely.
  const withOther = replayGovernance(
    [...entries, { index: 3, doc: buildNamespaceCreate({ namespace: 'fin:clearing', ...times(0, 1000) }) }],
    null,
  );
  checkGovernanceSubmission(withOther, buildNamespacePolicySet({ namespace: NS, version: 3, spec: {}, ...times(100) }));
  checkGovernanceSubmission(withOther, buildNamespaceCreate({ namespace: 'ops:audit', ...times(0, 1) }));
});

test('a schema registration needs a new id; a repeat is not appended again', () => {
  checkGovernanceSubmission(
    projected,
    buildSchemaRegister({ schema_id: 'invoice@1.0.1', definition: { type: 'object' }, ...times(0) }),
  );
  // A published registration resubmitted (identical bytes) would only grow the log.
  conflict(
    buildSchemaRegister({ schema_id: 'invoice@1.0.0', definition: { ...sampleDefinition }, ...times(0) }),
    '/schema_id',
    /already registered/,
  );
  conflict(
    buildSchemaRegister({ schema_id: 'invoice@1.0.0', definition: { type: 'object' }, ...times(0) }),
    '/definition',
    /schema invoice@1\.0\.0 is already registered with a different definition/,
  );
});

test('a state replayed at some time is projected to the whole log first', () => {
  const early = replayGovernance(entries, at(50));
  assert.equal(early.pending.length, 1);
  checkGovernanceSubmission(early, buildNamespacePolicySet({ namespace: NS, version: 3, spec: {}, ...times(100) }));
  conflict(
    buildNamespacePolicySet({ namespace: NS, version: 2, spec: {}, ...times(100) }),
    '/version',
    /expected 3/,
    early,
  );
  const before = replayGovernance(entries, at(5));
  conflict(buildNamespaceCreate({ namespace: NS, ...times(5) }), '/namespace', /already exists/, before);
});

test('a malformed document is GOVERNANCE_INVALID, not a conflict', () => {
  throwsCode(
    () => checkGovernanceSubmission(projected, { schema: 'namespace.create@1.0.0' }),
    'GOVERNANCE_INVALID',
    '/issued_at',
  );
  throwsCode(() => checkGovernanceSubmission(projected, null), 'GOVERNANCE_INVALID', '');
});
