import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  NoteSigner,
  NoteVerifier,
  buildMessage,
  buildMessageDelivery,
  buildReceipt,
  canonicalBytes,
  messageId,
  type MessageDelivery,
  type NamespaceMessage,
  type Receipt,
} from '@vaultmesh/core';
import { messageOutcome, requestRefusal } from '../../../src/messaging/outbox/delivery-outcome.js';
import { openLogEngine, type ObservableLogEngine } from '../../../src/log/index.js';
import { tempDirs } from '../../log/engine-fixture.js';

/*
 * The outbox reads a target's answers (attacker-controlled) before it keeps anything: a real
 * delivery record and receipt, made by a real target log, pass; every alteration is caught.
 */

const TARGET_NODE = 'beta.vaultmesh.test';
const TARGET = { node: TARGET_NODE, namespace: 'dao:b' };
const TARGET_SEED = new Uint8Array(32).fill(9);
const dirs = tempDirs('remembrancer-outcome-');
let engine: ObservableLogEngine;
let message: NamespaceMessage;
let id: string;
let record: MessageDelivery;
let receipt: Receipt;
let otherReceipt: Receipt;
let targetLog: NoteVerifier;
const INDEX = 41;

before(async () => {
  message = buildMessage({
    source: { node: 'alpha.vaultmesh.test', namespace: 'dao:a' },
    target: TARGET,
    action: 'notify',
    operation: 'record',
    parameters: { n: 1 },
    seq: 3,
    sentAt: '2026-03-01T00:00:00Z',
    expiresAt: '2026-03-02T00:00:00Z',
  });
  id = messageId(message);
  record = buildMessageDelivery({ message, index: INDEX, acceptedAt: '2026-03-01T00:00:01Z' });
  engine = await openLogEngine({
    dataDir: dirs.make(),
    nodeName: TARGET_NODE,
    logSeed: TARGET_SEED,
    checkpointIntervalMs: 0,
    synchronous: 'NORMAL',
  });
  const ns = await engine.createNamespace('dao:b');
  await engine.append('dao:b', [canonicalBytes({ memo: 'before' }), canonicalBytes(record)]);
  const cp = (await engine.publishCheckpoint('dao:b'))!;
  const receiptOf = async (index: number, entry: unknown) =>
    buildReceipt({
      namespace: 'dao:b',
      origin: ns.origin,
      index,
      entry,
      proof: await engine.inclusionProof('dao:b', index, cp.size),
      checkpointNote: cp.note,
    });
  receipt = await receiptOf(1, record);
  otherReceipt = await receiptOf(0, { memo: 'before' });
  targetLog = NoteVerifier.fromVkey(ns.logVkey);
});
after(async () => {
  await engine.close();
  dirs.cleanup();
});

const accepted = (delivery: object, status = 'accepted') => ({ message_id: id, status, delivery });

test('a true delivery record and its receipt are kept', () => {
  const o = messageOutcome(message, id, INDEX, accepted({ index: 1, entry: record, receipt }), targetLog);
  assert.equal(o.kind, 'delivered');
  assert.ok(o.kind === 'delivered' && o.delivery.receipt && o.receiptError === undefined);
  const noReceipt = messageOutcome(message, id, INDEX, accepted({ index: 1, entry: record }, 'duplicate'), targetLog);
  assert.ok(noReceipt.kind === 'delivered' && noReceipt.delivery.receipt === undefined);
  const recorded = buildMessageDelivery({ message, index: INDEX, acceptedAt: record.accepted_at, recordIndex: 7 });
  const withRecord = messageOutcome(message, id, INDEX, accepted({ index: 1, entry: recorded }), targetLog);
  assert.equal(withRecord.kind, 'delivered', 'record_index is the target’s to say');
});

test('a delivery record of anything else is not kept, and the message is tried again', () => {
  const wrong: Array<[string, unknown]> = [
    ['another index', { ...record, index: INDEX + 1 }],
    ['another seq', { ...record, seq: 4 }],
    ['another message', { ...record, message_id: 'f'.repeat(64) }],
    ['another source', { ...record, source_origin: 'gamma.vaultmesh.test/dao:a' }],
    ['another target', { ...record, target: { node: TARGET_NODE, namespace: 'dao:c' } }],
    ['another action', { ...record, action: 'invoke' }],
    ['another leaf hash', { ...record, leaf_hash: record.leaf_hash.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) }],
    ['an extra member', { ...record, extra: 1 }],
    ['no record', undefined],
  ];
  for (const [what, entry] of wrong) {
    const o = messageOutcome(message, id, INDEX, accepted({ index: 1, entry }), targetLog);
    assert.equal(o.kind, 'retry', what);
    assert.equal(o.kind === 'retry' && o.error?.code, 'PEER_ANSWER_MALFORMED', what);
  }
  for (const index of [-1, 1.5, '1', undefined]) {
    const o = messageOutcome(message, id, INDEX, accepted({ index, entry: record }), targetLog);
    assert.equal(o.kind, 'retry');
  }
  const otherId = messageOutcome(
    message,
    id,
    INDEX,
    { ...accepted({ index: 1, entry: record }), message_id: 'e'.repeat(64) },
    targetLog,
  );
  assert.equal(otherId.kind, 'retry');
});

