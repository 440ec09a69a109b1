import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CLI_BIN } from './harness/compiled-cli.js';
import { REPO_ROOT, runCli, startServe, waitExit, type ServeProcess } from './harness/cli-process.js';

// `remembrancer message send|status|inbox` against one real node: two namespaces of the node,
// the target accepting messages from the source through its rules (set with `ns set-policy`),
// a message sent and waited for until delivered, both of its proofs verified offline by the CLI,
// the target's inbox read as a page and followed live over server-sent events.
const NODE = 'alpha.vaultmesh.local';
const SRC = 'app:sender';
const DST = 'app:inbox';
const CLOSED = 'app:closed';

const dir = mkdtempSync(join(tmpdir(), 'remembrancer-message-e2e-'));
const data = join(dir, 'node');
let node: ServeProcess;
let readerToken: string;
const followers: ChildProcess[] = [];

/** A client command with the admin token (--data) unless a token is given. */
const cli = (args: string[], options: { token?: string; stdin?: string } = {}) =>
  runCli(
    [...args, '--url', node.url, ...(options.token === undefined ? ['--data', data] : ['--token', options.token])],
    options.stdin === undefined ? {} : { stdin: options.stdin },
  );

function json<T>(stdout: string): T {
  return JSON.parse(stdout) as T;
}

interface Sent {
  id: string;
  namespace: string;
  index: number;
  seq: number;
  state: string;
  status?: { state: string; delivery?: { index: number } };
  error?: { code: string; message: string };
}

before(async () => {
  const init = await runCli(['init', '--data', data, '--name', NODE, '--json']);
  assert.equal(init.code, 0, init.stderr);
  node = await startServe(data);
  for (const ns of [SRC, CLOSED]) assert.equal((await cli(['ns', 'create', ns])).code, 0);
  const created = await cli(['ns', 'create', DST, '--new-token', 'reader:read', '--json']);
  assert.equal(created.code, 0, created.stderr);
  readerToken = json<{ tokens: Record<string, string> }>(created.stdout).tokens['reader']!;
  // The target opts in to messages from the source: a rule change, recorded through governance.
  const spec = join(dir, 'messaging.json');
  writeFileSync(
    spec,
    JSON.stringify({
      messaging: { accept_from: [`${NODE}/${SRC}`], actions: ['notify', 'query'], operations: ['*'], min_witnesses: 0 },
    }),
  );
  const policy = await cli(['ns', 'set-policy', DST, '--spec', spec]);
  assert.equal(policy.code, 0, policy.stderr);
});

after(async () => {
  for (const f of followers) if (f.exitCode === null && f.signalCode === null) f.kill('SIGKILL');
  if (node) assert.equal(await node.stop(), 0);
  rmSync(dir, { recursive: true, force: true });
});

let first: Sent;

test('message send --wait delivered: the message is appended, sealed and delivered', async () => {
  const params = join(dir, 'params.json');
  writeFileSync(params, JSON.stringify({ invoice: 'INV-7', amount: 1250 }));
  const sent = await cli([
    'message',
    'send',
    '--from',
    SRC,
    '--to',
    `${NODE}/${DST}`,
    '--action',
    'notify',
    '--operation',
    'invoice.issued',
    '--params',
    params,
    '--expires-in',
    '1h',
    '--wait',
    'delivered',
    '--json',
  ]);
  assert.equal(sent.code, 0, sent.stdout + sent.stderr);
  first = json<Sent>(sent.stdout);
  assert.match(first.id, /^[0-9a-f]{64}$/);
  assert.equal(first.namespace, SRC);
  assert.equal(first.seq, 1);
  assert.equal(first.state, 'delivered');
  assert.equal(typeof first.status?.delivery?.index, 'number');

  // The human form names the message as NS/ID, which `message status` takes back.
  const human = await cli(
    ['message', 'send', '--from', SRC, '--to', `${NODE}/${DST}`, '--action', 'notify', '--operation', 'ping'],
    { stdin: '' },
  );
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, new RegExp(`^sent ${SRC}/[0-9a-f]{64}\\n  entry \\d+ of ${SRC}, seq 2, `));
});

