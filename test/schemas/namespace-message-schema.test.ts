import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import {
  DIGEST_PATTERN,
  MAX_MESSAGE_PROOF_LENGTH,
  MESSAGE_ACTIONS,
  MESSAGE_OPERATION_PATTERN,
  NAMESPACE_ID_PATTERN,
  NODE_NAME_PATTERN,
  ORIGIN_PATTERN,
  RemembrancerError,
  UTC_TIMESTAMP_PATTERN,
  buildMessage,
  buildMessageDelivery,
  entryLeafData,
  isUtcTimestamp,
  messageEntry,
  messageId,
  parseMessage,
  parseMessageDelivery,
} from '@vaultmesh/core';
import { compareUtcTimestamps } from '../../packages/core/src/federation/timestamp.js';
import { json, messageInput, sourceLog } from '../../packages/core/test/message/fixtures.js';
import { mutate } from './mutate.js';

const SEED = Number(process.env['FC_SEED'] ?? 20250413);

type Json = Record<string, any>;
const load = (file: string) =>
  JSON.parse(readFileSync(new URL(`../../schemas/${file}`, import.meta.url), 'utf8')) as Json;
const messageSchema = load('namespace.message@1.0.0.json');
const deliverySchema = load('namespace.message.delivery@1.0.0.json');
// Strict mode, as the node registers every file of schemas/ at start.
const ajv = new Ajv2020({ strict: true, allErrors: true });
const validateMessage = ajv.compile(messageSchema);
const validateDelivery = ajv.compile(deliverySchema);

/** Real messages: every action, with and without the proof, an answer, a sub-second time. */
function realMessages(): Json[] {
  const first = buildMessage(messageInput());
  const out = [
    first,
    sourceLog({ message: first }).travelling,
    ...MESSAGE_ACTIONS.map((action, i) => buildMessage(messageInput({ action, seq: 10 + i, parameters: {} }))),
    buildMessage(
      messageInput({
        action: 'notify',
        operation: 'answer.v2_x-y',
        inReplyTo: messageId(first),
        sentAt: '2025-12-31T23:59:59.123456789Z',
        expiresAt: '2026-01-01T00:00:00Z',
        parameters: { result: [1, 2.5, 'três', null, { ok: true }] },
      }),
    ),
  ];
  return out.map((m) => json(m) as Json);
}

/** Delivery records of the real messages; every other one says where its `record` operation appended. */
function realDeliveries(): Json[] {
  return realMessages().map(
    (m, i) =>
      json(
        buildMessageDelivery({
          message: parseMessage(m),
          index: i * 1000,
          acceptedAt: new Date(1740830405000 + i),
          ...(i % 2 === 1 ? { recordIndex: i * 7 } : {}),
        }),
      ) as Json,
  );
}

function accepts(parse: (v: unknown) => unknown, value: unknown): boolean {
  try {
    parse(value);
    return true;
  } catch (e) {
    assert.ok(e instanceof RemembrancerError, String(e));
    return false;
  }
}

test('messages and delivery records built by core match their schemas', () => {
  for (const m of realMessages()) {
    assert.ok(validateMessage(m), JSON.stringify(validateMessage.errors));
    // The entry (no proof) is a message too: both forms are one schema.
    assert.ok(validateMessage(messageEntry(parseMessage(m))));
    assert.deepEqual(parseMessage(m), m);
  }
  const deliveries = realDeliveries();
  assert.ok(deliveries.some((d) => 'record_index' in d) && deliveries.some((d) => !('record_index' in d)));
  for (const d of deliveries) {
    assert.ok(validateDelivery(d), JSON.stringify(validateDelivery.errors));
    assert.deepEqual(parseMessageDelivery(d), d);
  }
});

