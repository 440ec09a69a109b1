import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { killAfterAcks } from '../fixtures/kill-after-acks.js';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { MemoryTree, leafHash, verifyConsistency } from '@vaultmesh/core';
import { LOG_DB_FILE } from '../../src/log/open-log-engine.js';
import { SqliteLogStorage } from '../../src/storage/index.js';
import { entry, open, tempDirs } from './engine-fixture.js';
import { LEAF_CHUNK } from '../../src/storage/leaf-runs.js';

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
    const e = await open(dir); // verifies tree state, tiles, entries and latest checkpoint agree
    for (const ns of ['k:a', 'k:b']) {
      const size = e.sequencedSize(ns);
      assert.ok(size >= (acked.get(ns) ?? 0), `${ns}: ${size} stored < ${acked.get(ns)} acknowledged`);
      assert.equal(e.integratedSize(ns), size);
      const datas = await e.getEntries(ns, 0, size);
      const tree = new MemoryTree();
      datas.forEach((d, i) => {
        assert.deepEqual(d, entry(ns, i), `${ns} entry ${i}`);
        tree.append(d);
      });
      for (let i = 0; i < size; i += 37) assert.equal(await e.findLeaf(ns, leafHash(datas[i]!)), i, `${ns} leaf ${i}`);
      assert.deepEqual(await e.rootAt(ns, size), tree.root());
      // Checkpoints seen before a crash are consistent with the state after it.
      const latest = e.latestCheckpoint(ns)!;
      assert.deepEqual(latest.root, tree.rootAt(latest.size));
      const earlier = checkpoints.get(ns);
      if (earlier !== undefined) {
        verifyConsistency(
          earlier.size,
          size,
          await e.consistencyProof(ns, earlier.size, size),
          earlier.root,
          tree.root(),
        );
      }
      checkpoints.set(ns, { size: latest.size, root: latest.root });
    }
    await e.close();
  }
});

test('after kill -9, the leaf-hash index covers every complete chunk stored, before any back-fill', async () => {
  const dir = dirs.make();
  let acked = 0;
  await killAfterAcks({
    script: fileURLToPath(new URL('./fixtures/leaf-crash-writer.ts', import.meta.url)),
    args: [dir],
    ack: /^ack (\d+) (\d+)$/,
    onAck: (m) => void (acked = Math.max(acked, Number(m[1]) + Number(m[2]))),
    minAcks: Math.ceil((2 * LEAF_CHUNK) / 4096) + 1,
    jitterMs: 200,
  });
  // The runs are written in the transaction that completes their chunk: read before the engine
  // opens (which would write missing runs).
  const storage = new SqliteLogStorage({ path: join(dir, LOG_DB_FILE) });
  const key = (await storage.loadNamespaces()).find((n) => n.id === 'k:leaf')!.key;
  const count = await storage.entryCount(key);
  assert.ok(count >= acked && acked > 2 * LEAF_CHUNK, `${count} stored, ${acked} acknowledged`);
  assert.equal(await storage.leafIndexedSize(key), count - (count % LEAF_CHUNK));
  await storage.close();
  const indexed = await open(dir);
  try {
    for (const i of [0, LEAF_CHUNK - 1, LEAF_CHUNK + 5, count - 1]) {
      assert.equal(await indexed.findLeaf('k:leaf', leafHash(entry('k:leaf', i))), i, `entry ${i}`);
    }
  } finally {
    await indexed.close();
  }
});
