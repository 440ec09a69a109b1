import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NoteSigner, canonicalBytes, formatKeyId, peerAuthKeyName, signRequest } from '@vaultmesh/core';
import { readKeyFile } from '@vaultmesh/node';
import {
  startLocalFederation,
  waitFor,
  type FederationNode,
  type LocalFederation,
} from './harness/local-federation.js';
import { adminHeaders, fetchJson } from './harness/anchoring-client.js';

// Issue 12 item 9 with real node processes: exactly-once delivery of cross-namespace messages
// under duplicate deliveries and relays racing the sender's own delivery, and under kill -9 of
// the sender and of the receiver mid-delivery. alpha sends, beta receives, gamma witnesses
// alpha's checkpoints (a message travels only under a sealed checkpoint). The truth checked is
// beta's log: one namespace.message.delivery@1.0.0 record per (source origin, index), seqs 1..N.
const root = mkdtempSync(join(tmpdir(), 'remembrancer-messaging-faults-'));
let fed: LocalFederation | undefined;
let alpha: FederationNode;
let beta: FederationNode;
let gamma: FederationNode;

before(async () => {
  fed = await startLocalFederation(root, 3, { checkpointIntervalMs: 250 });
  [alpha, beta, gamma] = fed.nodes as [FederationNode, FederationNode, FederationNode];
});

after(async () => {
  await fed?.stopAll();
  rmSync(root, { recursive: true, force: true });
});

interface Sent {
  id: string;
  index: number;
  seq: number;
}
interface DeliveryRecord {
  format: string;
  message_id: string;
  source_origin: string;
  index: number;
  leaf_hash: string;
  seq: number;
}
interface InboxAnswer {
  status: string;
  message_id?: string;
  delivery?: { index: number; entry: DeliveryRecord; receipt?: { index?: number; leaf_hash?: string } };
  error?: { code: string };
}