test('the schema and parseMessage reject the same malformed messages', () => {
  const [m, t] = realMessages() as [Json, Json];
  const without = (d: Json, k: string) => Object.fromEntries(Object.entries(d).filter(([x]) => x !== k));
  const p = m['payload'];
  const cases: unknown[] = [
    null,
    [],
    'message',
    { ...m, extra: 1 },
    ...['format', 'source', 'target', 'action', 'payload', 'seq', 'sent_at', 'expires_at'].map((k) => without(m, k)),
    { ...m, format: 'namespace.message@1' },
    { ...m, source: { node: 'alpha' } },
    { ...m, source: { node: 'alpha', namespace: 'dao:x', extra: 1 } },
    { ...m, source: { node: '-alpha', namespace: 'dao:x' } },
    { ...m, target: { node: 'beta', namespace: 'DAO:x' } },
    { ...m, target: 'beta/dao:x' },
    { ...m, action: 'INVOKE' },
    { ...m, action: null },
    { ...m, payload: without(p, 'operation') },
    { ...m, payload: without(p, 'parameters') },
    { ...m, payload: { ...p, extra: 1 } },
    { ...m, payload: { ...p, operation: '' } },
    { ...m, payload: { ...p, operation: '1record' } },
    { ...m, payload: { ...p, operation: 'r'.repeat(65) } },
    { ...m, payload: { ...p, parameters: [] } },
    { ...m, payload: { ...p, parameters: 'x' } },
    { ...m, payload: { ...p, proof: '' } },
    { ...m, payload: { ...p, proof: null } },
    { ...m, payload: { ...p, proof: 'index 6\n' } },
    { ...m, payload: { ...p, proof: ' c2sp.org/tlog-proof@v1\n' } },
    { ...m, payload: { ...p, proof: 'c2sp.org/tlog-proof@v1' } },
    { ...m, payload: { ...p, proof: 'c2sp.org/tlog-proof@v1\n' + '😀'.repeat(MAX_MESSAGE_PROOF_LENGTH - 22) } },
    { ...m, seq: 0 },
    { ...m, seq: -1 },
    { ...m, seq: 2.5 },
    { ...m, seq: 9007199254740992 },
    { ...m, seq: '1' },
    { ...m, sent_at: '2025-03-01T12:00:00' },
    { ...m, sent_at: '2025-03-01t12:00:00Z' },
    { ...m, sent_at: '2025-03-01T24:00:00Z' },
    { ...m, expires_at: '2025-03-01T13:00:00.1234567890Z' },
    { ...m, in_reply_to: '' },
    { ...m, in_reply_to: 'g'.repeat(64) },
    { ...m, in_reply_to: 'a'.repeat(63) },
    { ...t, payload: { ...t['payload'], proof: 7 } },
  ];
  for (const bad of cases) {
    assert.equal(validateMessage(bad), false, `schema accepted ${JSON.stringify(bad)?.slice(0, 200)}`);
    assert.throws(
      () => parseMessage(bad),
      (e: unknown) => e instanceof RemembrancerError && e.code === 'MESSAGE_MALFORMED',
      `core accepted ${JSON.stringify(bad)?.slice(0, 200)}`,
    );
  }
  // Boundaries both accept.
  for (const good of [
    { ...m, payload: { ...p, operation: 'r'.repeat(64) } },
    { ...m, payload: { ...p, proof: 'c2sp.org/tlog-proof@v1\n' + '😀'.repeat(MAX_MESSAGE_PROOF_LENGTH - 23) } },
    { ...m, seq: 9007199254740991 },
  ]) {
    assert.ok(validateMessage(good), JSON.stringify(validateMessage.errors));
    assert.ok(accepts(parseMessage, good));
  }
  // What only the code can check: the schema accepts these, the parser does not.
  let deep: Json = {};
  for (let i = 0; i < 62; i++) deep = { a: deep };
  for (const bad of [
    { ...m, sent_at: '2025-02-29T12:00:00Z' },
    { ...m, expires_at: m['sent_at'] },
    { ...m, expires_at: '2025-03-01T11:00:00Z' },
    { ...m, payload: { ...p, parameters: deep } },
    { ...m, payload: { ...p, parameters: { pad: 'x'.repeat(65_535) } } },
  ]) {
    assert.ok(validateMessage(bad), JSON.stringify(validateMessage.errors));
    assert.ok(!accepts(parseMessage, bad));
  }
});

test('the schema and parseMessageDelivery reject the same malformed records', () => {
  const [d] = realDeliveries() as [Json];
  const without = (k: string) => Object.fromEntries(Object.entries(d).filter(([x]) => x !== k));
  const cases: unknown[] = [
    null,
    {},
    { ...d, extra: 1 },
    ...Object.keys(d).map(without),
    { ...d, format: 'namespace.message.delivery@1.0.1' },
    { ...d, message_id: d['message_id'].slice(1) },
    { ...d, source_origin: 'alpha.vaultmesh.local/' },
    { ...d, source_origin: 'Alpha/dao:x' },
    { ...d, index: -1 },
    { ...d, index: 1.5 },
    { ...d, leaf_hash: 'A'.repeat(44) },
    { ...d, leaf_hash: d['leaf_hash'].slice(0, 42) + 'B=' },
    { ...d, seq: 0 },
    { ...d, target: { node: 'beta' } },
    { ...d, action: 'answer' },
    { ...d, accepted_at: '2025-03-01' },
    { ...d, record_index: -1 },
    { ...d, record_index: 1.5 },
    { ...d, record_index: '3' },
    { ...d, record_index: null },
    { ...d, record_index: 2 ** 53 },
  ];
  for (const bad of cases) {
    assert.equal(validateDelivery(bad), false, `schema accepted ${JSON.stringify(bad)?.slice(0, 200)}`);
    assert.throws(
      () => parseMessageDelivery(bad),
      (e: unknown) => e instanceof RemembrancerError && e.code === 'MESSAGE_DELIVERY_MALFORMED',
      `core accepted ${JSON.stringify(bad)?.slice(0, 200)}`,
    );
  }
  // record_index is optional, and any log index when present.
  for (const good of [
    { ...d, record_index: 0 },
    { ...d, record_index: Number.MAX_SAFE_INTEGER },
  ]) {
    assert.ok(validateDelivery(good), JSON.stringify(validateDelivery.errors));
    assert.deepEqual(parseMessageDelivery(good), good);
  }
  const feb30 = { ...d, accepted_at: '2025-02-30T00:00:00Z' };
  assert.ok(validateDelivery(feb30));
  assert.ok(!accepts(parseMessageDelivery, feb30));
});

