import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  RemembrancerError,
  createGenesis,
  parseRegistry,
  proposeNext,
  registryApprovals,
  signRegistry,
  verifyGenesis,
  verifyRegistryChain,
  verifyRegistryTransition,
  type RegistrySet,
} from '../../src/index.js';
import { alpha, beta, delta, gamma } from './peers.js';

function onlyRemembrancerErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof RemembrancerError, `threw a non-RemembrancerError: ${String(e)}`);
  }
}

let g = createGenesis({
  federation_id: 'vaultmesh-test',
  peers: [alpha.peer, beta.peer, gamma.peer],
  quorum: { witness: 2, registry: 2 },
  anchor_strategy: 'collaborative',
  effective_after: '2025-01-01T00:00:00Z',
});
for (const p of [alpha, beta, gamma]) g = signRegistry(g, p.id, p.authSeed);
let v2 = proposeNext(g, { peers: [...g.peers, delta.peer], memo: 'delta joins' });
for (const p of [alpha, beta]) v2 = signRegistry(v2, p.id, p.authSeed);

test('parseRegistry and the verifiers throw only RemembrancerError on arbitrary JSON (fast-check)', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      const x = v as unknown as RegistrySet;
      onlyRemembrancerErrors(() => parseRegistry(v));
      onlyRemembrancerErrors(() => verifyGenesis(x));
      onlyRemembrancerErrors(() => verifyRegistryTransition(g, x));
      onlyRemembrancerErrors(() => verifyRegistryTransition(x, v2));
      onlyRemembrancerErrors(() => verifyRegistryChain([g, x]));
      onlyRemembrancerErrors(() => registryApprovals(x, g));
    }),
    { numRuns: 300 },
  );
});

/** A deep copy of `doc` with the value at a random path replaced. */
function mutate(doc: unknown, path: readonly number[], value: unknown): unknown {
  if (path.length === 0 || doc === null || typeof doc !== 'object') return value;
  const entries = Array.isArray(doc) ? doc.map((v, i) => [i, v] as const) : Object.entries(doc);
  if (entries.length === 0) return value;
  const k = path[0]! % entries.length;
  const copy = (Array.isArray(doc) ? [...doc] : { ...doc }) as Record<string | number, unknown>;
  const [key, child] = entries[k]!;
  copy[key] = mutate(child, path.slice(1), value);
  return copy;
}

test('a version changed anywhere is rejected, with a RemembrancerError (fast-check)', () => {
  fc.assert(
    fc.property(fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), fc.jsonValue(), (path, value) => {
      const m = mutate(JSON.parse(JSON.stringify(v2)), path, value) as RegistrySet;
      const changed = JSON.stringify(m) !== JSON.stringify(v2);
      try {
        verifyRegistryTransition(g, m);
        // Only a change to the signature list that keeps two valid signatures can pass.
        assert.ok(
          !changed || JSON.stringify({ ...m, signatures: [] }) === JSON.stringify({ ...v2, signatures: [] }),
          JSON.stringify(m).slice(0, 300),
        );
      } catch (e) {
        assert.ok(e instanceof RemembrancerError, `threw a non-RemembrancerError: ${String(e)}`);
        assert.ok(changed, `the unchanged version was rejected: ${String(e)}`);
      }
    }),
    { numRuns: 400 },
  );
});
