import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import {
  CosignatureSigner,
  DIGEST_PATTERN,
  ENDPOINT_PATTERN,
  FEDERATION_ID_PATTERN,
  NODE_NAME_PATTERN,
  NoteSigner,
  RemembrancerError,
  UTC_TIMESTAMP_PATTERN,
  createGenesis,
  parseRegistry,
  proposeNext,
  signRegistry,
  type RegistryPeer,
  type RegistrySet,
} from '@vaultmesh/core';
import { mutate } from './mutate.js';

const schema = JSON.parse(
  readFileSync(new URL('../../schemas/federation.registry.set@1.0.0.json', import.meta.url), 'utf8'),
) as Record<string, any>;
const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);

function member(name: string, n: number, status: RegistryPeer['status'] = 'active') {
  const id = `${name}.vaultmesh.local`;
  const seed = (k: number) => new Uint8Array(32).fill(n * 16 + k);
  const peer: RegistryPeer = {
    id,
    endpoint: `https://${id}:8443`,
    log_vkey: new NoteSigner(id, seed(1)).vkey,
    witness_vkey: new CosignatureSigner(`${id}/witness`, seed(2)).vkey,
    auth_key: new NoteSigner(`${id}/peer`, seed(3)).vkey,
    status,
    roles: ['log', 'witness'],
  };
  return { id, peer, authSeed: seed(3) };
}

const a = member('alpha', 1);
const b = member('beta', 2);
const c = member('gamma', 3, 'probation');

function realVersions(): [RegistrySet, RegistrySet] {
  let g = createGenesis({
    federation_id: 'vaultmesh',
    peers: [a.peer, b.peer, c.peer],
    quorum: { witness: 2, registry: 2 },
    anchor_strategy: 'hybrid',
    memo: 'founding',
    effective_after: '2025-01-01T00:00:00Z',
  });
  for (const m of [a, b, c]) g = signRegistry(g, m.id, m.authSeed);
  let v2 = proposeNext(g, {
    peers: [a.peer, b.peer],
    memo: 'gamma leaves',
    effective_after: new Date(Date.UTC(2025, 5, 1)).toISOString(),
  });
  for (const m of [a, b]) v2 = signRegistry(v2, m.id, m.authSeed);
  return [g, v2];
}

const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

test('registry versions built by core match federation.registry.set@1.0.0', () => {
  for (const v of realVersions()) {
    assert.ok(validate(json(v)), JSON.stringify(validate.errors));
    assert.ok(validate({ ...json(v), signatures: [] }), 'unsigned proposals too');
  }
});

test('the schema rejects malformed registry versions', () => {
  const [g, v2] = realVersions().map(json) as [RegistrySet, RegistrySet];
  const p = g.peers[0]!;
  const withPeer = (changes: Record<string, unknown>) => ({ ...g, peers: [{ ...p, ...changes }, ...g.peers.slice(1)] });
  for (const bad of [
    { ...g, extra: true },
    { ...g, federation_id: 'Vault Mesh' },
    { ...g, version: 0 },
    { ...g, version: 1.5 },
    { ...g, prev: 'ab'.repeat(32) },
    { ...v2, prev: null },
    { ...v2, prev: 'AB'.repeat(32) },
    { ...g, effective_after: '2025-01-01T00:00:00+00:00' },
    { ...g, peers: [] },
    withPeer({ id: 'Alpha' }),
    withPeer({ endpoint: 'ftp://alpha.vaultmesh.local' }),
    withPeer({ endpoint: 'https://u:p@alpha.vaultmesh.local' }),
    withPeer({ log_vkey: 'not a vkey' }),
    withPeer({ status: 'retired' }),
    withPeer({ roles: ['log', 'log'] }),
    withPeer({ roles: ['admin'] }),
    withPeer({ extra: 1 }),
    { ...g, quorum: { witness: 0, registry: 1 } },
    { ...g, quorum: { witness: 1 } },
    { ...g, anchor_strategy: 'both' },
    { ...g, memo: 'x'.repeat(4097) },
    { ...g, signatures: [{ peer: p.id, sig: 'AAAA' }] },
    { ...g, signatures: [{ peer: p.id }] },
    Object.fromEntries(Object.entries(g).filter(([k]) => k !== 'signatures')),
  ]) {
    assert.equal(validate(bad), false, JSON.stringify(bad).slice(0, 120));
    assert.throws(
      () => parseRegistry(bad),
      (e: unknown) => e instanceof RemembrancerError && e.code === 'REGISTRY_INVALID',
    );
  }
});

test('schema patterns are the ones core checks', () => {
  const same = (schemaPattern: string, re: RegExp) => assert.equal(schemaPattern, re.source.replace(/\\\//g, '/'));
  same(schema.properties.federation_id.pattern, FEDERATION_ID_PATTERN);
  same(schema.$defs.node_name.pattern, NODE_NAME_PATTERN);
  same(schema.$defs.timestamp.pattern, UTC_TIMESTAMP_PATTERN);
  same(schema.$defs.peer.properties.endpoint.pattern, ENDPOINT_PATTERN);
  same(schema.properties.prev.oneOf[1].pattern, DIGEST_PATTERN);
});

test('whatever the schema rejects, parseRegistry rejects too (fast-check)', () => {
  const docs = realVersions().map(json);
  const values = fc.oneof(
    fc.jsonValue(),
    fc.constantFrom('', 'alpha.vaultmesh.local', 'active', 'log', 0, 1, 2, -1, null, [], {}, '2025-01-01T00:00:00Z'),
  );
  fc.assert(
    fc.property(
      fc.constantFrom(...docs),
      fc.array(fc.nat(), { maxLength: 4 }),
      values,
      fc.boolean(),
      (doc, path, value, add) => {
        const m = mutate(doc, path, value, add);
        let parsed = true;
        try {
          parseRegistry(m);
        } catch (e) {
          assert.ok(e instanceof RemembrancerError, String(e));
          parsed = false;
        }
        if (parsed) assert.ok(validate(m), `core accepted what the schema rejects: ${JSON.stringify(validate.errors)}`);
      },
    ),
    { numRuns: 500 },
  );
});
