import { after, beforeEach, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AppendResult, LogEngine } from '../../../src/log/log-engine.js';
import { Inbox } from '../../../src/messaging/inbox/inbox.js';
import type { InboxVia } from '../../../src/messaging/messaging-wire.js';
import { ALPHA, BETA, SourceLog, TargetNode, tempRoot, type Sent } from './inbox-fixture.js';

// A receiver killed mid-delivery: the process dies between two steps of an apply, so the inbox
// that opens next finds an intent and the log as the append left it. Simulated in process: an
// engine wrapper whose append never returns (after committing, or without committing), then the
// inbox's store is closed without another write and a new inbox opens over the same files.

const DST = 'app:dst';
const PUBLIC: InboxVia = { kind: 'public' };

/** How each append call behaves: `commit` passes it to the engine, `hang` never settles (the process died there). */
type Step = 'commit' | 'commit-then-hang' | 'hang';

function dying(engine: LogEngine, steps: Step[]): { engine: LogEngine; calls: Promise<void> } {
  let reached!: () => void;
  const calls = new Promise<void>((resolve) => (reached = resolve));
  const wrapped = Object.create(engine) as LogEngine;
  let n = 0;
  wrapped.append = async (ns: string, entries: readonly Uint8Array[]): Promise<AppendResult[]> => {
    const step = steps[n++] ?? 'commit';
    if (step === 'commit') return engine.append(ns, entries);
    if (step === 'commit-then-hang') await engine.append(ns, entries);
    reached();
    return new Promise<AppendResult[]>(() => undefined);
  };
  return { engine: wrapped, calls };
}

const recordOf = (seq: number) => ({
  seq,
  action: 'invoke' as const,
  operation: 'record',
  parameters: { paid: seq },
});

/**
 * The scenarios, with the inbox's state where `inboxDb` says: a PostgreSQL database (its URL,
 * a fresh one per test) or, undefined, inbox.sqlite in the node's directory. Run on SQLite by
 * inbox-crash.test.ts, on PostgreSQL by ../postgres/inbox-crash-postgres.test.ts.
 */
