import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  base64Decode,
  leafHash,
  canonicalBytes,
  verifyConsistency,
  verifyInclusion,
  parseCheckpoint,
} from '@vaultmesh/core';
import { postgresNodeFixture, until } from './harness/postgres-node.js';

// Issue 14 item 4 with real processes: two `serve` processes of one node on one PostgreSQL
// database; the lease holder is killed with SIGKILL while a client appends; the follower takes
// the lease over and signs; nothing acknowledged is lost or duplicated; the checkpoints before
// and after are consistent.
const NS = 'dao:failover';
const node = postgresNodeFixture('remembrancer-pg-failover-', 'failover.vaultmesh.local');
const auth = () => node.auth();

interface Acked {
  index: number;
  leafHash: string;
  entry: Record<string, unknown>;
}

async function checkpointOf(url: string): Promise<{ size: number; root: Uint8Array }> {
  const r = await fetch(`${url}/v1/ns/${NS}/checkpoint`);
  assert.equal(r.status, 200);
  // The signed note: the checkpoint body, a blank line, signature lines.
  const cp = parseCheckpoint(`${(await r.text()).split('\n\n', 1)[0]!}\n`);
  return { size: cp.size, root: cp.root };
}

/** Every entry [0, size), read newest first a page at a time (GET /v1/ns/{ns}/entries). */
async function allEntries(url: string, size: number): Promise<{ index: number; entry: Record<string, unknown> }[]> {
  const out: { index: number; entry: Record<string, unknown> }[] = new Array(size);
  for (let before = size; before > 0;) {
    const r = await fetch(`${url}/v1/ns/${NS}/entries?before=${before}&limit=100`);
    assert.equal(r.status, 200);
    const page = (await r.json()) as { entries: { index: number; entry: Record<string, unknown> }[]; next?: number };
    for (const e of page.entries) out[e.index] = e;
    before = page.next ?? 0;
  }
  return out;
}

test('kill -9 of the lease holder under load: the standby takes over and signs; every acknowledged entry is there once at its index; checkpoints stay consistent', async () => {
  const a = await node.serve();
  const created = await fetch(`${a.url}/v1/ns/${NS}`, { method: 'PUT', headers: auth(), body: '{}' });
  assert.equal(created.status, 201, await created.text());
  // The follower: it serves appends and reads, and takes the lease over when the holder dies.
  const b = await node.serve();

  const acked: Acked[] = [];
  const failures: string[] = [];
  let n = 0;
  let stop = false;
  const load = (async () => {
    while (!stop) {
      const batch = Array.from({ length: 5 }, () => ({ writer: 'load', n: n++ }));
      try {
        const r = await fetch(`${a.url}/v1/ns/${NS}/batch`, {
          method: 'POST',
          headers: auth(),
          body: JSON.stringify({ entries: batch }),
        });
        if (r.status !== 201) {
          failures.push(`${r.status} ${await r.text()}`);
          continue;
        }
        const body = (await r.json()) as { indices: number[]; leaf_hashes: string[] };
        body.indices.forEach((index, i) => acked.push({ index, leafHash: body.leaf_hashes[i]!, entry: batch[i]! }));
      } catch {
        return; // the holder is gone
      }
    }
  })();
  await until(
    'a checkpoint under load',
    async () => ((await checkpointOf(a.url)).size >= 50 ? true : undefined),
    30_000,
  );
  const before = await checkpointOf(a.url);
  await node.kill(a);
  const killedAt = Date.now();
  stop = true;
  await load;

  const lastAcked = Math.max(...acked.map((x) => x.index));
  const after = await until(
    'the new holder to sign every acknowledged entry',
    async () => {
      const cp = await checkpointOf(b.url);
      return cp.size > lastAcked ? cp : undefined;
    },
    30_000,
  );
  // Measured, not asserted (timed assertions flake on shared machines): the bench reports p50/p99.
  console.log(`failover: the follower signed ${after.size} entries ${Date.now() - killedAt} ms after the kill`);

  // Every acknowledged entry, once, at its acknowledged index.
  const list = await allEntries(b.url, after.size);
  assert.equal(list.length, after.size);
  const seen = new Set<number>();
  for (const e of list) {
    if (e.entry.writer === 'load') {
      assert.equal(seen.has(e.entry.n as number), false, `entry ${String(e.entry.n)} appears twice`);
      seen.add(e.entry.n as number);
    }
  }
  for (const x of acked) {
    assert.deepEqual(list[x.index]!.entry, x.entry, `acknowledged entry at ${x.index}`);
    assert.deepEqual(leafHash(canonicalBytes(x.entry)), base64Decode(x.leafHash));
  }
  // The checkpoints before and after the failover are consistent, and receipts verify against the new one.
  const cons = (await (
    await fetch(`${b.url}/v1/ns/${NS}/proof/consistency?from=${before.size}&to=${after.size}`)
  ).json()) as { proof: string[] };
  verifyConsistency(before.size, after.size, cons.proof.map(base64Decode), before.root, after.root);
  for (const x of acked.filter((_, i) => i % 17 === 0)) {
    const inc = (await (
      await fetch(`${b.url}/v1/ns/${NS}/proof/inclusion?index=${x.index}&size=${after.size}`)
    ).json()) as { proof: string[] };
    verifyInclusion(x.index, after.size, base64Decode(x.leafHash), inc.proof.map(base64Decode), after.root);
  }
  // The new holder takes appends at the next index.
  const next = await fetch(`${b.url}/v1/ns/${NS}/entries`, {
    method: 'POST',
    headers: auth(),
    body: '{"after":"failover"}',
  });
  assert.equal(next.status, 201);
  assert.equal(((await next.json()) as { index: number }).index, after.size);
  await node.stop(b);
});
