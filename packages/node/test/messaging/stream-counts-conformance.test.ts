import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { InboxStorage } from '../../src/messaging/inbox/inbox-storage.js';
import { INBOX_DB_FILE } from '../../src/messaging/inbox/inbox-store.js';
import { PgInboxStorage } from '../../src/messaging/inbox/pg-inbox-storage.js';
import { pgInboxCountSource } from '../../src/messaging/inbox/pg-stream-counts.js';
import { SqliteInboxStorage } from '../../src/messaging/inbox/sqlite-inbox-storage.js';
import { InboxStreamCounts } from '../../src/messaging/inbox/stream-counts.js';
import type { MessageState } from '../../src/messaging/messaging-wire.js';
import type { OutboxRow } from '../../src/messaging/outbox/outbox-row.js';
import type { OutboxStorage } from '../../src/messaging/outbox/outbox-storage.js';
import { OUTBOX_DB_FILE } from '../../src/messaging/outbox/outbox-store.js';
import { PgOutboxStorage } from '../../src/messaging/outbox/pg-outbox-storage.js';
import { pgOutboxCountSource } from '../../src/messaging/outbox/pg-stream-counts.js';
import { SqliteOutboxStorage } from '../../src/messaging/outbox/sqlite-outbox-storage.js';
import { OutboxStreamCounts } from '../../src/messaging/outbox/stream-counts.js';
import { SETTLE_CHUNK_ROWS } from '../../src/messaging/settled-prefixes.js';
import { PgDatabase } from '../../src/storage/postgres/pg-database.js';
import { forEachBackend, type StorePlace } from '../storage/backend-suite.js';

/*
 * The outbox's and the inbox's stream counts on both backends, against what the rows written say:
 * histories longer than a catch-up step, rows settling between calls, a message in flight in the
 * middle of a stream, and stream keys in byte order.
 */

const NOW = Date.parse('2026-06-01T00:00:00Z');

interface Opened<S, C> {
  storage: S;
  counts: C;
  close(): Promise<void>;
}

async function outboxAt(place: StorePlace): Promise<Opened<OutboxStorage, OutboxStreamCounts>> {
  if (place.kind === 'sqlite') {
    const storage = SqliteOutboxStorage.open(join(place.dir, OUTBOX_DB_FILE));
    const counts = new OutboxStreamCounts(storage.store.path, () => NOW);
    return { storage, counts, close: async () => (counts.close(), storage.close()) };
  }
  const storage = await PgOutboxStorage.open({ db: place.url });
  const db = await PgDatabase.open({ url: place.url, what: 'outbox' });
  const counts = new OutboxStreamCounts(pgOutboxCountSource(db), () => NOW);
  return { storage, counts, close: async () => (counts.close(), await db.close(), await storage.close()) };
}

async function inboxAt(place: StorePlace): Promise<Opened<InboxStorage, InboxStreamCounts>> {
  if (place.kind === 'sqlite') {
    const storage = SqliteInboxStorage.open(join(place.dir, INBOX_DB_FILE));
    const counts = new InboxStreamCounts(storage.store.path);
    return { storage, counts, close: async () => (counts.close(), storage.close()) };
  }
  const storage = await PgInboxStorage.open({ db: place.url });
  const db = await PgDatabase.open({ url: place.url, what: 'inbox' });
  const counts = new InboxStreamCounts(pgInboxCountSource(db));
  return { storage, counts, close: async () => (counts.close(), await db.close(), await storage.close()) };
}

function sent(ns: string, target: string, seq: number, state: MessageState, expiresAt = '2027-01-01T00:00:00Z') {
  const row: OutboxRow = {
    id: `${ns}/${target}/${seq}`,
    namespace: ns,
    index: target === 'dao:y' ? 1_000_000 + seq : seq,
    target: { node: 'beta.test', namespace: target },
    seq,
    action: 'notify',
    operation: 'record',
    sentAt: '2026-01-01T00:00:00Z',
    expiresAt,
    state: 'queued',
    attempts: 0,
    nextAttemptMs: 0,
    receiptAttempts: 0,
  };
  return { row, state };
}

const moved = (r: OutboxRow, state: MessageState) => ({
  id: r.id,
  state,
  attempts: 1,
  nextAttemptMs: 0,
  receiptAttempts: 0,
});