test('message status --verify: both proofs check offline; --proofs prints them; --json carries the verdict', async () => {
  const ref = `${SRC}/${first.id}`;
  const verified = await cli(['message', 'status', ref, '--verify']);
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  assert.match(verified.stdout, /state +delivered after \d+ attempt/);
  for (const check of ['log-signature', 'inclusion', 'target', 'message', 'record', 'checkpoint', 'receipt-entry'])
    assert.match(verified.stdout, new RegExp(`ok   ${check}:`), check);
  assert.match(verified.stdout, /message verified: sent \(source log\) and delivered \(target log\)/);

  const asJson = await cli(['message', 'status', first.id, '--ns', SRC, '--verify', '--json']);
  assert.equal(asJson.code, 0, asJson.stderr);
  const view = json<{ state: string; sent_proof: string; verification: { ok: boolean; sent: { key: string } } }>(
    asJson.stdout,
  );
  assert.equal(view.state, 'delivered');
  assert.equal(view.verification.ok, true);
  assert.match(view.verification.sent.key, /GET \/v1\/node|registry/);

  // Pinned keys. A namespace's key is named for its own origin: it covers the sent proof only.
  const srcKey = json<{ log_vkey: string }>((await cli(['ns', 'show', SRC, '--json'])).stdout).log_vkey;
  const partly = await cli(['message', 'status', ref, '--verify', '--log-vkey', srcKey]);
  assert.equal(partly.code, 1, partly.stdout);
  assert.match(partly.stdout, /message NOT verified \(sent proof ok\)/);
  // The node's key (named as the node, as its registry entry) signs every log of the node.
  const nodeKey = ((await (await fetch(`${node.url}/v1/node`)).json()) as { log_vkey: string }).log_vkey;
  const pinned = await cli(['message', 'status', ref, '--verify', '--log-vkey', nodeKey, '--json']);
  assert.equal(pinned.code, 0, pinned.stdout);
  assert.match(json<{ verification: { sent: { key: string } } }>(pinned.stdout).verification.sent.key, /^pinned/);

  const proofs = await cli(['message', 'status', ref, '--proofs']);
  assert.equal(proofs.code, 0, proofs.stderr);
  assert.match(proofs.stdout, /c2sp\.org\/tlog-proof@v1/);
  assert.match(proofs.stdout, /"format": "vaultmesh\.receipt@1"/);
  assert.ok(proofs.stdout.includes(view.sent_proof.trimEnd()));
});

test('message inbox: the delivered message with its delivery entry, for a reader token of the target', async () => {
  const page = await cli(['message', 'inbox', DST, '--json'], { token: readerToken });
  assert.equal(page.code, 0, page.stderr);
  const items = page.stdout
    .trim()
    .split('\n')
    .map((l) => json<{ cursor: number; message_id: string; delivery: { index: number } }>(l));
  assert.equal(items[0]!.message_id, first.id);
  assert.equal(items[0]!.delivery.index, first.status!.delivery!.index);

  const human = await cli(['message', 'inbox', DST, '--limit', '1'], { token: readerToken });
  assert.equal(human.code, 0, human.stderr);
  assert.equal(
    human.stdout,
    `${items[0]!.cursor}  ${first.id}  from ${NODE}/${SRC}  notify invoice.issued  delivery entry ${items[0]!.delivery.index}\n`,
  );
  assert.match(human.stderr, /1 message\(s\); next: --after \d+/);
});

test('message inbox --follow prints a message sent after it started, and stops on SIGTERM with exit 0', async () => {
  const page = await cli(['message', 'inbox', DST, '--json'], { token: readerToken });
  const last = page.stdout
    .trim()
    .split('\n')
    .map((l) => json<{ cursor: number }>(l))
    .at(-1)!.cursor;
  const child = spawn(
    process.execPath,
    [CLI_BIN, 'message', 'inbox', DST, '--follow', '--after', String(last), '--url', node.url, '--token', readerToken],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  followers.push(child);
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const until = async (what: string, ok: () => boolean, ms = 20_000) => {
    const deadline = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; stdout: ${lines.join('\n')} stderr: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await until('the stream to open', () => /following app:inbox after cursor/.test(stderr));
  assert.equal(lines.length, 0, 'nothing after the cursor yet');

  const sent = await cli([
    'message',
    'send',
    '--from',
    SRC,
    '--to',
    `${NODE}/${DST}`,
    '--action',
    'query',
    '--operation',
    'balance',
    '--wait',
    'delivered',
    '--json',
  ]);
  assert.equal(sent.code, 0, sent.stdout + sent.stderr);
  const { id } = json<Sent>(sent.stdout);
  await until('the live item', () => lines.some((l) => l.includes(id)));
  assert.match(
    lines.find((l) => l.includes(id))!,
    new RegExp(`from ${NODE}/${SRC}  query balance  delivery entry \\d+`),
  );

  child.kill('SIGTERM');
  assert.equal(await waitExit(child, 10_000), 0, stderr);
});

test('failures: a refused message exits 1 with the target code; usage mistakes exit 2', async () => {
  const refused = await cli([
    'message',
    'send',
    '--from',
    SRC,
    '--to',
    `${NODE}/${CLOSED}`,
    '--action',
    'notify',
    '--operation',
    'ping',
    '--wait',
    'delivered',
    '--timeout',
    '60',
    '--json',
  ]);
  assert.equal(refused.code, 1, refused.stdout + refused.stderr);
  const r = json<Sent>(refused.stdout);
  assert.equal(r.state, 'refused');
  assert.match(r.error!.code, /^[A-Z_]+$/);

  const status = await cli(['message', 'status', `${SRC}/${r.id}`]);
  assert.equal(status.code, 0);
  assert.match(status.stdout, new RegExp(`state +refused[\\s\\S]*error +${r.error!.code}:`));

  const noNode = await cli(['message', 'send', '--from', SRC, '--to', DST, '--action', 'notify', '--operation', 'x']);
  assert.equal(noNode.code, 2);
  assert.match(noNode.stderr, /--to "app:inbox" must be NODE\/NAMESPACE/);
  const notFound = await cli(['message', 'status', `${SRC}/${'0'.repeat(64)}`]);
  assert.equal(notFound.code, 1);
  assert.match(notFound.stderr, /NOT_FOUND/);
});
