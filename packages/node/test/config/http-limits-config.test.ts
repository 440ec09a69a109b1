import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRemembrancerError } from '@vaultmesh/core';
import { initNode, loadNode } from '../../src/config/node-config.js';
import { BATCH_BODY_LIMIT_BYTES } from '../../src/config/http-limits.js';

function withNode(fn: (dir: string, setConfig: (extra: Record<string, unknown>) => void) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'remembrancer-config-'));
  try {
    initNode(dir, 'cfg.vaultmesh.local');
    const file = join(dir, 'config.json');
    const base = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    fn(dir, (extra) => writeFileSync(file, JSON.stringify({ ...base, ...extra })));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the batch body limit defaults to BATCH_BODY_LIMIT_BYTES and http limits to none overridden', () => {
  withNode((dir) => {
    const { config } = loadNode(dir);
    assert.equal(config.bodyLimitBytes, BATCH_BODY_LIMIT_BYTES);
    assert.equal(config.http, undefined);
  });
});

test('http limits in config.json: known positive integers are taken, anything else is CONFIG_INVALID', () => {
  withNode((dir, setConfig) => {
    setConfig({ http: { requestTimeoutMs: 5000, maxConnections: 10 } });
    assert.deepEqual(loadNode(dir).config.http, { requestTimeoutMs: 5000, maxConnections: 10 });
    for (const http of [
      [],
      'x',
      { requestTimeoutMs: 0 },
      { requestTimeoutMs: -1 },
      { maxConnections: 1.5 },
      { maxConnections: '10' },
      { noSuchLimit: 1 },
    ]) {
      setConfig({ http });
      assert.throws(
        () => loadNode(dir),
        (e: unknown) => isRemembrancerError(e, 'CONFIG_INVALID'),
        JSON.stringify(http),
      );
    }
  });
});