forEachBackend('stream counts conformance', (freshPlace) => {
  test('outbox counts: by state, expired pending ones, over several catch-up steps and as rows settle', async () => {
    const o = await outboxAt(await freshPlace());
    try {
      const long = SETTLE_CHUNK_ROWS * 2 + 300;
      const rows = [];
      for (let seq = 1; seq <= long; seq++)
        rows.push(
          sent(
            'dao:a',
            'dao:x',
            seq,
            seq > long - 40 ? 'queued' : seq > long - 100 ? 'sealed' : seq % 97 === 0 ? 'refused' : 'delivered',
          ),
        );
      for (let seq = 1; seq <= 50; seq++) rows.push(sent('dao:b', 'dao:x', seq, seq === 10 ? 'sealed' : 'delivered'));
      rows.push(sent('dao:b', 'dao:y', 1, 'expired'), sent('dao:b', 'dao:y', 2, 'queued', '2026-02-01T00:00:00Z'));
      rows.push(sent('dao:B', 'dao:x', 1, 'queued'));
      await o.storage.recordSent(rows.map((r) => r.row));
      await o.storage.update(rows.filter((r) => r.state !== 'queued').map((r) => moved(r.row, r.state)));
      const refusedInA = Math.floor((long - 100) / 97);
      const target = (namespace: string) => ({ node: 'beta.test', namespace });
      const zero = { queued: 0, sealed: 0, delivered: 0, refused: 0, expired: 0 };
      assert.deepEqual(await o.counts.counts(), [
        { namespace: 'dao:B', target: target('dao:x'), lastSeq: 1, ...zero, queued: 1 },
        {
          namespace: 'dao:a',
          target: target('dao:x'),
          lastSeq: long,
          ...zero,
          queued: 40,
          sealed: 60,
          delivered: long - 100 - refusedInA,
          refused: refusedInA,
        },
        { namespace: 'dao:b', target: target('dao:x'), lastSeq: 50, ...zero, sealed: 1, delivered: 49 },
        { namespace: 'dao:b', target: target('dao:y'), lastSeq: 2, ...zero, expired: 2 },
      ]);
      await o.storage.update([
        ...rows
          .filter((r) => r.row.namespace === 'dao:a' && r.row.seq > long - 100)
          .map((r) => moved(r.row, 'delivered')),
        moved(rows.find((r) => r.row.namespace === 'dao:b' && r.row.seq === 10)!.row, 'refused'),
      ]);
      // More arrive after the first read: a stream's next message, and a new stream.
      await o.storage.recordSent([
        sent('dao:a', 'dao:x', long + 1, 'queued').row,
        sent('dao:c', 'dao:x', 1, 'queued').row,
      ]);
      const [x, y] = await Promise.all([o.counts.counts(), o.counts.counts()]);
      assert.deepEqual(x, y, 'concurrent callers read the same');
      assert.deepEqual(
        x.map((c) => [c.namespace, c.target.namespace, c.lastSeq, c.queued, c.sealed, c.delivered, c.refused]),
        [
          ['dao:B', 'dao:x', 1, 1, 0, 0, 0],
          ['dao:a', 'dao:x', long + 1, 1, 0, long - refusedInA, refusedInA],
          ['dao:b', 'dao:x', 50, 0, 0, 49, 1],
          ['dao:b', 'dao:y', 2, 0, 0, 0, 0],
          ['dao:c', 'dao:x', 1, 1, 0, 0, 0],
        ],
      );
    } finally {
      await o.close();
    }
  });

  test('inbox counts: accepted, refused, expired and held, with each stream’s next seq', async () => {
    const i = await inboxAt(await freshPlace());
    try {
      const origin = 'alpha.test/dao:a';
      const long = SETTLE_CHUNK_ROWS + 500;
      const offers = Array.from({ length: long }, (_, k) => ({
        sourceOrigin: origin,
        sourceIndex: k,
        messageId: `m${k}`,
        namespace: 'dao:b',
        seq: k + 1,
        action: 'notify',
        message: '{}',
        replyLinked: false,
        receivedMs: 0,
      }));
      await i.storage.admit('dao:b', origin, offers);
      const key = (seq: number) => ({ sourceOrigin: origin, sourceIndex: seq - 1 });
      const settledThrough = long - 10;
      const settle = Array.from({ length: settledThrough }, (_, k) => k + 1).filter((seq) => seq !== 20);
      await i.storage.settle({
        namespace: 'dao:b',
        transitions: settle.map((seq) =>
          seq % 50 === 0
            ? {
                ...key(seq),
                to: 'refused' as const,
                code: seq % 100 === 0 ? 'MESSAGE_EXPIRED' : 'FORBIDDEN',
                message: 'no',
              }
            : { ...key(seq), to: 'applying' as const, delivery: 'd' },
        ),
        advance: [origin],
      });
      const applying = settle.filter((seq) => seq % 50 !== 0);
      await i.storage.settle({
        namespace: 'dao:b',
        transitions: applying.map((seq) => ({
          ...key(seq),
          to: 'applied' as const,
          delivery: 'd',
          deliveryIndex: seq,
          listed: false,
        })),
        advance: [origin],
      });
      const refusals = settle.filter((seq) => seq % 50 === 0);
      const expired = refusals.filter((seq) => seq % 100 === 0).length;
      assert.deepEqual(await i.counts.counts(), [
        {
          namespace: 'dao:b',
          sourceOrigin: origin,
          lastSeq: long,
          nextSeq: 20,
          accepted: applying.length,
          held: 11,
          refused: refusals.length - expired,
          expired,
        },
      ]);
      await i.storage.settle({
        namespace: 'dao:b',
        transitions: [{ ...key(20), to: 'refused', code: 'FORBIDDEN', message: 'no' }],
        advance: [origin],
      });
      const after = (await i.counts.counts())[0]!;
      assert.deepEqual(
        [after.nextSeq, after.held, after.refused],
        [settledThrough + 1, 10, refusals.length - expired + 1],
      );
    } finally {
      await i.close();
    }
  });
});
