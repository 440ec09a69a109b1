// Deterministic operators, specs and documents for the governance tests (not a test file itself).
import assert from 'node:assert/strict';
import {
  RemembrancerError,
  crypto,
  type ErrorCode,
  type GovernanceOperators,
  type GovernanceState,
} from '../../src/index.js';
import { publicKeyBase64 } from '../../src/namespace/entry-signatures.js';

export interface TestOperator {
  readonly id: string;
  readonly seed: Uint8Array;
  readonly ed25519: string;
}

export function makeOperator(id: string, n: number): TestOperator {
  const seed = new Uint8Array(32).fill(n);
  seed[0] = 0x60;
  return { id, seed, ed25519: publicKeyBase64(seed) };
}

export const alice = makeOperator('alice', 1);
export const bob = makeOperator('bob', 2);
export const carol = makeOperator('carol', 3);
export const mallory = makeOperator('mallory', 4);

export function operators(threshold: number, ops: readonly TestOperator[] = [alice, bob, carol]): GovernanceOperators {
  return { threshold, operators: ops.map((o) => ({ id: o.id, ed25519: o.ed25519 })) };
}

/** 2025-01-01T00:00:00Z plus `s` seconds, as toISOString spells it. */
export function at(s: number): string {
  return new Date(Date.UTC(2025, 0, 1) + s * 1000).toISOString();
}

export const keyWriter = { id: 'writer-1', ed25519: publicKeyBase64(new Uint8Array(32).fill(9)) };
export const tokenWriter = { id: 'ci@build', token_sha256: 'ab'.repeat(32), scopes: ['write', 'read'] };

/** A spec touching every member, partial in places (defaults fill the rest). */
export const richSpec = {
  description: 'DAO decisions',
  visibility: 'private',
  witness_policy: {
    min_required: 2,
    allowlist: ['alpha.vaultmesh.local', 'beta.vaultmesh.local', 'gamma.vaultmesh.local'],
  },
  schema_policy: { allow: ['invoice@^1.2.0', 'registry.set@~1.0.0'] },
  writers: [keyWriter, tokenWriter],
  limits: { max_entry_bytes: 4096, rate_per_second: 2.5, quota_entries: 1000000 },
  cadence: {
    fast: { target: 'rfc3161:freetsa', every: '89s', confirmations: 0 },
    strong: { target: 'eip155:1', every: '12*fast', confirmations: 12 },
    cold: { target: 'btc:mainnet', every: '1d', confirmations: 6 },
  },
  messaging: { accept_from: ['beta.vaultmesh.local/*', '*/fin:clearing'], actions: ['notify', 'invoke'] },
};

export const sampleDefinition = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['amount'],
  properties: { amount: { type: 'integer', minimum: 0 }, memo: { type: 'string', maxLength: 200 } },
  additionalProperties: false,
};

/** Asserts that `f` throws a RemembrancerError with `code` (and `pointer`, when given). */
export function throwsCode(f: () => unknown, code: ErrorCode, pointer?: string): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof RemembrancerError, `not a RemembrancerError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (pointer !== undefined) assert.equal(e.pointer, pointer, e.message);
    return true;
  });
}

/** The parts of a state two replays must agree on (pending aside). */
export function settled(s: GovernanceState): Pick<GovernanceState, 'namespaces' | 'schemas' | 'skipped' | 'applied'> {
  return { namespaces: s.namespaces, schemas: s.schemas, skipped: s.skipped, applied: s.applied };
}

/** A fresh random 32-byte seed (for tests that need a key nobody configured). */
export function randomSeed(): Uint8Array {
  return crypto.randomBytes(32);
}
