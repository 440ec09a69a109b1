import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_ENTRY_BYTES,
  MAX_MESSAGE_PARAMETERS_DEPTH,
  MAX_MESSAGE_PROOF_LENGTH,
  MESSAGE_FORMAT,
  RemembrancerError,
  buildMessage,
  canonicalize,
  crypto,
  entryLeafData,
  messageEntry,
  messageEntryBytes,
  messageId,
  parseMessage,
  toHex,
  utf8Decode,
  withProof,
  type NamespaceMessage,
} from '../../src/index.js';
import { json, messageInput, sourceLog, source, target } from './fixtures.js';

const message = buildMessage(messageInput());
const doc = json(message) as unknown as Record<string, unknown>;
const { proofText } = sourceLog();

/** Asserts MESSAGE_MALFORMED naming `pointer`. */
function refusedAt(value: unknown, pointer: string, why?: RegExp): void {
  assert.throws(
    () => parseMessage(value),
    (e: unknown) => {
      assert.ok(e instanceof RemembrancerError, String(e));
      assert.equal(e.code, 'MESSAGE_MALFORMED', e.message);
      assert.equal(e.pointer, pointer, e.message);
      if (why) assert.match(e.message, why);
      return true;
    },
  );
}

/** `parameters` nested `depth` levels (itself counted): {"a":{"a":…{}}}. */
function nested(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  for (let i = 1; i < depth; i++) v = { a: v };
  return v;
}

test('buildMessage fills the format, spells Dates as RFC 3339 UTC, and parses back to itself', () => {
  assert.deepEqual(message, {
    format: MESSAGE_FORMAT,
    source,
    target,
    action: 'invoke',
    payload: { operation: 'record', parameters: messageInput().parameters },
    seq: 3,
    sent_at: '2025-03-01T12:00:00.000Z',
    expires_at: '2025-03-01T13:00:00Z',
  });
  assert.deepEqual(parseMessage(json(message)), message);
  const answer = buildMessage(messageInput({ action: 'notify', inReplyTo: messageId(message) }));
  assert.equal(answer.in_reply_to, messageId(message));
  assert.deepEqual(parseMessage(json(answer)), answer);
});

test('the entry is the JCS of the message without payload.proof, and the id its SHA-256', () => {
  const travelling = withProof(message, proofText);
  assert.equal(travelling.payload.proof, proofText);
  assert.equal(message.payload.proof, undefined, 'withProof copies');
  for (const m of [message, travelling]) {
    const bytes = messageEntryBytes(m);
    assert.equal(utf8Decode(bytes), canonicalize(json(message)));
    assert.deepEqual(bytes, entryLeafData(message), 'what a log appending the message object stores');
    assert.equal(messageId(m), toHex(crypto.sha256(bytes)));
    assert.match(messageId(m), /^[0-9a-f]{64}$/);
  }
  assert.ok(!('proof' in (messageEntry(travelling)['payload'] as object)));
  // Members beyond the format (a cast, a later version) never change the bytes or the id.
  const extended = { ...message, hops: 3, payload: { ...message.payload, trace: 'x' } } as unknown as NamespaceMessage;
  assert.equal(messageId(extended), messageId(message));
  // And each member is part of it.
  assert.notEqual(messageId(buildMessage(messageInput({ seq: 4 }))), messageId(message));
  assert.notEqual(messageId({ ...message, in_reply_to: 'ab'.repeat(32) }), messageId(message));
});

test('withProof replaces a proof, and checks only the form of the text', () => {
  const again = withProof(withProof(message, 'c2sp.org/tlog-proof@v1\nwhatever'), proofText);
  assert.equal(again.payload.proof, proofText);
  assert.throws(() => withProof(message, 'index 6\n'), { code: 'MESSAGE_MALFORMED', pointer: '/payload/proof' });
});

