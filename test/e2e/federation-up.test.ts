import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT, runCli, startCli, waitExit, type LongRunningCli } from './harness/cli-process.js';
import { freePortRange } from './harness/local-federation.js';

// What `npm start` runs: `federation up --nodes 3 --demo` (with its dev chains: see
// anchoring-npm-start.test.ts). Here without them: `--no-chains`, and an install without the
// development dependencies that provide them.
const dir = mkdtempSync(join(tmpdir(), 'remembrancer-up-'));
let up: LongRunningCli | undefined;
after(async () => {
  await up?.kill();
  rmSync(dir, { recursive: true, force: true });
});

interface Ready {
  federation_id: string;
  nodes: Array<{ name: string; url: string; data: string }>;
  explorer: string;
  anchor_targets: Record<string, { url?: string; rpc_url?: string }>;
  chains_unavailable?: string;
  demo: { receipt: string; log_vkey: string; witness_vkeys: string[] };
}

test(
  'federation up starts N nodes with a genesis registry, a demo receipt with cosignatures, and stops them all',
  { timeout: 90_000 },
  async () => {
    const base = await freePortRange(3);
    up = await startCli(
      [
        'federation',
        'up',
        '--nodes',
        '3',
        '--base-port',
        String(base),
        '--data',
        join(dir, 'fed'),
        '--demo',
        '--no-chains',
      ],
      { timeoutMs: 60_000 },
    );
    const ready = up.first as unknown as Ready;
    assert.deepEqual(
      ready.nodes.map((n) => n.url),
      [0, 1, 2].map((i) => `http://127.0.0.1:${base + i}`),
    );
    // The summary names the first node's explorer (the quickstart's page to open).
    assert.equal(ready.explorer, `http://127.0.0.1:${base}/explorer/`);
    for (const n of ready.nodes) {
      const s = (await (await fetch(`${n.url}/v1/federation/status`)).json()) as {
        registry_version: number;
        active_peers: number;
      };
      assert.equal(s.registry_version, 1);
      assert.equal(s.active_peers, 3);
    }
    // --no-chains: the TSA only, in the ready line, in every node's config and in the demo cadence.
    assert.deepEqual(Object.keys(ready.anchor_targets), ['rfc3161:local']);
    assert.equal(ready.chains_unavailable, undefined);
    for (const n of ready.nodes) {
      const cfg = JSON.parse(readFileSync(join(n.data, 'config.json'), 'utf8')) as {
        anchoring: { targets: Record<string, unknown> };
      };
      assert.deepEqual(Object.keys(cfg.anchoring.targets), ['rfc3161:local'], n.name);
    }
    const ns = (await (await fetch(`${ready.nodes[0]!.url}/v1/ns/dao:vaultmesh`)).json()) as {
      cadence: Record<string, { target: string }>;
    };
    assert.deepEqual(ns.cadence, { fast: { target: 'rfc3161:local', every: '5s', confirmations: 0 } });
    const args = [
      'verify',
      ready.demo.receipt,
      '--log-vkey',
      ready.demo.log_vkey,
      ...ready.demo.witness_vkeys.flatMap((w) => ['--witness-vkey', w]),
      '--json',
    ];
    const v = await runCli(args);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.ok(((JSON.parse(v.stdout) as { cosigners?: string[] }).cosigners ?? []).length >= 1);
    assert.equal(await up.stop(), 0);
    up = undefined;
    for (const n of ready.nodes)
      await assert.rejects(fetch(`${n.url}/healthz`), 'every node stopped with federation up');
  },
);

/**
 * A copy of the built packages whose node_modules holds every installed package but the
 * development-only bcoin and @foundry-rs/anvil: what `npm install --omit=dev` would leave. The
 * other packages are links to this checkout's, so the copy is a few MB and quick to make.
 */
function installWithoutDevChains(root: string): string {
  const modules = join(root, 'node_modules');
  mkdirSync(join(modules, '@vaultmesh'), { recursive: true });
  for (const name of readdirSync(join(REPO_ROOT, 'node_modules'))) {
    if (name === 'bcoin' || name === '@foundry-rs' || name === '@vaultmesh') continue;
    symlinkSync(join(REPO_ROOT, 'node_modules', name), join(modules, name));
  }
  const copy = (path: string) => cpSync(join(REPO_ROOT, path), join(root, path), { recursive: true });
  for (const p of ['core', 'node', 'cli']) {
    copy(`packages/${p}/package.json`);
    copy(`packages/${p}/dist`);
    symlinkSync(`../../packages/${p}`, join(modules, '@vaultmesh', p));
  }
  copy('packages/cli/bin');
  copy('packages/node/native');
  copy('packages/node/src/anchoring/dev-chains');
  copy('schemas');
  return join(root, 'packages/cli/bin/remembrancer.js');
}

test(
  'without bcoin and @foundry-rs/anvil installed, federation up says so in one line and runs with the TSA only',
  { timeout: 60_000 },
  async () => {
    const bin = installWithoutDevChains(join(dir, 'install'));
    const base = await freePortRange(1);
    const child = spawn(
      process.execPath,
      [bin, 'federation', 'up', '--nodes', '1', '--base-port', String(base), '--data', join(dir, 'bare'), '--json'],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not ready in 45 s; stderr: ${stderr}`)), 45_000);
        child.once('exit', (code) => reject(new Error(`exited with ${code}; stderr: ${stderr}`)));
        createInterface({ input: child.stdout }).once('line', (l) => {
          clearTimeout(timer);
          resolve(l);
        });
      });
      const ready = JSON.parse(line) as Ready;
      assert.deepEqual(Object.keys(ready.anchor_targets), ['rfc3161:local']);
      const said = stderr.split('\n').filter((l) => l !== '');
      assert.equal(said.length, 1, stderr);
      assert.match(
        said[0]!,
        /^dev chains: bcoin and @foundry-rs\/anvil are not installed \(development dependencies: npm install in the repository installs them\); anchoring without /,
      );
      assert.equal(ready.chains_unavailable, said[0]);
      const s = await fetch(`${ready.nodes[0]!.url}/healthz`);
      assert.equal(s.status, 200);
      child.removeAllListeners('exit');
      child.kill('SIGTERM');
      assert.equal(await waitExit(child, 20_000), 0, stderr);
    } finally {
      child.kill('SIGKILL');
    }
  },
);
