import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import {
  MemoryTree,
  NoteSigner,
  ORIGIN_PATTERN,
  RemembrancerError,
  UTC_TIMESTAMP_PATTERN,
  buildEquivocationEvidence,
  canonicalBytes,
  parseEquivocationEvidence,
  signCheckpoint,
  signEvidence,
  type EquivocationEvidence,
} from '@vaultmesh/core';

const schema = JSON.parse(
  readFileSync(new URL('../../schemas/federation.equivocation@1.0.0.json', import.meta.url), 'utf8'),
) as Record<string, any>;
const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);

const origin = 'alpha.vaultmesh.local/dao:vaultmesh';
const log = new NoteSigner(origin, new Uint8Array(32).fill(1));
const detectorSeed = new Uint8Array(32).fill(2);

function tree(n: number, fork = -1): MemoryTree {
  const t = new MemoryTree();
  for (let i = 0; i < n; i++) t.append(canonicalBytes({ i, forked: i === fork }));
  return t;
}
const note = (t: MemoryTree) => signCheckpoint({ origin, size: t.size, root: t.root() }, log);

function realEvidence(): [EquivocationEvidence, EquivocationEvidence] {
  const base = {
    detectedBy: 'beta.vaultmesh.local',
    detectedAt: new Date(Date.UTC(2025, 2, 1, 12)).toISOString(),
    logVerifier: log.vkey,
  };
  const same = buildEquivocationEvidence({ ...base, checkpoints: [note(tree(9)), note(tree(9, 4))] });
  const forked = tree(15, 2);
  const inconsistent = buildEquivocationEvidence({
    ...base,
    checkpoints: [note(tree(6)), note(forked)],
    consistencyProof: forked.consistencyProof(6, 15),
  });
  return [signEvidence(same, detectorSeed), signEvidence(inconsistent, detectorSeed)];
}

const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

test('evidence built by core matches federation.equivocation@1.0.0', () => {
  const docs = realEvidence();
  assert.deepEqual(
    docs.map((d) => d.reason),
    ['same_size_different_root', 'inconsistent'],
  );
  for (const d of docs) assert.ok(validate(json(d)), JSON.stringify(validate.errors));
});

test('the schema rejects malformed evidence', () => {
  const [same, inc] = realEvidence().map(json) as [EquivocationEvidence, EquivocationEvidence];
  const without = (d: object, k: string) => Object.fromEntries(Object.entries(d).filter(([x]) => x !== k));
  for (const bad of [
    { ...same, type: 'federation.other' },
    { ...same, extra: 1 },
    { ...same, origin: 'alpha.vaultmesh.local' },
    { ...same, detected_by: 'Beta' },
    { ...same, detected_at: '2025-03-01' },
    { ...same, checkpoints: [same.checkpoints[0]] },
    { ...same, checkpoints: [same.checkpoints[0], 'no blank line'] },
    { ...same, reason: 'other' },
    { ...same, consistency_proof: [] },
    { ...same, prefix_root: inc.prefix_root },
    without(inc, 'consistency_proof'),
    without(inc, 'prefix_root'),
    { ...inc, consistency_proof: ['short'] },
    { ...inc, prefix_root: 'short' },
    { ...same, signature: 'AAAA' },
    without(same, 'signature'),
  ]) {
    assert.equal(validate(bad), false, JSON.stringify(bad).slice(0, 120));
    assert.throws(
      () => parseEquivocationEvidence(bad),
      (e: unknown) => e instanceof RemembrancerError && e.code === 'EVIDENCE_INVALID',
    );
  }
});

test('schema patterns are the ones core checks', () => {
  assert.equal(schema.properties.origin.pattern, ORIGIN_PATTERN.source.replace(/\\\//g, '/'));
  assert.equal(schema.properties.detected_at.pattern, UTC_TIMESTAMP_PATTERN.source);
});

test('whatever the schema rejects, parseEquivocationEvidence rejects too (fast-check)', () => {
  const docs = realEvidence().map(json);
  const members = [
    'type',
    'origin',
    'detected_by',
    'detected_at',
    'checkpoints',
    'reason',
    'consistency_proof',
    'prefix_root',
    'signature',
    'extra',
  ];
  const values = fc.oneof(
    fc.jsonValue(),
    fc.constantFrom(
      'inconsistent',
      'same_size_different_root',
      [],
      ['AAAA'],
      'beta.vaultmesh.local',
      docs[0]!.checkpoints,
      undefined,
    ),
  );
  fc.assert(
    fc.property(fc.constantFrom(...docs), fc.constantFrom(...members), values, (doc, k, value) => {
      const m: Record<string, unknown> = { ...doc, [k]: value };
      if (value === undefined) delete m[k];
      let parsed = true;
      try {
        parseEquivocationEvidence(m);
      } catch (e) {
        assert.ok(e instanceof RemembrancerError, String(e));
        parsed = false;
      }
      if (parsed) assert.ok(validate(m), `core accepted what the schema rejects: ${JSON.stringify(validate.errors)}`);
    }),
    { numRuns: 500 },
  );
});
