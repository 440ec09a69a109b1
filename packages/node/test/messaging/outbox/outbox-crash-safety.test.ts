import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { messageId, parseMessage, utf8Decode } from '@vaultmesh/core';
import { killAfterAcks } from '../../fixtures/kill-after-acks.js';
import { NODE, createNamespace, openOutboxNode, sendRequest, tempNodes } from './outbox-fixture.js';

const WRITER = fileURLToPath(new URL('./fixtures/outbox-writer.ts', import.meta.url));
const ROUNDS = 3;

const nodes = tempNodes('remembrancer-outbox-crash-');
after(() => nodes.cleanup());

test('kill -9 of a sending node loses no message and reuses no seq', { timeout: 120_000 }, async () => {
  const dir = nodes.make();
  let node = await openOutboxNode(dir);
  for (const ns of ['dao:a', 'dao:b', 'dao:c']) await createNamespace(node, ns);
  await node.close();

  const acked = new Map<string, { index: number; seq: number }>();
  for (let round = 0; round < ROUNDS; round++) {
    await killAfterAcks({
      script: WRITER,
      args: [dir],
      ack: /^sent (\d+) (\d+) ([0-9a-f]{64})$/,
      onAck: (m) => acked.set(m[3]!, { index: Number(m[1]), seq: Number(m[2]) }),
      minAcks: 200,
      jitterMs: 150,
    });

    node = await openOutboxNode(dir);
    try {
      // Every acknowledged message has its row, as acknowledged.
      for (const [id, want] of acked) {
        const row = await node.outbox.storage.row(id);
        assert.ok(row, `round ${round}: message ${id} acknowledged but not in the outbox`);
        assert.deepEqual({ index: row.index, seq: row.seq }, want);
      }
      // Every message in the log has its row, and each stream is 1..n in log order.
      const seqs = new Map<string, number[]>();
      const size = node.engine.sequencedSize('dao:a');
      for (const [index, bytes] of (await node.engine.getEntries('dao:a', 0, size)).entries()) {
        const m = parseMessage(JSON.parse(utf8Decode(bytes)));
        const stream = seqs.get(m.target.namespace) ?? [];
        stream.push(m.seq);
        seqs.set(m.target.namespace, stream);
        const row = await node.outbox.storage.row(messageId(m));
        assert.deepEqual(
          row && { index: row.index, seq: row.seq },
          { index, seq: m.seq },
          `round ${round}: entry ${index}`,
        );
      }
      assert.equal(await node.outbox.storage.scanMark('dao:a'), size);
      for (const [target, list] of seqs) {
        assert.deepEqual(
          list,
          list.map((_, i) => i + 1),
          `round ${round}: stream to ${target}`,
        );
      }
      const [next] = await node.outbox.send('dao:a', [sendRequest(`${NODE}/dao:b`)]);
      assert.equal(next!.seq, seqs.get('dao:b')!.length + 1, `round ${round}: the next seq follows the log`);
      acked.set(next!.id, { index: next!.index, seq: next!.seq });
    } finally {
      await node.close();
    }
  }
});
