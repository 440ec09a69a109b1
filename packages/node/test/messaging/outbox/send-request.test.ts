import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MESSAGE_ACTIONS,
  RemembrancerError,
  messageEntryBytes,
  parseMessage,
  type MessageEndpoint,
} from '@vaultmesh/core';
import { draftMessage, numbered } from '../../../src/messaging/outbox/send-request.js';

const SOURCE: MessageEndpoint = { node: 'alpha.vaultmesh.test', namespace: 'dao:a' };
const SENT_MS = Date.parse('2026-03-01T00:00:00Z');

/** Drafts, or returns the refusal's code (anything else thrown fails the property). */
function attempt(request: unknown, pointer = ''): { ok: true } | { ok: false; code: string; pointer?: string } {
  try {
    const draft = draftMessage(request, { source: SOURCE, sentAtMs: SENT_MS, pointer });
    // What a draft promises: a message every receiver parses, from this source, now, that stays
    // within the limits once numbered.
    assert.deepEqual(draft.source, SOURCE);
    assert.equal(draft.sent_at, '2026-03-01T00:00:00.000Z');
    assert.deepEqual(parseMessage(draft), draft);
    assert.ok(messageEntryBytes(numbered(draft, 1)).length <= messageEntryBytes(draft).length);
    assert.notDeepEqual(draft.target, SOURCE);
    return { ok: true };
  } catch (e) {
    if (!(e instanceof RemembrancerError)) throw e;
    return { ok: false, code: e.code, ...(e.pointer === undefined ? {} : { pointer: e.pointer }) };
  }
}

const endpoint = fc.oneof(
  fc.record({
    node: fc.constantFrom('alpha.vaultmesh.test', 'beta.vaultmesh.test', 'x', 'Bad Name'),
    namespace: fc.constantFrom('dao:a', 'dao:b', 'fin:clearing', 'nope'),
  }),
  fc.jsonValue(),
);
const timestamp = fc.oneof(
  fc.constantFrom(
    '2026-03-01T00:00:00Z',
    '2026-03-01T00:00:00.000000001Z',
    '2026-03-02T12:00:00Z',
    '2026-05-01T00:00:00Z',
  ),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.jsonValue(),
);
const payload = fc.oneof(
  fc.record(
    {
      operation: fc.oneof(fc.constantFrom('record', 'audit.read', 'Bad op'), fc.jsonValue()),
      parameters: fc.oneof(fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 4 }), fc.jsonValue()),
      proof: fc.string(),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue(),
);
/** Requests near the valid ones, so every check is reached, besides anything JSON at all. */
const sendRequest = fc.oneof(
  fc.record(
    {
      target: endpoint,
      action: fc.oneof(fc.constantFrom(...MESSAGE_ACTIONS), fc.jsonValue()),
      payload,
      expires_at: timestamp,
      in_reply_to: fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), fc.jsonValue()),
      seq: fc.jsonValue(),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue(),
);

test('a send request is drafted, or refused with MESSAGE_MALFORMED and only that, pointing inside the request', () => {
  fc.assert(
    fc.property(sendRequest, fc.constantFrom('', '/messages/3'), (request, pointer) => {
      const r = attempt(request, pointer);
      if (!r.ok) {
        assert.equal(r.code, 'MESSAGE_MALFORMED');
        assert.ok(r.pointer !== undefined && r.pointer.startsWith(pointer), `pointer ${String(r.pointer)}`);
      }
    }),
    { numRuns: 2000 },
  );
});

test('a valid request is drafted with the default expiry, a day after sent_at', () => {
  const draft = draftMessage(
    {
      target: { node: 'beta.vaultmesh.test', namespace: 'dao:b' },
      action: 'query',
      payload: { operation: 'audit.read', parameters: { from: 1 } },
      in_reply_to: 'a'.repeat(64),
    },
    { source: SOURCE, sentAtMs: SENT_MS },
  );
  assert.equal(draft.expires_at, '2026-03-02T00:00:00.000Z');
  assert.equal(draft.in_reply_to, 'a'.repeat(64));
  assert.equal(draft.seq, Number.MAX_SAFE_INTEGER, 'numbered by the append queue');
});