export function inboxCrashSuite(title: string, inboxDb: () => Promise<string | undefined>): void {
  describe(title, () => {
    const dirs = tempRoot();
    let node: TargetNode;
    let src: SourceLog;

    /** Starts a delivery through an inbox whose engine dies as `steps` say, and "kills" it there. */
    async function crashDuring(messages: Sent[], steps: Step[]): Promise<void> {
      const { engine, calls } = dying(node.engine, steps);
      const doomed = await Inbox.open(node.inboxOptions(await node.inboxStorage(), { engine }));
      void doomed.receive(
        DST,
        messages.map((m) => m.message),
        PUBLIC,
      );
      await calls;
      await doomed.close();
    }

    async function deliveriesOf(id: string) {
      return (await node.deliveries(DST)).filter((d) => d['message_id'] === id);
    }

    beforeEach(async () => {
      node = await TargetNode.open(dirs.make(), { inboxDb: await inboxDb() });
      await node.createNamespace(DST, { messaging: { accept_from: [`${BETA.id}/app:src`] } });
      src = await SourceLog.open(BETA, 'app:src', dirs.make(), { node: ALPHA.id, namespace: DST });
    });
    afterEach(async () => {
      await node.close();
      await src.close();
    });
    after(() => dirs.cleanup());

    test('appended but not marked: the next open finds the delivery record and nothing is applied twice', async () => {
      const sent = await src.send([{ seq: 1 }, { seq: 2 }]);
      await crashDuring(sent, ['commit-then-hang']);
      assert.equal((await node.deliveries(DST)).length, 2, 'the records were committed before the crash');
      const inbox = await node.openInbox();
      assert.deepEqual(inbox.reconciled, { applied: 2, held: 0, recorded: 0 });
      const results = await inbox.receive(
        DST,
        sent.map((s) => s.message),
        PUBLIC,
      );
      assert.deepEqual(
        results.map((r) => r.status),
        ['duplicate', 'duplicate'],
      );
      for (const s of sent) assert.equal((await deliveriesOf(s.id)).length, 1);
      // Both are in the application inbox, once.
      assert.deepEqual(
        (await inbox.page(DST, 0, 10)).items.map((i) => i.message_id),
        sent.map((s) => s.id),
      );
      // The stream moved on: seq 3 applies at once.
      const [m3] = await src.send([{ seq: 3 }]);
      assert.equal((await inbox.receive(DST, [m3!.message], PUBLIC))[0]!.status, 'accepted');
      // A clean reopen has nothing left to resolve.
      await inbox.close();
      assert.deepEqual((await node.openInbox()).reconciled, { applied: 0, held: 0, recorded: 0 });
    });

    test('an intent whose append never happened: a retry after the next open applies it once', async () => {
      const sent = await src.send([{ seq: 1 }]);
      await crashDuring(sent, ['hang']);
      assert.equal((await node.deliveries(DST)).length, 0);
      const inbox = await node.openInbox();
      assert.deepEqual(inbox.reconciled, { applied: 0, held: 1, recorded: 0 });
      const [r] = await inbox.receive(DST, [sent[0]!.message], PUBLIC);
      assert.equal(r!.status, 'accepted');
      const [again] = await inbox.receive(DST, [sent[0]!.message], PUBLIC);
      assert.equal(again!.status, 'duplicate');
      assert.equal((await deliveriesOf(sent[0]!.id)).length, 1);
    });

    test('a message held behind an interrupted one is applied in order by the retry', async () => {
      const sent = await src.send([{ seq: 1 }, { seq: 2 }]);
      const inbox0 = await node.openInbox();
      assert.equal((await inbox0.receive(DST, [sent[1]!.message], PUBLIC))[0]!.status, 'held');
      await inbox0.close();
      await crashDuring([sent[0]!], ['hang']);
      const inbox = await node.openInbox();
      const [r] = await inbox.receive(DST, [sent[0]!.message], PUBLIC);
      assert.equal(r!.status, 'accepted');
      assert.deepEqual(
        (await node.deliveries(DST)).map((d) => d['seq']),
        [1, 2],
      );
    });

    test('record: killed after its entry was appended, before its index was stored — the entry is found, not appended again', async () => {
      const sent = await src.send([recordOf(1)]);
      await crashDuring(sent, ['commit-then-hang']);
      assert.deepEqual(await node.entries(DST), [{ paid: 1 }], 'the record entry alone was committed');
      const inbox = await node.openInbox();
      assert.deepEqual(inbox.reconciled, { applied: 0, held: 1, recorded: 1 });
      const [r] = await inbox.receive(DST, [sent[0]!.message], PUBLIC);
      assert.equal(r!.status, 'accepted', JSON.stringify(r));
      assert.equal(r!.delivery!.entry.record_index, 0);
      assert.deepEqual(
        (await node.entries(DST)).map((e) => e['paid'] ?? e['format']),
        [1, 'namespace.message.delivery@1.0.0'],
      );
    });

    test('record: killed between its entry and its delivery record — only the delivery record is appended by the retry', async () => {
      const sent = await src.send([recordOf(1), { seq: 2 }]);
      await crashDuring(sent, ['commit', 'hang']);
      assert.deepEqual(await node.entries(DST), [{ paid: 1 }]);
      const inbox = await node.openInbox();
      assert.deepEqual(inbox.reconciled, { applied: 0, held: 2, recorded: 0 });
      const results = await inbox.receive(
        DST,
        sent.map((s) => s.message),
        PUBLIC,
      );
      assert.deepEqual(
        results.map((r) => r.status),
        ['accepted', 'accepted'],
      );
      assert.equal(results[0]!.delivery!.entry.record_index, 0);
      assert.deepEqual(
        (await node.entries(DST)).map((e) => e['paid'] ?? e['seq']),
        [1, 1, 2],
      );
    });

    test('record: two messages with the same parameters interrupted before their indexes were stored each get their own entry', async () => {
      const sent = await src.send([recordOf(1), { ...recordOf(2), parameters: { paid: 1 } }]);
      await crashDuring(sent, ['commit-then-hang']);
      assert.equal((await node.entries(DST)).length, 2);
      const inbox = await node.openInbox();
      assert.deepEqual(inbox.reconciled, { applied: 0, held: 2, recorded: 2 });
      const results = await inbox.receive(
        DST,
        sent.map((s) => s.message),
        PUBLIC,
      );
      assert.deepEqual(
        results.map((r) => r.delivery?.entry.record_index),
        [0, 1],
      );
      assert.equal((await node.entries(DST)).length, 4);
    });
  });
}
