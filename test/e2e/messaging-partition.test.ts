import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startLocalFederation,
  waitFor,
  type FederationNode,
  type LocalFederation,
} from './harness/local-federation.js';
import { adminHeaders, fetchJson } from './harness/anchoring-client.js';

// Issue 12 item 9, partition: a message's target node is cut off (SIGSTOP: it neither answers nor
// refuses, as behind a partition) while its source keeps sending; the messages are sealed (gamma
// witnesses the source, so sealing does not need the target) and wait in the outbox, none
// delivered; once the target runs again every message is delivered exactly once and in seq order.
const SRC = 'app:part-src';
const DST = 'app:part-dst';
/** Longer than the outbox's bound on one delivery request (15 s): the requests under way time out and are retried. */
const PARTITION_MS = 16_000;
const root = mkdtempSync(join(tmpdir(), 'remembrancer-messaging-partition-'));
let fed: LocalFederation | undefined;
after(async () => {
  await fed?.stopAll();
  rmSync(root, { recursive: true, force: true });
});

interface Sent {
  id: string;
  index: number;
  seq: number;
}
interface Status {
  state: string;
  sent_proof?: string;
  delivery?: { index: number };
}
interface DeliveryRecord {
  format: string;
  message_id: string;
  source_origin: string;
  index: number;
  seq: number;
}

test(
  'a partition holds messages sealed; healing delivers them exactly once, in order',
  { timeout: 150_000 },
  async () => {
    fed = await startLocalFederation(root, 3, { checkpointIntervalMs: 250 });
    const [alpha, beta, gamma] = fed.nodes as [FederationNode, FederationNode, FederationNode];
    const put = async (node: FederationNode, ns: string, spec: object) => {
      const r = await fetchJson(`${node.url}/v1/ns/${ns}`, {
        method: 'PUT',
        headers: adminHeaders(node),
        body: JSON.stringify(spec),
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    };
    await put(alpha, SRC, { witness_policy: { min_required: 1, allowlist: [gamma.name] } });
    await put(beta, DST, {
      messaging: { accept_from: [`${alpha.name}/${SRC}`], actions: ['notify'], operations: ['*'], min_witnesses: 1 },
    });
    const send = async (from: number, count: number): Promise<Sent[]> => {
      const messages = Array.from({ length: count }, (_, k) => ({
        target: { node: beta.name, namespace: DST },
        action: 'notify',
        payload: { operation: 'tick', parameters: { n: from + k } },
      }));
      const r = await fetchJson<{ messages: Sent[] }>(`${alpha.url}/v1/ns/${SRC}/messages`, {
        method: 'POST',
        headers: adminHeaders(alpha),
        body: JSON.stringify({ messages }),
      });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      return r.body.messages;
    };
    const statuses = (sent: readonly Sent[]) =>
      Promise.all(
        sent.map(async (m) => {
          const r = await fetchJson<Status>(`${alpha.url}/v1/ns/${SRC}/messages/${m.id}`, {
            headers: adminHeaders(alpha),
          });
          assert.equal(r.status, 200, JSON.stringify(r.body));
          return r.body;
        }),
      );
    const allIn = (sent: readonly Sent[], state: string) =>
      waitFor(
        `${sent.length} messages ${state}`,
        async () => (await statuses(sent)).every((s) => s.state === state) || undefined,
        60_000,
      );

    // The stream runs before the partition.
    const before = await send(0, 5);
    await allIn(before, 'delivered');

    fed.pause(1);
    const during: Sent[] = [];
    const pausedAt = Date.now();
    try {
      for (let b = 0; b < 3; b++) during.push(...(await send(5 + 20 * b, 20)));
      // Sealed under gamma's cosignature: each has its proof and waits for the target.
      await waitFor(
        'the messages sent during the partition sealed',
        async () => (await statuses(during)).every((s) => s.sent_proof !== undefined) || undefined,
        30_000,
      );
      await new Promise((r) => setTimeout(r, Math.max(0, PARTITION_MS - (Date.now() - pausedAt))));
      for (const [i, s] of (await statuses(during)).entries())
        assert.ok(['queued', 'sealed'].includes(s.state), `seq ${during[i]!.seq} is ${s.state} during the partition`);
    } finally {
      fed.resume(1);
    }

    const sent = [...before, ...during];
    await allIn(during, 'delivered');

    // beta's log: one delivery record per message, seqs 1..N in log order (every entry of the
    // target is a delivery record of a notify message), each where the sender says it is.
    const info = await fetchJson<{ size: number }>(`${beta.url}/v1/ns/${DST}`, { headers: adminHeaders(beta) });
    assert.equal(info.body.size, sent.length, 'nothing applied twice');
    const records = await Promise.all(
      Array.from({ length: info.body.size }, async (_, i) => {
        const e = await fetchJson<{ entry: DeliveryRecord }>(`${beta.url}/v1/ns/${DST}/entries/${i}`, {
          headers: adminHeaders(beta),
        });
        assert.equal(e.status, 200);
        return e.body.entry;
      }),
    );
    assert.ok(records.every((r) => r.format === 'namespace.message.delivery@1.0.0'));
    assert.ok(records.every((r) => r.source_origin === `${alpha.name}/${SRC}`));
    assert.deepEqual(
      records.map((r) => r.seq),
      sent.map((_, i) => i + 1),
      'delivered in seq order',
    );
    assert.deepEqual(
      records.map((r) => [r.message_id, r.index]),
      sent.map((m) => [m.id, m.index]),
    );
    for (const [i, s] of (await statuses(sent)).entries()) assert.equal(s.delivery?.index, i);
  },
);
