import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startServe, type ServeProcess } from './harness/cli-process.js';

// One real `remembrancer serve` process driven by real CLI processes, as an operator would.
const dir = mkdtempSync(join(tmpdir(), 'remembrancer-e2e-'));
const data = join(dir, 'node');
let node: ServeProcess;
const NS = 'dao:vaultmesh';

before(async () => {
  const init = await runCli(['init', '--data', data, '--name', 'alpha.vaultmesh.local', '--json']);
  assert.equal(init.code, 0, init.stderr);
  node = await startServe(data);
});

after(async () => {
  if (node) assert.equal(await node.stop(), 0, 'serve exits cleanly on SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[], stdin?: string) =>
  runCli([...args, '--url', node.url, '--data', data], stdin === undefined ? {} : { stdin });

test('init refuses to overwrite and writes secrets with mode 0600', async () => {
  const again = await runCli(['init', '--data', data, '--name', 'other']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /refusing to overwrite/);
  const { statSync } = await import('node:fs');
  for (const f of ['admin.token', 'keys/log.key', 'keys/witness.key', 'keys/peer.key']) {
    assert.equal(statSync(join(data, f)).mode & 0o777, 0o600, f);
  }
});

test('ns create, list, show', async () => {
  const created = await cli(['ns', 'create', NS, '--json']);
  assert.equal(created.code, 0, created.stderr);
  assert.equal((JSON.parse(created.stdout) as { id: string }).id, NS);
  const list = await cli(['ns', 'list', '--json']);
  assert.deepEqual(
    (JSON.parse(list.stdout) as Array<{ id: string }>).map((n) => n.id),
    ['sys:governance', NS],
  );
  const dup = await cli(['ns', 'create', NS]);
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /NAMESPACE_EXISTS/);
});

test('record from stdin prints a receipt that verify accepts offline, and rejects when tampered', async () => {
  const rec = await cli(['record', '--ns', NS, '-'], JSON.stringify({ memory: 'the council met', n: 1 }));
  assert.equal(rec.code, 0, rec.stderr);
  const receipt = JSON.parse(rec.stdout) as Record<string, unknown>;
  assert.equal(receipt.format, 'vaultmesh.receipt@1');
  const show = JSON.parse((await cli(['ns', 'show', NS, '--json'])).stdout) as { log_vkey: string };
  const file = join(dir, 'receipt.json');
  writeFileSync(file, rec.stdout);

  // verify is offline: no --url, the node is not asked.
  const ok = await runCli(['verify', file, '--log-vkey', show.log_vkey]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /receipt verified/);

  const keys = join(dir, 'trusted.keys');
  writeFileSync(keys, `# trusted logs\n${show.log_vkey}\n`);
  assert.equal((await runCli(['verify', file, '--trusted-keys', keys, '--json'])).code, 0);

  const forged = join(dir, 'forged.json');
  writeFileSync(forged, JSON.stringify({ ...receipt, entry: { memory: 'the council never met', n: 1 } }));
  const bad = await runCli(['verify', forged, '--log-vkey', show.log_vkey]);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /FAIL/);
  assert.match(bad.stdout, /NOT verified/);

  const usage = await runCli(['verify', file]);
  assert.equal(usage.code, 2);
  const notJson = join(dir, 'not.json');
  writeFileSync(notJson, 'nope');
  assert.equal((await runCli(['verify', notJson, '--log-vkey', show.log_vkey])).code, 2);
});

test('record --batch, get, proof, checkpoint', async () => {
  const jsonl = join(dir, 'batch.jsonl');
  writeFileSync(jsonl, Array.from({ length: 1500 }, (_, i) => JSON.stringify({ seq: i })).join('\n') + '\n');
  const rec = await cli(['record', '--ns', NS, '--batch', jsonl, '--no-receipt', '--json']);
  assert.equal(rec.code, 0, rec.stderr);
  const lines = rec.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { index: number });
  assert.equal(lines.length, 1500);
  assert.deepEqual(
    lines.map((l) => l.index),
    Array.from({ length: 1500 }, (_, i) => i + 1),
  );

  const get = await cli(['get', '--ns', NS, '1000', '--json']);
  assert.deepEqual((JSON.parse(get.stdout) as { entry: unknown }).entry, { seq: 999 });

  // Wait (bounded) until a checkpoint covers the batch: the publisher runs every second.
  let cp = '';
  for (let i = 0; i < 50 && !cp.includes('\n1501\n'); i++) {
    cp = (await cli(['checkpoint', '--ns', NS])).stdout;
    if (!cp.includes('\n1501\n')) await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(
    cp,
    /^alpha\.vaultmesh\.local\/dao:vaultmesh\n1501\n[A-Za-z0-9+/]{43}=\n\n— alpha\.vaultmesh\.local\/dao:vaultmesh /,
  );

  const inc = await cli(['proof', '--ns', NS, '--index', '7', '--json']);
  assert.equal(inc.code, 0, inc.stderr);
  assert.equal((JSON.parse(inc.stdout) as { size: number }).size, 1501);
  const cons = await cli(['proof', '--ns', NS, '--from', '10', '--to', '1501', '--json']);
  assert.equal(cons.code, 0, cons.stderr);
  assert.ok((JSON.parse(cons.stdout) as { proof: string[] }).proof.length > 0);
  const bad = await cli(['proof', '--ns', NS, '--from', '20', '--to', '10']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /INVALID_RANGE/);
});

test('CLI usage errors exit 2', async () => {
  assert.equal((await runCli(['no-such-command'])).code, 2);
  assert.equal((await runCli(['get', '--ns', NS, 'x', '--url', node.url])).code, 2);
  const help = await runCli(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /verify/);
});

test('metrics count what happened', async () => {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  assert.match(text, /remembrancer_entries_appended_total\{namespace="dao:vaultmesh"\} 1501/);
  assert.ok(readFileSync(join(data, 'config.json'), 'utf8').includes('alpha.vaultmesh.local'));
});
