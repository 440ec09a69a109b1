import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startServe, type ServeProcess } from './harness/cli-process.js';

// Governance as operators run it, with real processes: a node whose rules need 2 of 3 operators.
// The admin API alone (one operator: the node's own key) cannot create a namespace; two operators
// sign a document offline and anyone submits it. Then writer tokens, private reads, schema
// policies and limits, all through the CLI.
const dir = mkdtempSync(join(tmpdir(), 'remembrancer-gov-e2e-'));
const data = join(dir, 'node');
let node: ServeProcess;

const cli = (args: string[], stdin?: string) =>
  runCli([...args, '--url', node.url], stdin === undefined ? {} : { stdin });

before(async () => {
  assert.equal((await runCli(['init', '--data', data, '--name', 'alpha.vaultmesh.local'])).code, 0);
  const ops = [];
  for (const id of ['ops-b', 'ops-c']) {
    const r = await runCli(['keys', 'operator', '--out', join(dir, `${id}.key`), '--id', id, '--json']);
    assert.equal(r.code, 0, r.stderr);
    ops.push(JSON.parse(r.stdout) as { id: string; ed25519: string });
  }
  const cfgPath = join(data, 'config.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as { governance: { threshold: number; operators: unknown[] } };
  cfg.governance = { threshold: 2, operators: [...cfg.governance.operators, ...ops] };
  writeFileSync(cfgPath, JSON.stringify(cfg, null, 2));
  node = await startServe(data);
});

after(async () => {
  if (node) assert.equal(await node.stop(), 0);
  rmSync(dir, { recursive: true, force: true });
});

test('a threshold of 2 operators: one cannot act alone, two sign offline and the document is submitted', async () => {
  const alone = await cli(['ns', 'create', 'fin:clearing', '--data', data]);
  assert.equal(alone.code, 1);
  assert.match(alone.stderr, /GOVERNANCE_NOT_AUTHORIZED/);

  const doc = join(dir, 'create.json');
  const spec = join(dir, 'spec.json');
  writeFileSync(spec, JSON.stringify({ description: 'clearing', limits: { max_entry_bytes: 512 } }));
  const drafted = await cli([
    'ns',
    'create',
    'fin:clearing',
    '--spec',
    spec,
    '--private',
    '--new-token',
    'bot:write',
    '--new-token',
    'auditor:read',
    '--sign-with',
    join(dir, 'ops-b.key'),
    '--operator-id',
    'ops-b',
    '--out',
    doc,
    '--json',
  ]);
  assert.equal(drafted.code, 0, drafted.stderr);
  const { tokens } = JSON.parse(drafted.stdout) as { tokens: Record<string, string> };
  assert.deepEqual(Object.keys(tokens).sort(), ['auditor', 'bot']);
  assert.ok(!readFileSync(doc, 'utf8').includes(tokens['bot']!), 'only token hashes go into the document');

  const early = await cli(['ns', 'submit', doc]);
  assert.equal(early.code, 1);
  assert.match(early.stderr, /GOVERNANCE_NOT_AUTHORIZED/);
  assert.equal(
    (await runCli(['ns', 'sign', doc, '--sign-with', join(dir, 'ops-c.key'), '--operator-id', 'ops-c'])).code,
    0,
  );
  const submitted = await cli(['ns', 'submit', doc, '--json']);
  assert.equal(submitted.code, 0, submitted.stderr);
  assert.equal((JSON.parse(submitted.stdout) as { effective: boolean }).effective, true);
  // Submitting the same document again is a replay: refused.
  const again = await cli(['ns', 'submit', doc]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /GOVERNANCE_CONFLICT/);

  // Writers: the bot's token writes; the admin token and the auditor's read-only token do not.
  const rec = await cli(
    ['record', '--ns', 'fin:clearing', '--token', tokens['bot']!, '-'],
    JSON.stringify({ amount: 1 }),
  );
  assert.equal(rec.code, 0, rec.stderr);
  const byAdmin = await cli(['record', '--ns', 'fin:clearing', '--data', data, '-'], JSON.stringify({ amount: 2 }));
  assert.equal(byAdmin.code, 1);
  assert.match(byAdmin.stderr, /FORBIDDEN/);
  const tooBig = await cli(
    ['record', '--ns', 'fin:clearing', '--token', tokens['bot']!, '-'],
    JSON.stringify({ memo: 'x'.repeat(600) }),
  );
  assert.equal(tooBig.code, 1);
  assert.match(tooBig.stderr, /ENTRY_TOO_LARGE/);

  // Private: reading needs the read token.
  const anonymous = await cli(['ns', 'show', 'fin:clearing']);
  assert.equal(anonymous.code, 1);
  assert.match(anonymous.stderr, /UNAUTHORIZED/);
  const shown = await cli(['ns', 'show', 'fin:clearing', '--token', tokens['auditor']!, '--json']);
  assert.equal(shown.code, 0, shown.stderr);
  const view = JSON.parse(shown.stdout) as {
    visibility: string;
    version: number;
    size: number;
    writers: { id: string }[];
  };
  assert.deepEqual([view.visibility, view.version, view.size], ['private', 1, 1]);
  assert.deepEqual(
    view.writers.map((w) => w.id),
    ['bot', 'auditor'],
  );
  const listed = await cli(['ns', 'list', '--json']);
  assert.ok(!(JSON.parse(listed.stdout) as { id: string }[]).some((n) => n.id === 'fin:clearing'));

  // A policy change, signed by two operators at once, keeps the members it does not name.
  const set = await cli([
    'ns',
    'set-policy',
    'fin:clearing',
    '--public',
    '--token',
    tokens['auditor']!,
    '--sign-with',
    join(dir, 'ops-b.key'),
    '--operator-id',
    'ops-b',
    '--sign-with',
    join(dir, 'ops-c.key'),
    '--operator-id',
    'ops-c',
    '--json',
  ]);
  assert.equal(set.code, 0, set.stdout + set.stderr);
  const after = JSON.parse((await cli(['ns', 'show', 'fin:clearing', '--json'])).stdout) as {
    visibility: string;
    version: number;
    limits: { max_entry_bytes: number };
  };
  assert.deepEqual([after.visibility, after.version, after.limits.max_entry_bytes], ['public', 2, 512]);
});