/** A source namespace on alpha witnessed by gamma, and a target on beta accepting it (needing gamma's cosignature). */
async function messagingPair(src: string, dst: string): Promise<void> {
  const created = await fetchJson(`${alpha.url}/v1/ns/${src}`, {
    method: 'PUT',
    headers: adminHeaders(alpha),
    body: JSON.stringify({ witness_policy: { min_required: 1, allowlist: [gamma.name] } }),
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const target = await fetchJson(`${beta.url}/v1/ns/${dst}`, {
    method: 'PUT',
    headers: adminHeaders(beta),
    body: JSON.stringify({
      messaging: { accept_from: [`${alpha.name}/${src}`], actions: ['notify'], operations: ['*'], min_witnesses: 1 },
    }),
  });
  assert.equal(target.status, 201, JSON.stringify(target.body));
}

/** Sends `count` notify messages src → beta/dst in batches of `per` (each batch appended all or none). */
async function send(src: string, dst: string, count: number, per = 50): Promise<Sent[]> {
  const sent: Sent[] = [];
  for (let from = 0; from < count; from += per) {
    const messages = Array.from({ length: Math.min(per, count - from) }, (_, k) => ({
      target: { node: beta.name, namespace: dst },
      action: 'notify',
      payload: { operation: 'tick', parameters: { n: from + k } },
    }));
    const r = await fetchJson<{ messages: Sent[] }>(`${alpha.url}/v1/ns/${src}/messages`, {
      method: 'POST',
      headers: adminHeaders(alpha),
      body: JSON.stringify({ messages }),
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    sent.push(...r.body.messages);
  }
  return sent;
}

async function messageState(
  src: string,
  id: string,
): Promise<{ state: string; sent_proof?: string; delivery?: { index: number } }> {
  const r = await fetchJson<{ state: string; sent_proof?: string; delivery?: { index: number } }>(
    `${alpha.url}/v1/ns/${src}/messages/${id}`,
    { headers: adminHeaders(alpha) },
  );
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

/** Every delivery record of `ns`'s log on `node`, in log order, with its index (read entry by entry). */
async function deliveryRecords(node: FederationNode, ns: string): Promise<{ at: number; record: DeliveryRecord }[]> {
  const info = await fetchJson<{ size: number }>(`${node.url}/v1/ns/${ns}`, { headers: adminHeaders(node) });
  assert.equal(info.status, 200);
  const out: { at: number; record: DeliveryRecord }[] = [];
  for (let i = 0; i < info.body.size; i += 20) {
    const page = await Promise.all(
      Array.from({ length: Math.min(20, info.body.size - i) }, async (_, k) => {
        const e = await fetchJson<{ entry: DeliveryRecord }>(`${node.url}/v1/ns/${ns}/entries/${i + k}`, {
          headers: adminHeaders(node),
        });
        assert.equal(e.status, 200, JSON.stringify(e.body));
        return { at: i + k, record: e.body.entry };
      }),
    );
    out.push(...page.filter((x) => x.record.format === 'namespace.message.delivery@1.0.0'));
  }
  return out;
}

/** Size of `ns`'s log on `node` (every entry of a target of notify messages is a delivery record), undefined if unreachable. */
async function logSize(node: FederationNode, ns: string): Promise<number | undefined> {
  try {
    const r = await fetchJson<{ size: number }>(`${node.url}/v1/ns/${ns}`, { headers: adminHeaders(node) });
    return r.status === 200 ? r.body.size : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Exactly once: beta's log holds one delivery record per sent message — same id, source index and
 * seq — its seqs 1..N in log order, and alpha shows every message delivered at that record.
 */
async function assertExactlyOnce(src: string, dst: string, sent: readonly Sent[]): Promise<void> {
  const origin = `${alpha.name}/${src}`;
  const records = (await deliveryRecords(beta, dst)).filter((r) => r.record.source_origin === origin);
  assert.deepEqual(
    records.map((r) => r.record.seq),
    sent.map((_, i) => i + 1),
    'one delivery record per seq, in seq order',
  );
  const byIndex = new Map(records.map((r) => [r.record.index, r]));
  assert.equal(byIndex.size, sent.length, 'one record per source index');
  for (const m of sent) {
    const r = byIndex.get(m.index);
    assert.ok(r, `a record for source index ${m.index}`);
    assert.equal(r.record.message_id, m.id);
    assert.equal(r.record.seq, m.seq);
  }
  const states = await Promise.all(sent.map((m) => messageState(src, m.id)));
  for (const [i, s] of states.entries()) {
    assert.equal(s.state, 'delivered', `message seq ${sent[i]!.seq}`);
    assert.equal(s.delivery?.index, byIndex.get(sent[i]!.index)!.at);
  }
}

/** Waits until beta's log holds at least `n` entries of `dst`. */
async function targetHolds(dst: string, n: number, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `${n} delivery records in ${dst}`,
    async () => ((await logSize(beta, dst)) ?? 0) >= n || undefined,
    timeoutMs,
  );
}

/** Waits until alpha shows every one of `sent` delivered. */
async function senderSeesDelivered(src: string, sent: readonly Sent[], timeoutMs = 60_000): Promise<void> {
  let pending = [...sent];
  await waitFor(
    `alpha to see ${sent.length} messages of ${src} delivered`,
    async () => {
      const states = await Promise.all(pending.map((m) => messageState(src, m.id).catch(() => undefined)));
      pending = pending.filter((_, i) => states[i]?.state !== 'delivered');
      return pending.length === 0 || undefined;
    },
    timeoutMs,
  );
}

/** gamma relaying over the peer-signed inbox route (RFC 9421 with gamma's auth key). */
async function relayAsPeer(from: FederationNode, to: FederationNode, dst: string, message: unknown) {
  const seed = readKeyFile(join(from.dir, 'keys', 'peer.key'), 'peer');
  const keyid = formatKeyId(new NoteSigner(peerAuthKeyName(from.name), seed).keyId);
  const url = new URL(`/v1/federation/peer/ns/${encodeURIComponent(dst)}/inbox`, to.url).href;
  const body = canonicalBytes({ messages: [message] } as never);
  const headers = {
    ...signRequest({ method: 'POST', targetUri: url, keyid, seed, body }),
    'content-type': 'application/json',
  };
  return fetchJson<{ results: InboxAnswer[] }>(url, { method: 'POST', headers, body });
}

test(
  'exactly once under duplicates and relays racing the sender, and replayed after delivery',
  { timeout: 120_000 },
  async () => {
    const src = 'app:dup-src';
    const dst = 'app:dup-dst';
    await messagingPair(src, dst);
    // beta stopped (SIGSTOP): the sender's delivery and the relays below wait in beta's socket
    // queue and race each other once it runs again.
    fed!.pause(1);
    let travelling: Record<string, unknown>;
    let racing: Promise<{ status: number; body: InboxAnswer }>[];
    let sent: Sent;
    try {
      [sent] = (await send(src, dst, 1)) as [Sent];
      const proof = await waitFor(
        'the message sealed',
        async () => (await messageState(src, sent.id)).sent_proof,
        30_000,
      );
      const entry = await fetchJson<{ entry: { payload: Record<string, unknown> } & Record<string, unknown> }>(
        `${alpha.url}/v1/ns/${src}/entries/${sent.index}`,
      );
      travelling = { ...entry.body.entry, payload: { ...entry.body.entry.payload, proof } };
      racing = Array.from({ length: 5 }, () =>
        fetch(`${beta.url}/v1/ns/${dst}/inbox`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(travelling),
          signal: AbortSignal.timeout(60_000),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as InboxAnswer })),
      );
      // Let the relays reach beta's socket queue before it runs again.
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      fed!.resume(1);
    }
    const answers = await Promise.all(racing!);
    for (const a of answers) {
      assert.equal(a.status, 200, JSON.stringify(a.body));
      assert.ok(['accepted', 'duplicate'].includes(a.body.status), JSON.stringify(a.body));
    }
    assert.ok(answers.filter((a) => a.body.status === 'accepted').length <= 1, 'at most one relay applied it');
    const recordIndex = answers[0]!.body.delivery!.index;
    for (const a of answers) {
      assert.equal(a.body.delivery!.index, recordIndex, 'every answer names the one delivery record');
      assert.deepEqual(a.body.delivery!.entry, answers[0]!.body.delivery!.entry);
    }

    // Replays after the delivery: public route several times at once, a batch with the message
    // twice, and gamma relaying over the peer route. All duplicates, nothing appended.
    const sizeBefore = await logSize(beta, dst);
    const replays = await Promise.all(
      Array.from({ length: 4 }, () =>
        fetchJson<InboxAnswer>(`${beta.url}/v1/ns/${dst}/inbox`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(travelling!),
        }),
      ),
    );
    const batch = await fetchJson<{ results: InboxAnswer[] }>(`${beta.url}/v1/ns/${dst}/inbox`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [travelling!, travelling!] }),
    });
    assert.equal(batch.status, 200, JSON.stringify(batch.body));
    const relayed = await relayAsPeer(gamma, beta, dst, travelling!);
    assert.equal(relayed.status, 200, JSON.stringify(relayed.body));
    for (const a of [...replays.map((r) => r.body), ...batch.body.results, ...relayed.body.results]) {
      assert.equal(a.status, 'duplicate', JSON.stringify(a));
      assert.equal(a.delivery!.index, recordIndex);
      assert.deepEqual(a.delivery!.entry, answers[0]!.body.delivery!.entry);
    }
    assert.equal(await logSize(beta, dst), sizeBefore, 'duplicates append nothing');

    const origin = `${alpha.name}/${src}`;
    await senderSeesDelivered(src, [sent]);
    const records = (await deliveryRecords(beta, dst)).filter((r) => r.record.source_origin === origin);
    assert.equal(records.length, 1, 'exactly one delivery record');
    assert.equal(records[0]!.at, recordIndex);
    await assertExactlyOnce(src, dst, [sent]);
  },
);

