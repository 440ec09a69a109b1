import { test } from 'node:test';
import assert from 'node:assert/strict';
import { base64Decode, canonicalBytes, leafHash, parseCheckpoint, verifyInclusion } from '@vaultmesh/core';
import { postgresNodeFixture, until } from './harness/postgres-node.js';

// Issue 14 item 3 with real processes: three `serve` processes of one node on one PostgreSQL
// database. Each takes appends at once — indices come from the database, no duplicate, no gap,
// each client's in order — and serves reads of what the lease holder integrated and signed;
// what only the holder serves (governance, the witness, federation) is forwarded to it. When the
// holder stops, another front end takes over and the survivors go on appending.
const NS = 'dao:frontends';
const node = postgresNodeFixture('remembrancer-pg-front-ends-', 'frontends.vaultmesh.local');
const auth = () => node.auth();

interface Acked {
  index: number;
  entry: Record<string, unknown>;
}

async function checkpointOf(url: string): Promise<{ size: number; root: Uint8Array; note: string }> {
  const r = await fetch(`${url}/v1/ns/${NS}/checkpoint`);
  assert.equal(r.status, 200);
  const note = await r.text();
  const cp = parseCheckpoint(`${note.split('\n\n', 1)[0]!}\n`);
  return { size: cp.size, root: cp.root, note };
}

/** How many GET /v1/federation/status a front end answered itself (its /metrics). */
async function statusRequests(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('remembrancer_http_requests_total{') &&
        l.includes('route="/v1/federation/status"') &&
        l.includes('status="200"'),
    );
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** One client per front end: single appends and batches, alternating, each answer an acknowledgement. */
async function appendThrough(url: string, writer: string, rounds: number): Promise<Acked[]> {
  const acked: Acked[] = [];
  for (let n = 0; n < rounds; n++) {
    if (n % 2 === 0) {
      const entry = { writer, n };
      const r = await fetch(`${url}/v1/ns/${NS}/entries`, {
        method: 'POST',
        headers: auth(),
        body: JSON.stringify(entry),
      });
      assert.equal(r.status, 201, `${writer} ${n}: ${await r.clone().text()}`);
      acked.push({ index: ((await r.json()) as { index: number }).index, entry });
    } else {
      const entries = Array.from({ length: 4 }, (_, k) => ({ writer, n, k }));
      const r = await fetch(`${url}/v1/ns/${NS}/batch`, {
        method: 'POST',
        headers: auth(),
        body: JSON.stringify({ entries }),
      });
      assert.equal(r.status, 201, `${writer} ${n}: ${await r.clone().text()}`);
      const { indices } = (await r.json()) as { indices: number[] };
      indices.forEach((index, k) => acked.push({ index, entry: entries[k]! }));
    }
  }
  return acked;
}

test('three front ends append at once: one sequence from the database, reads everywhere, the rest forwarded to the holder, and a takeover when it stops', async () => {
  const a = await node.serve({ timeoutMs: 60_000 });
  const b = await node.serve({ timeoutMs: 60_000 });
  const c = await node.serve({ timeoutMs: 60_000 });
  const fronts = [a, b, c];
  // The first took the lease; the others follow, and each says which it is.
  const roles = await Promise.all(
    fronts.map(async (f) => ((await (await fetch(`${f.url}/healthz`)).json()) as { role: string }).role),
  );
  assert.deepEqual(roles, ['holder', 'follower', 'follower']);

  // Governance is the holder's: a namespace created through a follower is forwarded there, and
  // every front end then serves it.
  const created = await fetch(`${b.url}/v1/ns/${NS}`, { method: 'PUT', headers: auth(), body: '{}' });
  assert.equal(created.status, 201, await created.text());
  for (const f of fronts)
    await until(
      `${f.url} to serve the namespace`,
      async () => ((await fetch(`${f.url}/v1/ns/${NS}`)).ok ? true : undefined),
      15_000,
    );

  // Three clients at once, one per front end.
  const perClient = await Promise.all(fronts.map((f, i) => appendThrough(f.url, `client-${i}`, 12)));
  const acked = perClient.flat();
  const total = acked.length;
  assert.equal(total, 3 * (6 + 6 * 4));
  // No duplicate, no gap; each client's indices in the order it was answered.
  assert.deepEqual(
    acked.map((x) => x.index).sort((x, y) => x - y),
    Array.from({ length: total }, (_, i) => i),
  );
  for (const list of perClient)
    for (let i = 1; i < list.length; i++) assert.ok(list[i]!.index > list[i - 1]!.index, 'a client’s appends in order');

  // Reads at every front end: one signed checkpoint covering everything, the same entries, proofs that verify.
  const cps = await Promise.all(
    fronts.map((f) =>
      until(
        `${f.url} to serve a checkpoint of every entry`,
        async () => {
          const cp = await checkpointOf(f.url);
          return cp.size >= total ? cp : undefined;
        },
        15_000,
      ),
    ),
  );
  const size = Math.min(...cps.map((cp) => cp.size));
  const signed = await checkpointOf(a.url);
  for (const [i, f] of fronts.entries()) {
    const x = acked[(i * 37) % total]!;
    const got = (await (await fetch(`${f.url}/v1/ns/${NS}/entries/${x.index}`)).json()) as { entry: unknown };
    assert.deepEqual(got.entry, x.entry, `entry ${x.index} read through front end ${i}`);
    const inc = (await (
      await fetch(`${f.url}/v1/ns/${NS}/proof/inclusion?index=${x.index}&size=${signed.size}`)
    ).json()) as { proof: string[] };
    verifyInclusion(x.index, signed.size, leafHash(canonicalBytes(x.entry)), inc.proof.map(base64Decode), signed.root);
  }
  assert.ok(size >= total);

  // What only the holder serves, asked of a follower, is answered by the holder (its own count of
  // that route goes up by one).
  const before = await statusRequests(a.url);
  const forwarded = await fetch(`${c.url}/v1/federation/status`);
  assert.equal(forwarded.status, 200);
  assert.equal(((await forwarded.json()) as { node?: string }).node, 'frontends.vaultmesh.local');
  assert.equal(await statusRequests(a.url), before + 1);

  // The holder stops cleanly: a follower takes over, and both survivors go on appending.
  await node.stop(a);
  for (const f of [b, c])
    await until(
      `a holder to serve ${f.url}'s forwarded requests`,
      async () => ((await fetch(`${f.url}/v1/federation/status`)).ok ? true : undefined),
      20_000,
    );
  const more = await Promise.all([b, c].map((f, i) => appendThrough(f.url, `after-${i}`, 2)));
  const after = more.flat();
  assert.deepEqual(
    after.map((x) => x.index).sort((x, y) => x - y),
    Array.from({ length: after.length }, (_, i) => total + i),
  );
  // The new holder runs governance: a namespace created through either survivor is created.
  const second = await fetch(`${c.url}/v1/ns/${NS}-2`, { method: 'PUT', headers: auth(), body: '{}' });
  assert.equal(second.status, 201, await second.text());
  const holders = await Promise.all(
    [b, c].map(async (f) => ((await (await fetch(`${f.url}/healthz`)).json()) as { role: string }).role),
  );
  assert.deepEqual(holders.sort(), ['follower', 'holder']);
  for (const f of [b, c]) await node.stop(f);
});
