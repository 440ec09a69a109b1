import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MemoryTree, verifyConsistency } from '@vaultmesh/core';
import { entry, open, tempDirs } from './engine-fixture.js';

const dirs = tempDirs('vm-crash-');
after(() => dirs.cleanup());
const writer = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));

/** Runs the writer until it has acknowledged `minAcks` calls (and then a random bit longer), then SIGKILLs it. */
function runAndKill(dir: string, minAcks: number): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=vaultmesh-src', '--import', 'tsx', writer, dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acked = new Map<string, number>();
    let acks = 0;
    let buffer = '';
    let stderr = '';
    let killing = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const m = /^ack (\S+) (\d+) (\d+)$/.exec(line);
        if (m === null) continue;
        const end = Number(m[2]) + Number(m[3]);
        acked.set(m[1]!, Math.max(acked.get(m[1]!) ?? 0, end));
        if (++acks >= minAcks && !killing) {
          killing = true;
          setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 30));
        }
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(acked);
      else reject(new Error(`writer exited with ${code}: ${stderr}`));
    });
  });
}

test('after kill -9 at random moments, every acknowledged entry is there and the tree is consistent', async () => {
  const dir = dirs.make();
  const checkpoints = new Map<string, { size: number; root: Uint8Array }>();
  for (const minAcks of [50, 400, 1500]) {
    const acked = await runAndKill(dir, minAcks);
    const e = open(dir); // verifies tree state, tiles, entries and latest checkpoint agree
    for (const ns of ['k:a', 'k:b']) {
      const size = e.sequencedSize(ns);
      assert.ok(size >= (acked.get(ns) ?? 0), `${ns}: ${size} stored < ${acked.get(ns)} acknowledged`);
      assert.equal(e.integratedSize(ns), size);
      const datas = e.getEntries(ns, 0, size);
      const tree = new MemoryTree();
      datas.forEach((d, i) => {
        assert.deepEqual(d, entry(ns, i), `${ns} entry ${i}`);
        tree.append(d);
      });
      assert.deepEqual(e.rootAt(ns, size), tree.root());
      // Checkpoints seen before a crash are consistent with the state after it.
      const latest = e.latestCheckpoint(ns)!;
      assert.deepEqual(latest.root, tree.rootAt(latest.size));
      const earlier = checkpoints.get(ns);
      if (earlier !== undefined) {
        verifyConsistency(earlier.size, size, e.consistencyProof(ns, earlier.size, size), earlier.root, tree.root());
      }
      checkpoints.set(ns, { size: latest.size, root: latest.root });
    }
    await e.close();
  }
});
