import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NoteVerifier, parseMessage, utf8Decode, verifyMessageProof, verifyReceipt, withProof } from '@vaultmesh/core';
import type { Inbox } from '../../../src/messaging/inbox/inbox.js';
import { openInboxStorage } from '../../../src/messaging/inbox/open-inbox-storage.js';
import type { InboxStreamCount } from '../../../src/messaging/inbox/stream-counts.js';
import { openInboxStreamCounts, openOutboxStreamCounts } from '../../../src/messaging/open-stream-counts.js';
import type { OutboxStreamCount } from '../../../src/messaging/outbox/stream-counts.js';
import type { MessageStatusView, SentMessage } from '../../../src/messaging/messaging-wire.js';
import { openOutboxStorage } from '../../../src/messaging/outbox/open-outbox-storage.js';
import type { StorageTarget } from '../../../src/storage/storage-target.js';
import {
  NODE,
  createNamespace,
  openLocalInbox,
  openOutboxNode,
  sendRequest,
  tempNodes,
  type OutboxNode,
} from './outbox-fixture.js';

/*
 * Delivery to namespaces of the same node, through the node's real Inbox (its own verification,
 * streams, delivery records and receipts): the outbox's states from queued to delivered, refused
 * and expired, the proofs both ways, and a query answered. Run on SQLite by
 * outbox-delivery.test.ts, on PostgreSQL by ../postgres/local-delivery-postgres.test.ts.
 */

/** Where a node's messaging stores open, given its data directory; close() ends what it opened. */
export type PlaceOfStores = (dir: string) => Promise<{ target: StorageTarget; close(): Promise<void> }>;

const A = 'dao:a';
const B = 'dao:b';
const to = (ns: string) => `${NODE}/${ns}`;

async function status(node: OutboxNode, ns: string, s: SentMessage): Promise<MessageStatusView> {
  const view = await node.outbox.status(ns, s.id);
  assert.ok(view, `a status for ${s.id}`);
  return view;
}

/**
 * The scenarios, over the outbox's and inbox's storage where `place` puts them (the node's data
 * directory on SQLite, a database on PostgreSQL), opened through the node's factories.
 */
