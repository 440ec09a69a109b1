import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT, runCli, startServe, type ServeProcess } from './harness/cli-process.js';
import { CLI_BIN } from './harness/compiled-cli.js';

// Private on disk (issue 8, item 5), checked on a real `remembrancer serve` process. The tests run
// as root, so a second user's read would succeed whatever the modes: the checks are on mode bits.
// The CLI processes inherit the common permissive umask on purpose: the node must set its own.
process.umask(0o022);

const dir = mkdtempSync(join(tmpdir(), 'remembrancer-private-'));
const data = join(dir, 'node');
const NS = 'dao:private-disk';
let node: ServeProcess | undefined;

before(() => {
  // An operator's `mkdir` under umask 022: init must not keep it 0755.
  mkdirSync(data);
  chmodSync(data, 0o755);
});

after(async () => {
  if (node) await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Every path under the data directory (itself included) with its type and permission bits. */
function modes(root: string): { path: string; dir: boolean; mode: number }[] {
  const out: { path: string; dir: boolean; mode: number }[] = [];
  const walk = (p: string): void => {
    const st = lstatSync(p);
    out.push({ path: p.slice(data.length) || '/', dir: st.isDirectory(), mode: st.mode & 0o777 });
    if (st.isDirectory()) for (const name of readdirSync(p).sort()) walk(join(p, name));
  };
  walk(root);
  return out;
}

function assertAllPrivate(when: string): void {
  for (const m of modes(data)) {
    assert.equal(m.mode, m.dir ? 0o700 : 0o600, `${when}: ${m.path} is ${m.mode.toString(8)}`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `serve` with its stderr kept (the harness keeps it only for failures): resolves once the node
 * listens, with what it had logged by then. The caller stops it.
 */
function serveWithStderr(): Promise<{ stop(): Promise<void>; stderr(): string }> {
  const child = spawn(process.execPath, [CLI_BIN, 'serve', '--data', data, '--listen', '127.0.0.1:0', '--json'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop().then(() => reject(new Error(`serve did not start in time; stderr: ${stderr}`)));
    }, 20_000);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`serve exited before listening; stderr: ${stderr}`));
    });
    createInterface({ input: child.stdout }).once('line', () => {
      clearTimeout(timer);
      resolve({ stop, stderr: () => stderr });
    });
  });
}

test('init makes the pre-existing 0755 data directory 0700 and every file 0600', async () => {
  const init = await runCli(['init', '--data', data, '--name', 'alpha.vaultmesh.local', '--json']);
  assert.equal(init.code, 0, init.stderr);
  assert.equal(lstatSync(data).mode & 0o777, 0o700);
  assertAllPrivate('after init');
});

test('after a serve that wrote entries (WAL present, tiles mirrored), every file is 0600 and every directory 0700', async () => {
  node = await startServe(data);
  const cli = (args: string[]) => runCli([...args, '--url', node!.url, '--data', data]);
  const created = await cli(['ns', 'create', NS, '--json']);
  assert.equal(created.code, 0, created.stderr);
  // 600 entries fill two 256-wide level-0 tiles, which the tile mirror copies to flat files.
  const jsonl = join(dir, 'batch.jsonl');
  writeFileSync(
    jsonl,
    Array.from({ length: 600 }, (_, i) => JSON.stringify({ secret: `entry ${i}` })).join('\n') + '\n',
  );
  const rec = await cli(['record', '--ns', NS, '--batch', jsonl, '--no-receipt', '--json']);
  assert.equal(rec.code, 0, rec.stderr);

  const tilesDir = join(data, 'remembrancer.sqlite.tiles');
  const mirrored = () =>
    existsSync(join(tilesDir, 'mirror-state.json')) && readdirSync(tilesDir).some((f) => f.endsWith('.tiles'));
  // The mirror is written after integration and synced on a tick: wait for it, bounded.
  for (let i = 0; i < 200 && !mirrored(); i++) await sleep(100);
  assert.ok(mirrored(), `tiles mirrored in ${tilesDir}: ${readdirSync(tilesDir).join(', ')}`);

  // While the node runs, its databases are open in WAL mode: the -wal and -shm files exist.
  const expected = ['remembrancer', 'witness', 'federation', 'cadence'].flatMap((db) =>
    ['', '-wal', '-shm'].map((s) => `/${db}.sqlite${s}`),
  );
  const present = new Set(modes(data).map((m) => m.path));
  for (const f of expected) assert.ok(present.has(f), `${f} exists while serving (${[...present].join(', ')})`);
  assertAllPrivate('while serving');

  assert.equal(await node.stop(), 0);
  node = undefined;
  assertAllPrivate('after serve stopped');
});

test('serve repairs a data directory, database or tiles readable by others, logging a warning per path', async () => {
  chmodSync(data, 0o755);
  chmodSync(join(data, 'remembrancer.sqlite'), 0o644);
  chmodSync(join(data, 'remembrancer.sqlite.tiles'), 0o755);
  chmodSync(join(data, 'config.json'), 0o640);
  const serve = await serveWithStderr();
  try {
    // stdout and stderr are separate pipes: the ready line can be read before the warnings logged
    // earlier. Fastify logs "Server listening" after them, so once it is in, they all are.
    for (let i = 0; i < 100 && !serve.stderr().includes('Server listening'); i++) await sleep(50);
    assert.ok(serve.stderr().includes('Server listening'), serve.stderr());
    const warnings = serve
      .stderr()
      .split('\n')
      .filter((l) => l.includes('repaired permissions'))
      .map((l) => JSON.parse(l) as { level: number; path: string; from: string; to: string });
    assert.deepEqual(
      warnings.map((w) => [w.level, w.path.slice(data.length) || '/', w.from, w.to]).sort(),
      [
        [40, '/', '755', '700'],
        [40, '/config.json', '640', '600'],
        [40, '/remembrancer.sqlite', '644', '600'],
        [40, '/remembrancer.sqlite.tiles', '755', '700'],
      ].sort(),
    );
    assertAllPrivate('after serve repaired');
  } finally {
    await serve.stop();
  }
});

test('serve refuses a key or the admin token readable by others: DATA_DIR_INSECURE, exit 1, nothing changed', async () => {
  chmodSync(join(data, 'keys', 'peer.key'), 0o644);
  chmodSync(join(data, 'admin.token'), 0o640);
  chmodSync(join(data, 'cadence.sqlite'), 0o644);
  const r = await runCli(['serve', '--data', data, '--listen', '127.0.0.1:0', '--json']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const { error } = JSON.parse(r.stdout) as { error: { code: string; message: string } };
  assert.equal(error.code, 'DATA_DIR_INSECURE');
  assert.ok(error.message.includes(`${join(data, 'keys', 'peer.key')} (mode 0644)`), error.message);
  assert.ok(error.message.includes(`${join(data, 'admin.token')} (mode 0640)`), error.message);
  // A refusal leaves every mode as it was: the operator decides (rotate, then chmod).
  assert.equal(lstatSync(join(data, 'cadence.sqlite')).mode & 0o777, 0o644);

  const text = await runCli(['serve', '--data', data, '--listen', '127.0.0.1:0']);
  assert.equal(text.code, 1);
  assert.match(text.stderr, /secrets readable by group or others.*\(DATA_DIR_INSECURE\)/);

  // Once the operator tightens the secrets, serve starts (and repairs the rest).
  chmodSync(join(data, 'keys', 'peer.key'), 0o600);
  chmodSync(join(data, 'admin.token'), 0o600);
  node = await startServe(data);
  assertAllPrivate('after the operator fixed the secrets');
  assert.equal(await node.stop(), 0);
  node = undefined;
});