test('a receipt that does not prove the record under the target log key is not kept; the delivery is', () => {
  const otherKey = NoteVerifier.fromVkey(new NoteSigner(`${TARGET_NODE}/dao:b`, new Uint8Array(32).fill(1)).vkey);
  const cases: Array<[string, unknown, NoteVerifier | undefined, string]> = [
    ['signed by another key', receipt, otherKey, 'SIGNATURE_MISSING'],
    ['of another entry', otherReceipt, targetLog, 'PROOF_MISMATCH'],
    ['tampered', { ...receipt, proof: [] }, targetLog, 'PROOF_MISMATCH'],
    ['no key known', receipt, undefined, 'PEER_KEY_UNKNOWN'],
    ['not a receipt', 'receipt', targetLog, 'RECEIPT_MALFORMED'],
  ];
  for (const [what, r, key, code] of cases) {
    const o = messageOutcome(message, id, INDEX, accepted({ index: 1, entry: record, receipt: r }), key);
    assert.ok(o.kind === 'delivered', what);
    assert.equal(o.delivery.receipt, undefined, what);
    assert.ok(o.receiptError, what);
    if (what !== 'signed by another key' && what !== 'tampered') assert.equal(o.receiptError.code, code, what);
  }
  const atOtherIndex = messageOutcome(message, id, INDEX, accepted({ index: 0, entry: record, receipt }), targetLog);
  assert.ok(atOtherIndex.kind === 'delivered' && atOtherIndex.receiptError?.code === 'PROOF_MISMATCH');
});

test('refusals: expired, for now, or for good; held is a retry', () => {
  const refused = (code: unknown) => ({ message_id: id, status: 'refused', error: { code, message: 'why' } });
  assert.equal(messageOutcome(message, id, INDEX, refused('MESSAGE_EXPIRED'), targetLog).kind, 'expired');
  for (const code of ['POLICY_NOT_MET', 'QUEUE_FULL', 'RATE_LIMITED', 'QUOTA_EXCEEDED', 'MESSAGE_NOT_YET_VALID'])
    assert.equal(messageOutcome(message, id, INDEX, refused(code), targetLog).kind, 'retry', code);
  for (const code of ['MESSAGE_NOT_ACCEPTED', 'MESSAGE_SEQ_CONFLICT', 'PROOF_MISMATCH', 'NAMESPACE_NOT_FOUND'])
    assert.equal(messageOutcome(message, id, INDEX, refused(code), targetLog).kind, 'refused', code);
  for (const code of ['lower', 42, undefined])
    assert.equal(messageOutcome(message, id, INDEX, refused(code), targetLog).kind, 'retry', String(code));
  assert.deepEqual(messageOutcome(message, id, INDEX, { status: 'held' }, targetLog), { kind: 'retry' });
});

test('whole-request refusals: final only in a stable code that means never', () => {
  const cases: Array<[string, number | undefined, boolean]> = [
    ['NAMESPACE_NOT_FOUND', 404, false],
    ['MESSAGE_MALFORMED', 400, false],
    ['NOT_FOUND', 404, true],
    ['PEER_KEY_UNKNOWN', 401, true],
    ['NONCE_REPLAYED', 409, true],
    ['PAYLOAD_TOO_LARGE', 413, true],
    ['QUEUE_FULL', 503, true],
    ['ANYTHING', 502, true],
    ['not a code', 400, true],
  ];
  for (const [code, status, retry] of cases) {
    const f = requestRefusal(code, 'm', status);
    assert.equal(f.retry, retry, code);
    if (code === 'not a code') assert.equal(f.error.code, 'PEER_REQUEST_FAILED');
  }
});

test('any answer whatever is read without a throw, as one of the four outcomes', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.jsonValue(),
        fc.record(
          {
            message_id: fc.oneof(fc.constant(id), fc.jsonValue()),
            status: fc.oneof(fc.constantFrom('accepted', 'duplicate', 'held', 'refused'), fc.jsonValue()),
            delivery: fc.oneof(
              fc.record(
                {
                  index: fc.oneof(fc.constant(1), fc.jsonValue()),
                  entry: fc.oneof(fc.constant(record), fc.jsonValue()),
                  receipt: fc.oneof(fc.constant(receipt), fc.jsonValue()),
                },
                { requiredKeys: [] },
              ),
              fc.jsonValue(),
            ),
            error: fc.oneof(fc.record({ code: fc.jsonValue(), message: fc.jsonValue() }), fc.jsonValue()),
          },
          { requiredKeys: [] },
        ),
      ),
      (answer) => {
        const o = messageOutcome(message, id, INDEX, answer, targetLog);
        assert.ok(['delivered', 'retry', 'refused', 'expired'].includes(o.kind));
        if (o.kind === 'delivered') assert.equal(o.delivery.entry.message_id, id);
      },
    ),
    { numRuns: 1000 },
  );
});
