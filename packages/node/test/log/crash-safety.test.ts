import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { killAfterAcks } from '../fixtures/kill-after-acks.js';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { MemoryTree, leafHash, verifyConsistency } from '@vaultmesh/core';
import { LOG_DB_FILE } from '../../src/log/open-log-engine.js';
import { SqliteLogStorage } from '../../src/storage/index.js';
import { entry, open, tempDirs } from './engine-fixture.js';

const dirs = tempDirs('vm-crash-');
after(() => dirs.cleanup());
const writer = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));

/** Runs the writer until it has acknowledged `minAcks` calls (and then a random bit longer), then SIGKILLs it. */
async function runAndKill(dir: string, minAcks: number): Promise<Map<string, number>> {
  const acked = new Map<string, number>();
  await killAfterAcks({
    script: writer,
    args: [dir],
    ack: /^ack (\S+) (\d+) (\d+)$/,
    onAck: (m) => acked.set(m[1]!, Math.max(acked.get(m[1]!) ?? 0, Number(m[2]) + Number(m[3]))),
    minAcks,
    jitterMs: 30,
  });
  return acked;
}

test('after kill -9 at random moments, every acknowledged entry is there and the tree is consistent', async () => {
  const dir = dirs.make();
  const checkpoints = new Map<string, { size: number; root: Uint8Array }>();
  for (const minAcks of [50, 400, 1500]) {
    const acked = await runAndKill(dir, minAcks);
    // The leaf-hash index is written in the commit's transaction: it covers every stored entry
    // before the engine's open could back-fill anything.
    const storage = new SqliteLogStorage({ path: join(dir, LOG_DB_FILE) });
    for (const ns of storage.loadNamespaces()) {
      assert.equal(storage.leafIndexedSize(ns.key), storage.entryCount(ns.key), `${ns.id}: leaf index after kill -9`);
    }
    storage.close();
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
      for (let i = 0; i < size; i += 37) assert.equal(e.findLeaf(ns, leafHash(datas[i]!)), i, `${ns} leaf ${i}`);
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
