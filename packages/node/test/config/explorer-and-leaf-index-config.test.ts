import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalBytes, isRemembrancerError, leafHash, toHex } from '@vaultmesh/core';
import { dataPaths, initNode, loadNode } from '../../src/config/node-config.js';
import { runNode } from '../../src/daemon/run-node.js';

// config.json's explorerDir (relative to the data directory) and leafIndex, through a real node.

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'remembrancer-explorer-config-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

function editConfig(dir: string, patch: Record<string, unknown>): void {
  const path = dataPaths(dir).config;
  writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), ...patch }));
}

test('leafIndex must be a boolean and explorerDir a path; both have defaults', () => {
  const dir = join(root, 'checks');
  const id = initNode(dir, 'checks.vaultmesh.local');
  assert.equal(id.config.leafIndex, true);
  assert.equal(id.config.explorerDir, undefined);
  for (const bad of [{ leafIndex: 'yes' }, { leafIndex: null }, { explorerDir: '' }, { explorerDir: 7 }]) {
    editConfig(dir, bad);
    assert.throws(
      () => loadNode(dir),
      (e) => isRemembrancerError(e, 'CONFIG_INVALID') && /leafIndex|explorerDir/.test(e.message),
      JSON.stringify(bad),
    );
    editConfig(dir, { leafIndex: true, explorerDir: undefined });
  }
  assert.equal(loadNode(dir).config.leafIndex, true);
});

test('a node serves the explorer from explorerDir under its data directory, and without a leaf index says so', async () => {
  const dir = join(root, 'node');
  initNode(dir, 'explorer.vaultmesh.local', {
    listen: '127.0.0.1:0',
    gossipIntervalMs: 0,
    explorerDir: 'site',
    leafIndex: false,
  });
  mkdirSync(join(dir, 'site'));
  writeFileSync(join(dir, 'site', 'index.html'), '<!doctype html><title>site</title>');
  const node = await runNode({ dataDir: dir, logger: false });
  try {
    const page = await node.app.inject({ method: 'GET', url: '/explorer/ns/dao:x' });
    assert.equal(page.statusCode, 200);
    assert.equal(page.body, '<!doctype html><title>site</title>');
    const admin = { authorization: `Bearer ${node.identity.adminToken}` };
    assert.equal(
      (await node.app.inject({ method: 'PUT', url: '/v1/ns/dao:x', headers: admin, payload: {} })).statusCode,
      201,
    );
    const entry = { n: 1 };
    assert.equal(
      (await node.app.inject({ method: 'POST', url: '/v1/ns/dao:x/entries', headers: admin, payload: entry }))
        .statusCode,
      201,
    );
    const r = await node.app.inject({
      method: 'GET',
      url: `/v1/ns/dao:x/leaf/${toHex(leafHash(canonicalBytes(entry)))}`,
    });
    assert.equal(r.statusCode, 404);
    assert.match(r.json<{ message: string }>().message, /leaf-hash index/);
  } finally {
    await node.close();
  }
});
