import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSchemaRegister, signGovernanceDocument, verifyReceipt } from '@vaultmesh/core';
import type { InboxVia } from '../../../src/messaging/messaging-wire.js';
import { ALPHA, BETA, SourceLog, TargetNode, tempRoot } from './inbox-fixture.js';

// invoke/record appends `parameters` as an entry of the target under its schema policy, and the
// delivery record names it (record_index); a record the target refuses is refused at its turn and
// does not hold up its stream.

const DST = 'app:ledger';
const dirs = tempRoot();
let node: TargetNode;
let src: SourceLog;
const PUBLIC: InboxVia = { kind: 'public' };
const record = (seq: number, parameters: Record<string, unknown>) => ({
  seq,
  action: 'invoke' as const,
  operation: 'record',
  parameters,
});

before(async () => {
  node = await TargetNode.open(dirs.make());
  const doc = signGovernanceDocument(
    buildSchemaRegister({
      schema_id: 'payment@1.0.0',
      definition: {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        required: ['amount'],
        properties: { amount: { type: 'integer', minimum: 0 } },
        additionalProperties: false,
      },
    }),
    node.identity.operatorId,
    node.identity.operatorSeed,
  );
  await node.namespaces.directory.submit(doc);
  await node.createNamespace(DST, {
    schema_policy: { allow: ['payment@1.0.0'] },
    limits: { max_entry_bytes: 512 },
    messaging: { accept_from: [`${BETA.id}/app:src`], actions: ['invoke', 'notify'] },
  });
  await node.openInbox();
  src = await SourceLog.open(BETA, 'app:src', dirs.make(), { node: ALPHA.id, namespace: DST });
});

after(async () => {
  await node.close();
  await src.close();
  dirs.cleanup();
});

test('record appends the parameters as an entry, then the delivery record naming it', async () => {
  const [m] = await src.send([record(1, { schema: 'payment@1.0.0', amount: 12 })]);
  const [r] = await node.inbox.receive(DST, [m!.message], PUBLIC);
  assert.equal(r!.status, 'accepted', JSON.stringify(r));
  const d = r!.delivery!.entry;
  assert.equal(typeof d.record_index, 'number');
  assert.deepEqual((await node.entries(DST))[d.record_index!], { schema: 'payment@1.0.0', amount: 12 });
  assert.ok(d.record_index! < r!.delivery!.index);
  const vkey = node.engine.getNamespace(DST)!.logVkey;
  assert.equal(verifyReceipt(r!.delivery!.receipt, { logVkeys: [vkey] }).ok, true);
  // Not an application inbox item: its effect is the entry.
  assert.equal((await node.inbox.page(DST, 0, 10)).items.length, 0);
});

test('a record the schema policy or the size limit refuses is refused at its turn; the stream goes on', async () => {
  const size = node.engine.sequencedSize(DST);
  const sent = await src.send([
    record(2, { schema: 'payment@1.0.0', amount: -1 }),
    record(3, { amount: 1 }),
    record(4, { schema: 'payment@1.0.0', amount: 1, pad: 'x'.repeat(600) }),
    record(5, { schema: 'payment@1.0.0', amount: 5 }),
    { seq: 6, parameters: { note: 'hi' } },
  ]);
  const results = await node.inbox.receive(
    DST,
    sent.map((s) => s.message),
    PUBLIC,
  );
  assert.deepEqual(
    results.map((r) => r.error?.code ?? r.status),
    ['SCHEMA_VALIDATION_FAILED', 'SCHEMA_REQUIRED', 'ENTRY_TOO_LARGE', 'accepted', 'accepted'],
  );
  // The two applied: one record entry, then both delivery records in seq order.
  const added = (await node.entries(DST)).slice(size);
  assert.deepEqual(added[0], { schema: 'payment@1.0.0', amount: 5 });
  assert.deepEqual(
    added.slice(1).map((e) => [e['format'], e['seq'], e['record_index']]),
    [
      ['namespace.message.delivery@1.0.0', 5, size],
      ['namespace.message.delivery@1.0.0', 6, undefined],
    ],
  );
  // A retry of a refused one gets the same refusal; the notify is in the application inbox.
  const [again] = await node.inbox.receive(DST, [sent[0]!.message], PUBLIC);
  assert.equal(again!.error!.code, 'SCHEMA_VALIDATION_FAILED');
  const page = await node.inbox.page(DST, 0, 10);
  assert.deepEqual(
    page.items.map((i) => i.message_id),
    [sent[4]!.id],
  );
  assert.deepEqual(page.items[0]!.message, sent[4]!.message);
});

test('an append the namespace limits refuse: the run waits, and a retry applies it once (its record entry not again)', async () => {
  const NS = 'app:small';
  await node.createNamespace(NS, {
    limits: { quota_entries: 1 },
    messaging: { accept_from: [`${BETA.id}/app:small-src`], actions: ['invoke', 'notify'] },
  });
  const small = await SourceLog.open(BETA, 'app:small-src', dirs.make(), { node: ALPHA.id, namespace: NS });
  try {
    const sent = await small.send([{ seq: 1 }, record(2, { paid: 2 }), { seq: 3 }]);
    const messages = sent.map((s) => s.message);
    // The record entry fits a quota of one; the three delivery records after it do not.
    const refused = await node.inbox.receive(NS, messages, PUBLIC);
    assert.deepEqual(
      refused.map((r) => r.error?.code),
      ['QUOTA_EXCEEDED', 'QUOTA_EXCEEDED', 'QUOTA_EXCEEDED'],
    );
    assert.deepEqual(await node.entries(NS), [{ paid: 2 }], 'the record entry stays, known to its message');
    await node.namespaces.directory.propose('set', NS, { limits: { quota_entries: 100 } });
    const results = await node.inbox.receive(NS, messages, PUBLIC);
    assert.deepEqual(
      results.map((r) => r.status),
      ['accepted', 'accepted', 'accepted'],
    );
    assert.deepEqual(
      (await node.entries(NS)).map((e) => e['paid'] ?? e['seq']),
      [2, 1, 2, 3],
    );
  } finally {
    await small.close();
  }
});

test('a record whose entry has a format only the node appends (message, delivery record) is refused FORBIDDEN at its turn', async () => {
  const size = node.engine.sequencedSize(DST);
  const sent = await src.send([
    record(7, { schema: 'payment@1.0.0', amount: 1, format: 'namespace.message@1.0.0' }),
    record(8, { schema: 'payment@1.0.0', amount: 1, format: 'namespace.message.delivery@1.0.0' }),
  ]);
  const results = await node.inbox.receive(
    DST,
    sent.map((s) => s.message),
    PUBLIC,
  );
  assert.deepEqual(
    results.map((r) => r.error?.code ?? r.status),
    ['FORBIDDEN', 'FORBIDDEN'],
  );
  assert.equal(node.engine.sequencedSize(DST), size, 'nothing appended');
});