/**
 * N messages sent in batches of 25, `gapMs` apart (so they seal under several checkpoints and
 * travel in several requests); node `victim` is SIGKILLed mid-delivery (as
 * fed.kill does), left down a moment, restarted; then every message is delivered exactly once.
 * A receiver killed keeps the sender sending meanwhile; a sender killed has sent everything first
 * (a send cut by the kill would leave the test unsure whether it was appended).
 */
async function killMidDelivery(
  t: { diagnostic(m: string): void },
  victim: 0 | 1,
  src: string,
  dst: string,
  n: number,
  gapMs: number,
): Promise<void> {
  await messagingPair(src, dst);
  const sending = (async () => {
    const all: Sent[] = [];
    for (let from = 0; from < n; from += 25) {
      if (from > 0) await new Promise((r) => setTimeout(r, gapMs));
      all.push(...(await send(src, dst, Math.min(25, n - from), 25)));
    }
    return all;
  })();
  // The sender dies right after its last send returns: that batch cannot have travelled yet (it
  // waits for a checkpoint and gamma's cosignature), earlier ones are under way or delivered.
  if (victim === 0) await sending;
  else await targetHolds(dst, 1);
  const atKill = (await logSize(beta, dst)) ?? 0;
  await fed!.kill(victim);
  t.diagnostic(`killed ${fed!.nodes[victim]!.name} with ${atKill}/${n} delivery records in ${dst}`);
  await new Promise((r) => setTimeout(r, 500));
  const sent = await sending;
  await fed!.restart(victim);
  assert.ok(atKill < n, `the kill came before the last delivery (${atKill}/${n})`);
  await targetHolds(dst, n);
  await senderSeesDelivered(src, sent);
  await assertExactlyOnce(src, dst, sent);
}

test(
  'kill -9 of the sender mid-delivery: every message delivered exactly once after its restart',
  { timeout: 150_000 },
  async (t) => {
    await killMidDelivery(t, 0, 'app:ks-src', 'app:ks-dst', 200, 200);
  },
);

test(
  'kill -9 of the receiver mid-delivery: every message delivered exactly once after its restart',
  { timeout: 150_000 },
  async (t) => {
    await killMidDelivery(t, 1, 'app:kr-src', 'app:kr-dst', 200, 150);
  },
);