export function localDeliverySuite(title: string, place: PlaceOfStores): void {
  describe(title, () => {
    const nodes = tempNodes();
    let node: OutboxNode;
    let inbox: Inbox | undefined;
    let target: StorageTarget;
    let closeTarget: () => Promise<void>;
    const draws: number[] = [];

    before(async () => {
      const dir = nodes.make();
      const opened = await place(dir);
      target = opened.target;
      closeTarget = () => opened.close();
      node = await openOutboxNode(dir, {
        // Each draw the worker makes comes from here (0 when empty: a retry is due at once).
        outbox: { random: () => draws.shift() ?? 0, storage: await openOutboxStorage(target) },
      });
      await createNamespace(node, A, { messaging: { accept_from: [to(B)] } });
      await createNamespace(node, B, { messaging: { accept_from: [to(A)] } });
      await createNamespace(node, 'dao:closed');
      await createNamespace(node, 'dao:private', { visibility: 'private', messaging: { accept_from: ['*/*'] } });
    });
    after(async () => {
      await inbox?.close();
      await node?.close();
      await closeTarget?.();
      nodes.cleanup();
    });

    async function openInbox(): Promise<Inbox> {
      inbox = await openLocalInbox(node, await openInboxStorage(target));
      return inbox;
    }

    let sent: SentMessage[] = [];

    test('queued until a sealed checkpoint covers the message; no inbox yet is a retry, on the backoff drawn', async () => {
      sent = await node.outbox.send(A, [sendRequest(to(B)), sendRequest(to(B), { action: 'query' })]);
      await node.outbox.deliverNow();
      assert.equal((await status(node, A, sent[0]!)).state, 'queued');
      assert.equal((await status(node, A, sent[0]!)).sent_proof, undefined);

      await node.engine.publishCheckpoint(A);
      draws.push(0.5);
      await node.outbox.deliverNow();
      const view = await status(node, A, sent[0]!);
      assert.equal(view.state, 'sealed');
      assert.equal(view.attempts, 1);
      assert.equal(view.error?.code, 'NOT_FOUND');
      assert.equal(Date.parse(view.next_attempt_at!), node.clock.ms + 125, 'half of the first bound (250 ms)');
      // The proof it was sent: the message is entry `index` of the source log under a signed checkpoint.
      const message = parseMessage(JSON.parse(utf8Decode((await node.engine.getEntry(A, view.index))!)));
      const check = verifyMessageProof(withProof(message, view.sent_proof!), {
        logVerifiers: NoteVerifier.fromVkey(node.engine.getNamespace(A)!.logVkey),
        witnessVerifiers: [],
        minWitnesses: 0,
        target: { node: NODE, namespace: B },
        now: node.clock.ms,
      });
      assert.ok(check.ok, JSON.stringify(check.checks));

      await node.outbox.deliverNow();
      assert.equal((await status(node, A, sent[0]!)).attempts, 1, 'not before its time');
    });

    test('delivered: the checked delivery record at once, its receipt fetched once a checkpoint covers it', async () => {
      await openInbox();
      node.clock.ms += 125;
      await node.outbox.deliverNow();
      for (const s of sent) {
        const view = await status(node, A, s);
        assert.equal(view.state, 'delivered', JSON.stringify(view));
        assert.equal(view.attempts, 2);
        assert.equal(view.delivery?.entry.message_id, s.id);
        assert.equal(view.delivery?.receipt, undefined, 'no checkpoint of dao:b yet');
      }
      assert.equal((await inbox!.page(B, 0, 10)).items.length, 2);

      await node.engine.publishCheckpoint(B);
      await node.outbox.deliverNow();
      for (const s of sent) {
        const view = await status(node, A, s);
        assert.equal(view.state, 'delivered');
        assert.equal(view.error, undefined);
        const receipt = view.delivery!.receipt!;
        assert.ok(receipt, 'the receipt came with the duplicate answer');
        const v = verifyReceipt(receipt, { logVkeys: [node.engine.getNamespace(B)!.logVkey] });
        assert.ok(v.ok, JSON.stringify(v.checks));
        assert.deepEqual(receipt.entry, view.delivery!.entry);
        assert.equal(receipt.index, view.delivery!.index);
      }
      assert.equal((await inbox!.page(B, 0, 10)).items.length, 2, 'applied once');
    });

    test('a query answered: the reply is linked to it', async () => {
      const query = sent[1]!;
      const [reply] = await node.outbox.send(B, [sendRequest(to(A), { in_reply_to: query.id })]);
      await node.engine.publishCheckpoint(B);
      await node.outbox.deliverNow();
      assert.equal((await status(node, B, reply!)).state, 'delivered');
      assert.deepEqual((await status(node, A, query)).replies, [reply!.id]);
      assert.equal(await node.outbox.linkReply(A, query.id, { node: NODE, namespace: 'dao:closed' }, reply!.id), false);
      assert.equal(
        await node.outbox.linkReply(A, sent[0]!.id, { node: NODE, namespace: B }, reply!.id),
        false,
        'not a query',
      );
      assert.equal(
        await node.outbox.linkReply(B, query.id, { node: NODE, namespace: B }, reply!.id),
        false,
        'not its query',
      );
    });

    test("refused for good with the target's code; a namespace that does not exist is refused too", async () => {
      const [closed] = await node.outbox.send(A, [sendRequest(to('dao:closed'))]);
      const [none] = await node.outbox.send(A, [sendRequest(to('dao:none'))]);
      await node.engine.publishCheckpoint(A);
      await node.outbox.deliverNow();
      assert.equal((await status(node, A, closed!)).state, 'refused');
      assert.equal((await status(node, A, closed!)).error?.code, 'MESSAGE_NOT_ACCEPTED');
      assert.equal((await status(node, A, none!)).state, 'refused');
      assert.equal((await status(node, A, none!)).error?.code, 'NAMESPACE_NOT_FOUND');
      await node.outbox.deliverNow();
      assert.equal((await status(node, A, closed!)).attempts, 1, 'never tried again');
    });

    test('a private namespace receives from the local outbox', async () => {
      const [p] = await node.outbox.send(A, [sendRequest(to('dao:private'))]);
      await node.engine.publishCheckpoint(A);
      await node.outbox.deliverNow();
      assert.equal((await status(node, A, p!)).state, 'delivered');
    });

    test('expired: shown once its time passed, still delivered so the target moves past it, then as the target said', async () => {
      const [s] = await node.outbox.send(A, [sendRequest(to(B), { expires_at: '2026-03-01T01:00:00Z' })]);
      const [next] = await node.outbox.send(A, [sendRequest(to(B))]);
      node.clock.ms = Date.parse('2026-03-01T02:00:00Z');
      const early = await status(node, A, s!);
      assert.equal(early.state, 'expired');
      assert.equal(early.attempts, 0);
      await node.engine.publishCheckpoint(A);
      await node.outbox.deliverNow();
      const late = await status(node, A, s!);
      assert.equal(late.state, 'expired');
      assert.equal(late.error?.code, 'MESSAGE_EXPIRED');
      assert.equal((await status(node, A, next!)).state, 'delivered', 'the stream went on past the expired message');
    });

    test("the explorer's stream counts, where the stores are", async () => {
      const sent = openOutboxStreamCounts(target);
      const received = openInboxStreamCounts(target);
      try {
        const out = (to: string, counts: Partial<OutboxStreamCount>): OutboxStreamCount => ({
          namespace: to === A ? B : A,
          target: { node: NODE, namespace: to },
          lastSeq: 1,
          ...{ queued: 0, sealed: 0, delivered: 0, refused: 0, expired: 0 },
          ...counts,
        });
        assert.deepEqual(await sent.counts(node.clock.ms), [
          out(B, { lastSeq: 4, delivered: 3, expired: 1 }),
          out('dao:closed', { refused: 1 }),
          out('dao:none', { refused: 1 }),
          out('dao:private', { delivered: 1 }),
          out(A, { delivered: 1 }),
        ]);
        const into = (namespace: string, counts: Partial<InboxStreamCount>): InboxStreamCount => ({
          namespace,
          sourceOrigin: `${NODE}/${namespace === A ? B : A}`,
          lastSeq: 1,
          nextSeq: 2,
          ...{ accepted: 0, held: 0, refused: 0, expired: 0 },
          ...counts,
        });
        assert.deepEqual(await received.counts(), [
          into(A, { accepted: 1 }),
          into(B, { lastSeq: 4, nextSeq: 5, accepted: 3, expired: 1 }),
          into('dao:private', { accepted: 1 }),
        ]);
      } finally {
        sent.close();
        received.close();
      }
    });

    test('reopened over the same stores: the streams go on where they were, nothing applied twice', async () => {
      await inbox!.close();
      await node.close();
      node = await openOutboxNode(node.dir, { outbox: { storage: await openOutboxStorage(target) } });
      assert.equal(await node.outbox.storage.scanMark(A), node.engine.sequencedSize(A), 'every entry scanned already');
      await openInbox();
      assert.deepEqual(inbox!.reconciled, { applied: 0, held: 0, recorded: 0 });
      const [fifth] = await node.outbox.send(A, [sendRequest(to(B))]);
      assert.equal(fifth!.seq, 5);
      await node.engine.publishCheckpoint(A);
      await node.outbox.deliverNow();
      assert.equal((await status(node, A, fifth!)).state, 'delivered');
      assert.equal((await inbox!.page(B, 0, 10)).items.length, 4, 'three before, and this one');
    });
  });
}
