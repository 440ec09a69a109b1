import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { InboxVia } from '../../../src/messaging/messaging-wire.js';
import { ALPHA, BETA, SourceLog, TargetNode, tempRoot } from './inbox-fixture.js';

// A sender with several requests of one stream under way: a later request may arrive first. Its
// messages are held, and applied a moment later when the earlier request fills the gap; the later
// request's answer waits (bounded) for that and carries the deliveries instead of `held`.

const NS = 'app:dst';
const PUBLIC: InboxVia = { kind: 'public' };
const dirs = tempRoot();
let node: TargetNode;
let src: SourceLog;

before(async () => {
  node = await TargetNode.open(dirs.make());
  await node.createNamespace(NS, { messaging: { accept_from: [`${BETA.id}/app:src`] } });
  await node.openInbox({ heldWaitMs: 1_500 });
  src = await SourceLog.open(BETA, 'app:src', dirs.make(), { node: ALPHA.id, namespace: NS });
});

after(async () => {
  await node.close();
  await src.close();
  dirs.cleanup();
});

test('the later request answers the deliveries the earlier one made', async () => {
  const sent = await src.send([{ seq: 1 }, { seq: 2 }, { seq: 3 }]);
  const later = node.inbox.receive(
    NS,
    sent.slice(1).map((s) => s.message),
    PUBLIC,
  );
  await new Promise((r) => setTimeout(r, 50));
  const [first] = await node.inbox.receive(NS, [sent[0]!.message], PUBLIC);
  assert.equal(first!.status, 'accepted');
  const results = await later;
  assert.deepEqual(
    results.map((r) => r.status),
    ['duplicate', 'duplicate'],
  );
  assert.deepEqual(
    results.map((r) => r.delivery!.entry.seq),
    [2, 3],
  );
  assert.ok(results.every((r) => r.delivery!.receipt !== undefined));
});

test('a gap that does not fill within the wait is answered held', async () => {
  const [, m5] = await src.send([{ seq: 4 }, { seq: 5 }]);
  const started = Date.now();
  const [r] = await node.inbox.receive(NS, [m5!.message], PUBLIC);
  assert.equal(r!.status, 'held');
  assert.ok(Date.now() - started >= 1_400, 'it waited for the gap');
});
