import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRemembrancerError } from '@vaultmesh/core';
import {
  DEFAULT_PG_LEASE_TTL_MS,
  DEFAULT_PG_MAX_CONNECTIONS,
  initNode,
  loadNode,
  parseStorageConfig,
  storageFromFlag,
} from '../../src/config/index.js';

const F = 'config.json';
const invalid = (pattern: RegExp) => (e: unknown) =>
  isRemembrancerError(e) && e.code === 'CONFIG_INVALID' && pattern.test(e.message);

test('storage: absent or sqlite is the embedded default; postgres takes a URL and optional limits', () => {
  assert.deepEqual(parseStorageConfig(undefined, F), { kind: 'sqlite' });
  assert.deepEqual(parseStorageConfig({ kind: 'sqlite' }, F), { kind: 'sqlite' });
  assert.deepEqual(parseStorageConfig({ kind: 'postgres', url: 'postgres://u@db.example/node1' }, F), {
    kind: 'postgres',
    url: 'postgres://u@db.example/node1',
    maxConnections: DEFAULT_PG_MAX_CONNECTIONS,
    leaseTtlMs: DEFAULT_PG_LEASE_TTL_MS,
  });
  assert.deepEqual(
    parseStorageConfig(
      { kind: 'postgres', url: 'postgresql://u@/n?host=/run/pg', maxConnections: 4, leaseTtlMs: 900 },
      F,
    ),
    { kind: 'postgres', url: 'postgresql://u@/n?host=/run/pg', maxConnections: 4, leaseTtlMs: 900 },
  );
});

test('storage: every mistake is CONFIG_INVALID naming the member, never a silent default', () => {
  assert.throws(() => parseStorageConfig('postgres://x', F), invalid(/storage must be an object/));
  assert.throws(() => parseStorageConfig({ kind: 'mysql' }, F), invalid(/storage.kind must be/));
  assert.throws(() => parseStorageConfig({ kind: 'sqlite', url: 'x' }, F), invalid(/storage.url is not known/));
  assert.throws(() => parseStorageConfig({ kind: 'postgres' }, F), invalid(/storage.url must be a postgres/));
  assert.throws(() => parseStorageConfig({ kind: 'postgres', url: 'http://x' }, F), invalid(/storage.url/));
  assert.throws(
    () => parseStorageConfig({ kind: 'postgres', url: 'postgres://x', leaseTTL: 5 }, F),
    invalid(/storage.leaseTTL is not known/),
  );
  assert.throws(
    () => parseStorageConfig({ kind: 'postgres', url: 'postgres://x', leaseTtlMs: 50 }, F),
    invalid(/leaseTtlMs must be an integer of at least 100/),
  );
  assert.throws(
    () => parseStorageConfig({ kind: 'postgres', url: 'postgres://x', maxConnections: 0 }, F),
    invalid(/maxConnections/),
  );
});

test('serve --storage: a URL overrides the configured one and keeps its limits; "sqlite" goes back to files', () => {
  const configured = parseStorageConfig({ kind: 'postgres', url: 'postgres://a/x', leaseTtlMs: 800 }, F);
  assert.deepEqual(storageFromFlag('postgres://b/y', configured), { ...configured, url: 'postgres://b/y' });
  assert.deepEqual(storageFromFlag('postgres://b/y', { kind: 'sqlite' }), {
    kind: 'postgres',
    url: 'postgres://b/y',
    maxConnections: DEFAULT_PG_MAX_CONNECTIONS,
    leaseTtlMs: DEFAULT_PG_LEASE_TTL_MS,
  });
  assert.deepEqual(storageFromFlag('sqlite', configured), { kind: 'sqlite' });
  assert.throws(() => storageFromFlag('/var/lib/db', configured), invalid(/--storage must be/));
});

test('loadNode reads storage from config.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vm-storage-config-'));
  try {
    initNode(join(dir, 'n'), 'n1');
    assert.deepEqual(loadNode(join(dir, 'n')).storage, { kind: 'sqlite' });
    const file = join(dir, 'n', 'config.json');
    const cfg = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...cfg, storage: { kind: 'postgres', url: 'postgres://u@h/n1' } }));
    assert.equal(loadNode(join(dir, 'n')).storage.kind, 'postgres');
    writeFileSync(file, JSON.stringify({ ...cfg, storage: { kind: 'postgres' } }));
    assert.throws(() => loadNode(join(dir, 'n')), invalid(/storage.url/));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
