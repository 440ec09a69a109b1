import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyReceipt, type Receipt } from '@vaultmesh/core';
import { ALPHA, BETA, SourceLog, TargetNode, acceptFrom, tempRoot } from './inbox-fixture.js';

// Receipts of delivery records share their checkpoint's note: an answer of many messages and an
// inbox page of many items read the note (on a node: the cosignatures held, from SQLite) once,
// not once per record, and every receipt still verifies.

const DST = 'app:dst';
const COUNT = 40;
const dirs = tempRoot();
let node: TargetNode;
let src: SourceLog;
/** Origins the inbox asked a checkpoint note for, one per call. */
const noteReads: string[] = [];

before(async () => {
  node = await TargetNode.open(dirs.make());
  await node.createNamespace(DST, acceptFrom(`${BETA.id}/app:src`));
  await node.openInbox({
    checkpointNote: (origin, cp) => {
      noteReads.push(origin);
      return cp.note;
    },
  });
  src = await SourceLog.open(BETA, 'app:src', dirs.make(), { node: ALPHA.id, namespace: DST });
});

after(async () => {
  await node.close();
  await src.close();
  dirs.cleanup();
});

function assertVerifies(receipt: Receipt | undefined): void {
  assert.ok(receipt, 'a receipt');
  const verified = verifyReceipt(receipt, { logVkeys: [node.engine.getNamespace(DST)!.logVkey] });
  assert.equal(verified.ok, true, JSON.stringify(verified.checks));
}

test('an answer of many messages reads its checkpoint note once, and each receipt verifies', async () => {
  const sent = await src.send(Array.from({ length: COUNT }, (_, i) => ({ seq: i + 1 })));
  noteReads.length = 0;
  const results = await node.inbox.receive(
    DST,
    sent.map((s) => s.message),
    { kind: 'public' },
  );
  assert.deepEqual(
    results.map((r) => r.status),
    sent.map(() => 'accepted'),
  );
  for (const r of results) assertVerifies(r.delivery?.receipt);
  assert.deepEqual(noteReads, [node.engine.getNamespace(DST)!.origin]);
});

test('an inbox page of many items reads the note once, and each item carries a receipt that verifies', async () => {
  noteReads.length = 0;
  const page = await node.inbox.page(DST, 0, 100);
  assert.equal(page.items.length, COUNT);
  for (const item of page.items) assertVerifies(item.delivery.receipt);
  assert.deepEqual(noteReads, [node.engine.getNamespace(DST)!.origin]);
});