test('parseMessage refuses each malformed member, naming it by JSON pointer', () => {
  const payload = doc['payload'] as Record<string, unknown>;
  const cases: Array<[unknown, string, RegExp?]> = [
    [null, '', /must be a JSON object/],
    [[doc], ''],
    [{ ...doc, hops: 1 }, '/hops', /unknown member/],
    [{ ...doc, format: 'namespace.message@1.0.1' }, '/format'],
    [{ ...doc, source: undefined }, '/source'],
    [{ ...doc, source: { node: 'Alpha', namespace: 'dao:sender' } }, '/source/node'],
    [{ ...doc, source: { node: 'alpha', namespace: 'sender' } }, '/source/namespace'],
    [{ ...doc, target: { node: 'beta' } }, '/target/namespace', /is missing/],
    [{ ...doc, target: { node: 'beta', namespace: 'a:b', port: 1 } }, '/target/port'],
    [{ ...doc, action: 'call' }, '/action', /"invoke", "query", "notify"/],
    [{ ...doc, payload: [] }, '/payload'],
    [{ ...doc, payload: { parameters: {} } }, '/payload/operation', /is missing/],
    [{ ...doc, payload: { ...payload, operation: 'Record' } }, '/payload/operation'],
    [{ ...doc, payload: { ...payload, operation: 'a'.repeat(65) } }, '/payload/operation'],
    [{ ...doc, payload: { ...payload, operation: 'a/b' } }, '/payload/operation'],
    [{ ...doc, payload: { ...payload, parameters: [1] } }, '/payload/parameters'],
    [{ ...doc, payload: { ...payload, parameters: null } }, '/payload/parameters'],
    [{ ...doc, payload: { operation: 'record' } }, '/payload/parameters', /is missing/],
    [{ ...doc, payload: { ...payload, extra: 1 } }, '/payload/extra'],
    [{ ...doc, payload: { ...payload, proof: 42 } }, '/payload/proof'],
    [{ ...doc, payload: { ...payload, proof: '' } }, '/payload/proof'],
    [{ ...doc, payload: { ...payload, proof: 'c2sp.org/tlog-proof@v2\n' } }, '/payload/proof'],
    [
      { ...doc, payload: { ...payload, proof: 'c2sp.org/tlog-proof@v1\n' + 'x'.repeat(MAX_MESSAGE_PROOF_LENGTH) } },
      '/payload/proof',
    ],
    [{ ...doc, seq: 0 }, '/seq'],
    [{ ...doc, seq: 1.5 }, '/seq'],
    [{ ...doc, seq: '3' }, '/seq'],
    [{ ...doc, seq: 2 ** 53 }, '/seq'],
    [{ ...doc, sent_at: '2025-03-01 12:00:00Z' }, '/sent_at'],
    [{ ...doc, sent_at: '2025-02-29T12:00:00Z' }, '/sent_at'],
    [{ ...doc, expires_at: '2025-03-01T12:00:00+01:00' }, '/expires_at'],
    [{ ...doc, expires_at: doc['sent_at'] }, '/expires_at', /after sent_at/],
    [{ ...doc, expires_at: '2025-03-01T11:59:59.999999999Z' }, '/expires_at', /after sent_at/],
    [{ ...doc, in_reply_to: 'AB'.repeat(32) }, '/in_reply_to'],
    [{ ...doc, in_reply_to: null }, '/in_reply_to'],
  ];
  for (const [value, pointer, why] of cases) refusedAt(value, pointer, why);
});

test('parameters: any JSON object, nested at most 62 levels, in an entry of at most 65,535 bytes', () => {
  const payload = doc['payload'] as Record<string, unknown>;
  const withParameters = (parameters: unknown) => ({ ...doc, payload: { ...payload, parameters } });
  assert.equal(MAX_MESSAGE_PARAMETERS_DEPTH, 62);
  parseMessage(withParameters(nested(MAX_MESSAGE_PARAMETERS_DEPTH)));
  refusedAt(withParameters(nested(MAX_MESSAGE_PARAMETERS_DEPTH + 1)), '/payload/parameters', /nested at most 62/);
  // Fill the entry up to the byte.
  const base = messageEntryBytes(parseMessage(withParameters({ pad: '' }))).length;
  const full = withParameters({ pad: 'x'.repeat(MAX_ENTRY_BYTES - base) });
  assert.equal(messageEntryBytes(parseMessage(full)).length, MAX_ENTRY_BYTES);
  refusedAt(withParameters({ pad: 'x'.repeat(MAX_ENTRY_BYTES - base + 1) }), '/payload/parameters', /65535 bytes/);
  // Values JSON cannot hold, which a caller (not a parser) could pass.
  for (const bad of [{ a: undefined }, { a: Number.NaN }, { a: 1n }, { a: new Date(0) }, { ['\ud800']: 1 }]) {
    refusedAt(withParameters(bad), '/payload/parameters', /cannot canonicalize/);
  }
});

test('buildMessage checks what it builds, with the pointer of the document member', () => {
  assert.throws(() => buildMessage(messageInput({ seq: 0 })), { code: 'MESSAGE_MALFORMED', pointer: '/seq' });
  assert.throws(() => buildMessage(messageInput({ sentAt: new Date(Number.NaN) })), {
    code: 'MESSAGE_MALFORMED',
    pointer: '/sent_at',
  });
  // Years beyond 9999 are not in the documents' timestamp form.
  assert.throws(() => buildMessage(messageInput({ expiresAt: new Date(Date.UTC(10000, 0, 1)) })), {
    code: 'MESSAGE_MALFORMED',
    pointer: '/expires_at',
  });
  assert.throws(() => buildMessage(messageInput({ operation: 'Run Job' })), {
    code: 'MESSAGE_MALFORMED',
    pointer: '/payload/operation',
  });
  assert.throws(() => buildMessage(messageInput({ inReplyTo: 'nope' })), {
    code: 'MESSAGE_MALFORMED',
    pointer: '/in_reply_to',
  });
});