test('schema patterns are the ones core checks', () => {
  const same = (schemaPattern: string, re: RegExp) => assert.equal(schemaPattern, re.source.replace(/\\\//g, '/'));
  const defs = messageSchema['$defs'];
  same(defs.endpoint.properties.node.pattern, NODE_NAME_PATTERN);
  same(defs.endpoint.properties.namespace.pattern, NAMESPACE_ID_PATTERN);
  same(defs.timestamp.pattern, UTC_TIMESTAMP_PATTERN);
  same(messageSchema['properties'].payload.properties.operation.pattern, MESSAGE_OPERATION_PATTERN);
  same(messageSchema['properties'].in_reply_to.pattern, DIGEST_PATTERN);
  assert.equal(messageSchema['properties'].payload.properties.proof.maxLength, MAX_MESSAGE_PROOF_LENGTH);
  assert.deepEqual(messageSchema['properties'].action.enum, [...MESSAGE_ACTIONS]);
  const props = deliverySchema['properties'];
  same(props.message_id.pattern, DIGEST_PATTERN);
  same(props.source_origin.pattern, ORIGIN_PATTERN);
  same(props.accepted_at.pattern, UTC_TIMESTAMP_PATTERN);
  assert.deepEqual(props.target, { ...defs.endpoint, description: props.target.description });
  assert.deepEqual(props.action.enum, [...MESSAGE_ACTIONS]);
  // The hash form of every other document.
  assert.equal(props.leaf_hash.pattern, load('federation.receipt@1.0.0.json')['$defs'].hash.pattern);
});

/** What parseMessage checks beyond the schema, for a document the schema accepts. */
function messageBeyondSchema(m: Json): boolean {
  if (!isUtcTimestamp(m['sent_at']) || !isUtcTimestamp(m['expires_at'])) return false;
  if (compareUtcTimestamps(m['expires_at'], m['sent_at']) <= 0) return false;
  try {
    // The entry bounds of every log (size, and depth: parameters two levels down).
    entryLeafData(messageEntry(m as never));
    return true;
  } catch {
    return false;
  }
}

const interesting = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    '',
    'invoke',
    'query',
    'notify',
    'record',
    'Record',
    'dao:vaultmesh',
    'alpha.vaultmesh.local',
    'alpha.vaultmesh.local/dao:vaultmesh',
    'c2sp.org/tlog-proof@v1\n',
    'c2sp.org/tlog-proof@v1',
    '2025-02-29T00:00:00Z',
    '2024-02-29T00:00:00Z',
    '2025-03-01T12:00:00Z',
    '2025-03-01T11:59:59.999Z',
    '2099-01-01T00:00:00.5Z',
    'a'.repeat(64),
    'A'.repeat(43) + '=',
    0,
    1,
    -1,
    2 ** 53,
    0.5,
    null,
    true,
    [],
    {},
  ),
);

test('parseMessage accepts exactly what the schema accepts, plus its documented checks (fast-check)', () => {
  const docs = realMessages();
  fc.assert(
    fc.property(
      fc.constantFrom(...docs),
      fc.array(fc.nat(), { maxLength: 4 }),
      interesting,
      fc.boolean(),
      (doc, path, value, add) => {
        const m = mutate(doc, path, value, add);
        const schemaSays = validateMessage(m);
        assert.equal(
          accepts(parseMessage, m),
          schemaSays && messageBeyondSchema(m as Json),
          `${JSON.stringify(m).slice(0, 400)} ${JSON.stringify(validateMessage.errors)}`,
        );
      },
    ),
    { numRuns: 2000, seed: SEED },
  );
});

test('parseMessageDelivery accepts exactly what the schema accepts, plus real calendar days (fast-check)', () => {
  const docs = realDeliveries();
  fc.assert(
    fc.property(
      fc.constantFrom(...docs),
      fc.array(fc.nat(), { maxLength: 3 }),
      interesting,
      fc.boolean(),
      (doc, path, value, add) => {
        const d = mutate(doc, path, value, add) as Json;
        const expected = validateDelivery(d) && isUtcTimestamp(d['accepted_at']);
        assert.equal(accepts(parseMessageDelivery, d), expected, JSON.stringify(d).slice(0, 300));
      },
    ),
    { numRuns: 2000, seed: SEED },
  );
});
