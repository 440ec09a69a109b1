import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MESSAGE_DELIVERY_FORMAT,
  RemembrancerError,
  base64Encode,
  buildMessage,
  buildMessageDelivery,
  leafHash,
  messageEntryBytes,
  messageId,
  parseMessageDelivery,
} from '../../src/index.js';
import { json, messageInput, sourceLog, sourceOrigin, target } from './fixtures.js';

const message = buildMessage(messageInput());
const record = buildMessageDelivery({ message, index: 6, acceptedAt: '2025-03-01T12:00:05Z' });

test('buildMessageDelivery derives every member from the message', () => {
  assert.deepEqual(record, {
    format: MESSAGE_DELIVERY_FORMAT,
    message_id: messageId(message),
    source_origin: sourceOrigin,
    index: 6,
    leaf_hash: base64Encode(leafHash(messageEntryBytes(message))),
    seq: 3,
    target,
    action: 'invoke',
    accepted_at: '2025-03-01T12:00:05Z',
  });
  // The travelling form (with its proof) is the same message: the same record.
  const { travelling } = sourceLog({ message });
  assert.deepEqual(buildMessageDelivery({ message: travelling, index: 6, acceptedAt: '2025-03-01T12:00:05Z' }), record);
  assert.equal(
    buildMessageDelivery({ message, index: 0, acceptedAt: new Date(Date.UTC(2025, 2, 1, 12, 0, 5)) }).accepted_at,
    '2025-03-01T12:00:05.000Z',
  );
  assert.deepEqual(parseMessageDelivery(json(record)), record);
  assert.equal('record_index' in record, false, 'absent unless the record operation ran');
});

test('record_index: where the built-in record operation appended, given by the builder and kept by the parser', () => {
  const recorded = buildMessageDelivery({ message, index: 6, acceptedAt: '2025-03-01T12:00:05Z', recordIndex: 41 });
  assert.deepEqual(recorded, { ...record, record_index: 41 });
  assert.deepEqual(parseMessageDelivery(json(recorded)), recorded);
  assert.equal(buildMessageDelivery({ message, index: 6, acceptedAt: new Date(), recordIndex: 0 }).record_index, 0);
  // An undefined member is an absent one: the record's bytes are exactly its members.
  assert.equal('record_index' in parseMessageDelivery({ ...json(record), record_index: undefined }), false);
  for (const recordIndex of [-1, 0.5, 2 ** 53, Number.NaN]) {
    assert.throws(() => buildMessageDelivery({ message, index: 6, acceptedAt: new Date(), recordIndex }), {
      code: 'MESSAGE_DELIVERY_MALFORMED',
      pointer: '/record_index',
    });
  }
});

test('entryHashes: the same record from the hashes of the entry bytes, without canonicalizing the message again', () => {
  const entry = messageEntryBytes(message);
  const entryHashes = { id: messageId(message), leafHash: leafHash(entry) };
  for (const recordIndex of [undefined, 41]) {
    const input = {
      message,
      index: 6,
      acceptedAt: '2025-03-01T12:00:05Z',
      ...(recordIndex === undefined ? {} : { recordIndex }),
    };
    assert.deepEqual(buildMessageDelivery({ ...input, entryHashes }), buildMessageDelivery(input));
  }
  // The record's members are still checked.
  assert.throws(() => buildMessageDelivery({ message, index: -1, acceptedAt: new Date(), entryHashes }), {
    code: 'MESSAGE_DELIVERY_MALFORMED',
    pointer: '/index',
  });
  assert.throws(
    () => buildMessageDelivery({ message, index: 6, acceptedAt: new Date(), entryHashes: { ...entryHashes, id: 'x' } }),
    { code: 'MESSAGE_DELIVERY_MALFORMED', pointer: '/message_id' },
  );
});

test('buildMessageDelivery refuses a malformed message or a bad index or time', () => {
  assert.throws(() => buildMessageDelivery({ message: { ...message, seq: 0 }, index: 6, acceptedAt: new Date() }), {
    code: 'MESSAGE_MALFORMED',
    pointer: '/seq',
  });
  for (const index of [-1, 0.5, 2 ** 53, Number.NaN]) {
    assert.throws(() => buildMessageDelivery({ message, index, acceptedAt: new Date() }), {
      code: 'MESSAGE_DELIVERY_MALFORMED',
      pointer: '/index',
    });
  }
  for (const acceptedAt of [new Date(Number.NaN), '2025-13-01T00:00:00Z', 'yesterday']) {
    assert.throws(() => buildMessageDelivery({ message, index: 6, acceptedAt }), {
      code: 'MESSAGE_DELIVERY_MALFORMED',
      pointer: '/accepted_at',
    });
  }
});

test('parseMessageDelivery refuses each malformed member, naming it by JSON pointer', () => {
  const d = json(record) as unknown as Record<string, unknown>;
  const without = (k: string) => Object.fromEntries(Object.entries(d).filter(([x]) => x !== k));
  const cases: Array<[unknown, string]> = [
    [null, ''],
    ['{}', ''],
    [{ ...d, extra: 1 }, '/extra'],
    [{ ...d, source: { node: 'alpha', namespace: 'dao:x' } }, '/source'],
    [without('leaf_hash'), '/leaf_hash'],
    [without('seq'), '/seq'],
    [{ ...d, format: 'namespace.message@1.0.0' }, '/format'],
    [{ ...d, message_id: 'x' }, '/message_id'],
    [{ ...d, message_id: (d['message_id'] as string).toUpperCase() }, '/message_id'],
    [{ ...d, source_origin: 'dao:sender' }, '/source_origin'],
    [{ ...d, source_origin: 'alpha.vaultmesh.local' }, '/source_origin'],
    [{ ...d, index: -1 }, '/index'],
    [{ ...d, index: '6' }, '/index'],
    [{ ...d, leaf_hash: 'AAAA' }, '/leaf_hash'],
    [{ ...d, leaf_hash: (d['leaf_hash'] as string).replace(/=$/, '') }, '/leaf_hash'],
    [{ ...d, seq: 0 }, '/seq'],
    [{ ...d, target: { node: 'beta.vaultmesh.local' } }, '/target/namespace'],
    [{ ...d, target: { ...target, x: 1 } }, '/target/x'],
    [{ ...d, action: 'deliver' }, '/action'],
    [{ ...d, accepted_at: '2025-02-30T00:00:00Z' }, '/accepted_at'],
    [{ ...d, accepted_at: 1740830405 }, '/accepted_at'],
    [{ ...d, record_index: -1 }, '/record_index'],
    [{ ...d, record_index: '7' }, '/record_index'],
    [{ ...d, record_index: null }, '/record_index'],
  ];
  for (const [value, pointer] of cases) {
    assert.throws(
      () => parseMessageDelivery(value),
      (e: unknown) =>
        e instanceof RemembrancerError && e.code === 'MESSAGE_DELIVERY_MALFORMED' && e.pointer === pointer,
      `${JSON.stringify(value)?.slice(0, 120)} at ${pointer}`,
    );
  }
});
