import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startCli, type LongRunningCli } from './harness/cli-process.js';
import { freePortRange } from './harness/local-federation.js';

// What `npm start` runs: `federation up --nodes 3 --demo`.
const dir = mkdtempSync(join(tmpdir(), 'remembrancer-up-'));
let up: LongRunningCli | undefined;
after(async () => {
  await up?.kill();
  rmSync(dir, { recursive: true, force: true });
});

interface Ready {
  federation_id: string;
  nodes: Array<{ name: string; url: string }>;
  demo: { receipt: string; log_vkey: string; witness_vkeys: string[] };
}

test(
  'federation up starts N nodes with a genesis registry, a demo receipt with cosignatures, and stops them all',
  { timeout: 90_000 },
  async () => {
    const base = await freePortRange(3);
    up = await startCli(
      ['federation', 'up', '--nodes', '3', '--base-port', String(base), '--data', join(dir, 'fed'), '--demo'],
      { timeoutMs: 60_000 },
    );
    const ready = up.first as unknown as Ready;
    assert.deepEqual(
      ready.nodes.map((n) => n.url),
      [0, 1, 2].map((i) => `http://127.0.0.1:${base + i}`),
    );
    for (const n of ready.nodes) {
      const s = (await (await fetch(`${n.url}/v1/federation/status`)).json()) as {
        registry_version: number;
        active_peers: number;
      };
      assert.equal(s.registry_version, 1);
      assert.equal(s.active_peers, 3);
    }
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
