import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CLI_BIN } from './harness/compiled-cli.js';
import { REPO_ROOT, runCli, waitExit } from './harness/cli-process.js';
import { freePortRange } from './harness/local-federation.js';

// Issue 10 item 12: "`npm start` shows an anchored receipt for the demo namespace (local TSA
// started by `federation up`)." The package.json start script itself, run as the README's
// quickstart runs it (human output), with a temp data dir and free ports instead of ./data and
// 7801: it must print the `Anchored:` line, and the receipt it saved must verify offline with
// `--require-anchor` against the genesis registry and the local TSA's CA that `federation up` wrote.
const dir = mkdtempSync(join(tmpdir(), 'remembrancer-e2e-npm-start-'));
let up: ChildProcess | undefined;

after(async () => {
  if (up) {
    up.kill('SIGKILL');
    await waitExit(up, 10_000);
  }
  rmSync(dir, { recursive: true, force: true });
});

test(
  'npm start prints an anchored receipt of the demo namespace, and it verifies offline',
  { timeout: 120_000 },
  async () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
    const words = pkg.scripts.start.split(/\s+/);
    assert.deepEqual(words.slice(0, 2), ['node', 'packages/cli/bin/remembrancer.js'], pkg.scripts.start);
    const data = join(dir, 'data');
    const base = await freePortRange(3);
    const args = words.slice(2).map((w, i, all) => {
      if (all[i - 1] === '--data') return data;
      if (all[i - 1] === '--base-port') return String(base);
      return w;
    });
    assert.ok(args.includes('--demo') && args.includes(data) && args.includes(String(base)), args.join(' '));

    up = spawn(process.execPath, [CLI_BIN, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const child = up;
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    // Ready once it says how to stop it; bounded, and a child that exits first is a failure.
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`npm start not ready in 90 s:\n${stdout}\n${stderr}`)), 90_000);
      child.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('Press Ctrl-C')) {
          clearTimeout(timer);
          ready();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`npm start exited with ${code}:\n${stdout}\n${stderr}`));
      });
    });
    const anchoredLine =
      /^Anchored: the federation timestamped that checkpoint at the local TSA \(http:\/\/127\.0\.0\.1:\d+\/\); receipt with its federation receipt saved to (\S+)\. Verify it offline, from the entry to the timestamp:$/m.exec(
        stdout,
      );
    assert.ok(anchoredLine, `npm start prints the Anchored line:\n${stdout}`);
    const logVkey = /--log-vkey '([^']+)'/.exec(stdout)?.[1];
    assert.ok(logVkey, stdout);
    // The command it prints for that receipt names the pinned registry and the TSA trust anchor.
    assert.match(
      stdout,
      /verify \S+demo-anchored-receipt\.json .* --registry \S+registry-genesis\.json --tsa-ca \S+tsa-ca\.pem --require-anchor$/m,
    );
    const v = await runCli([
      'verify',
      resolve(REPO_ROOT, anchoredLine[1]!),
      '--log-vkey',
      logVkey,
      '--registry',
      join(data, 'registry-genesis.json'),
      '--tsa-ca',
      join(data, 'tsa-ca.pem'),
      '--require-anchor',
    ]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /^ok {3}anchor\[0\] anchor: rfc3161 evidence over the epoch statement verifies/m);
    assert.match(v.stdout, /receipt verified to [1-9]\d* anchor\(s\)/);

    // Ctrl-C stops every node.
    child.kill('SIGINT');
    assert.equal(await waitExit(child, 20_000), 0, stderr);
    up = undefined;
    for (let i = 0; i < 3; i++)
      await assert.rejects(fetch(`http://127.0.0.1:${base + i}/healthz`), `node ${i} stopped with npm start`);
  },
);
