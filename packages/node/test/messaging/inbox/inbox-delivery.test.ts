import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyReceipt, type MessageDelivery } from '@vaultmesh/core';
import type { LogEngine } from '../../../src/log/log-engine.js';
import type { InboxResult } from '../../../src/messaging/messaging-wire.js';
import { NodeMetrics } from '../../../src/metrics/node-metrics.js';
import { ALPHA, BETA, SourceLog, TargetNode, acceptFrom, tempRoot } from './inbox-fixture.js';

// The inbox over a real engine: messages of a real source log with real tlog-proofs are applied
// once, in seq order, each with a delivery record whose receipt verifies.

const DST = 'app:dst';
const dirs = tempRoot();
let node: TargetNode;
let src: SourceLog;

/** The engine, counting append calls. */
function counting(engine: LogEngine): { engine: LogEngine; appends: number[] } {
  const appends: number[] = [];
  const wrapped = Object.create(engine) as LogEngine;
  wrapped.append = (ns, entries) => {
    appends.push(entries.length);
    return engine.append(ns, entries);
  };
  return { engine: wrapped, appends };
}

const counted = { appends: [] as number[] };
const metrics = new NodeMetrics();

before(async () => {
  node = await TargetNode.open(dirs.make());
  await node.createNamespace(DST, acceptFrom(`${BETA.id}/app:src`));
  const c = counting(node.engine);
  counted.appends = c.appends;
  await node.openInbox({ engine: c.engine, metrics });
  src = await SourceLog.open(BETA, 'app:src', dirs.make(), { node: ALPHA.id, namespace: DST });
});

after(async () => {
  await node.close();
  await src.close();
  dirs.cleanup();
});

function expectAccepted(r: InboxResult, id: string): MessageDelivery {
  assert.equal(r.status, 'accepted', JSON.stringify(r));
  assert.equal(r.message_id, id);
  return r.delivery!.entry;
}

describe('delivery', () => {
  test('an accepted message appends its delivery record, and the answer carries its receipt', async () => {
    const [m] = await src.send([{ seq: 1 }]);
    const [r] = await node.inbox.receive(DST, [m!.message], { kind: 'public' });
    const d = expectAccepted(r!, m!.id);
    assert.equal(d.source_origin, src.origin);
    assert.equal(d.index, m!.index);
    assert.equal(d.seq, 1);
    assert.deepEqual(await node.deliveries(DST), [d]);
    const receipt = r!.delivery!.receipt;
    assert.ok(receipt, 'a checkpoint covered the record within the wait');
    const verified = verifyReceipt(receipt, { logVkeys: [node.engine.getNamespace(DST)!.logVkey] });
    assert.equal(verified.ok, true, JSON.stringify(verified.checks));
    assert.deepEqual(receipt.entry, d);
    assert.equal(receipt.index, r!.delivery!.index);
  });

  test('the same message again is a duplicate answering the first delivery; nothing is appended', async () => {
    const [m] = await src.send([{ seq: 2 }]);
    const [first] = await node.inbox.receive(DST, [m!.message], { kind: 'public' });
    const size = node.engine.sequencedSize(DST);
    const [again] = await node.inbox.receive(DST, [m!.message], { kind: 'peer', peer: GAMMA_ID });
    assert.equal(again!.status, 'duplicate');
    assert.deepEqual(again!.delivery!.entry, first!.delivery!.entry);
    assert.equal(again!.delivery!.index, first!.delivery!.index);
    assert.ok(again!.delivery!.receipt);
    assert.equal(node.engine.sequencedSize(DST), size);
    // Twice in one request: the first is applied (here: already was), the second a duplicate.
    const [a, b] = await node.inbox.receive(DST, [m!.message, m!.message], { kind: 'public' });
    assert.equal(a!.status, 'duplicate');
    assert.equal(b!.status, 'duplicate');
  });

  test('a message ahead of its stream is held, and applied in order once the gap fills', async () => {
    const [m3, m4, m5] = await src.send([{ seq: 3 }, { seq: 4 }, { seq: 5 }]);
    const [h5] = await node.inbox.receive(DST, [m5!.message], { kind: 'public' });
    assert.deepEqual(h5, { message_id: m5!.id, status: 'held' });
    const [h4] = await node.inbox.receive(DST, [m4!.message], { kind: 'public' });
    assert.equal(h4!.status, 'held');
    const before = (await node.deliveries(DST)).length;
    const [a3] = await node.inbox.receive(DST, [m3!.message], { kind: 'public' });
    expectAccepted(a3!, m3!.id);
    const seqs = (await node.deliveries(DST)).slice(before).map((d) => d['seq']);
    assert.deepEqual(seqs, [3, 4, 5], 'the held messages followed in seq order');
    const [d5] = await node.inbox.receive(DST, [m5!.message], { kind: 'public' });
    assert.equal(d5!.status, 'duplicate');
    assert.ok(d5!.delivery!.receipt);
  });

  test('a request of many messages of one stream is one append, answered in request order', async () => {
    const inputs = Array.from({ length: 256 }, (_, i) => ({ seq: 6 + i }));
    const sent = await src.send(inputs);
    counted.appends.length = 0;
    const results = await node.inbox.receive(
      DST,
      sent.map((s) => s.message),
      { kind: 'public' },
    );
    assert.deepEqual(counted.appends, [256]);
    results.forEach((r, i) => expectAccepted(r, sent[i]!.id));
    assert.ok(results.every((r) => r.delivery!.receipt !== undefined));
  });

  test('a different message for a seq taken, or for a seq passed, is MESSAGE_SEQ_CONFLICT and stores nothing', async () => {
    const size = node.engine.sequencedSize(DST);
    // seq 1 was applied long ago: a new entry of the source claiming it.
    const [old] = await src.send([{ seq: 1, parameters: { other: true } }]);
    const [r1] = await node.inbox.receive(DST, [old!.message], { kind: 'public' });
    assert.equal(r1!.status, 'refused');
    assert.equal(r1!.error!.code, 'MESSAGE_SEQ_CONFLICT');
    // Two messages for one future seq: the first is held, the second conflicts.
    const [x, y] = await src.send([{ seq: 400 }, { seq: 400, parameters: { twin: true } }]);
    const [rx, ry] = await node.inbox.receive(DST, [x!.message, y!.message], { kind: 'public' });
    assert.equal(rx!.status, 'held');
    assert.equal(ry!.error?.code, 'MESSAGE_SEQ_CONFLICT');
    const [again] = await node.inbox.receive(DST, [y!.message], { kind: 'public' });
    assert.equal(again!.error?.code, 'MESSAGE_SEQ_CONFLICT', 'a retry conflicts again: nothing was stored for it');
    assert.equal(node.engine.sequencedSize(DST), size);
  });

  test('every result is counted by status and refusal code', async () => {
    const values = (await metrics.inboxMessages.get()).values;
    const count = (status: string, code = '') =>
      values.find((v) => v.labels.status === status && v.labels.code === code)?.value ?? 0;
    assert.ok(count('accepted') >= 259);
    assert.ok(count('duplicate') >= 4);
    assert.ok(count('held') >= 2);
    assert.ok(count('refused', 'MESSAGE_SEQ_CONFLICT') >= 3);
  });
});

const GAMMA_ID = 'gamma.test';
