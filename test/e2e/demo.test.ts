import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startCli, type LongRunningCli } from './harness/cli-process.js';

// What `npm start` runs: a node in a data directory with a demo namespace and a verifiable receipt;
// a second start carries on with the same identity and log.
const dir = mkdtempSync(join(tmpdir(), 'remembrancer-demo-'));
const data = join(dir, 'data');
let demo: LongRunningCli | undefined;
after(async () => {
  await demo?.kill();
  rmSync(dir, { recursive: true, force: true });
});

test(
  'the demo records memories whose receipt verifies offline, and resumes on restart',
  { timeout: 60_000 },
  async () => {
    demo = await startCli(['demo', '--data', data, '--listen', '127.0.0.1:0']);
    const first = demo.first as { url: string; indices: number[]; receipt: string; log_vkey: string };
    assert.deepEqual(first.indices, [0, 1, 2]);
    const node = (await (await fetch(`${first.url}/v1/node`)).json()) as { namespaces: string[]; endpoint: string };
    assert.deepEqual(node.namespaces, ['sys:governance', 'dao:vaultmesh']);
    // Started on port 0: the node reports where it really listens.
    assert.equal(node.endpoint, first.url);
    const verified = await runCli(['verify', first.receipt, '--log-vkey', first.log_vkey]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.equal(await demo.stop(), 0);

    demo = await startCli(['demo', '--data', data, '--listen', '127.0.0.1:0']);
    const second = demo.first as { indices: number[]; log_vkey: string };
    assert.deepEqual(second.indices, [3, 4, 5]);
    assert.equal(second.log_vkey, first.log_vkey, 'same identity');
    assert.equal(await demo.stop(), 0);
    demo = undefined;
  },
);
