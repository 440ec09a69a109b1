import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NAMESPACE_ID_PATTERN, NODE_NAME_PATTERN } from '@vaultmesh/core';
import type { MessageStatusView } from '@vaultmesh/node';
import { UsageError } from '../../src/output.js';
import {
  durationMs,
  formatMessageRef,
  messageExpiry,
  messageParameters,
  messageRef,
  messageTarget,
} from '../../src/commands/message-options.js';
import { hasReached, sendRequestFrom, waitFailure } from '../../src/commands/message-send.js';
import { inboxQuery } from '../../src/commands/message-inbox.js';
import { inboxItem, inboxItemFromText, inboxLine } from '../../src/commands/message-inbox-item.js';
import { describeStatus } from '../../src/commands/message-status.js';
import { deliveredMessage } from './message-fixture.js';

const usage = (e: unknown) => e instanceof UsageError;
const ID = 'ab'.repeat(32);
const send = {
  from: 'dao:src',
  to: 'alpha.vaultmesh.local/dao:dst',
  action: 'notify',
  operation: 'ping',
};
const NOW = Date.UTC(2030, 0, 1);

describe('message send: flags become the request body', () => {
  test('the minimal request: target, action, operation, {} parameters; the node picks expiry', () => {
    assert.deepEqual(sendRequestFrom(send, undefined, NOW), {
      namespace: 'dao:src',
      request: {
        target: { node: 'alpha.vaultmesh.local', namespace: 'dao:dst' },
        action: 'notify',
        payload: { operation: 'ping', parameters: {} },
      },
    });
  });

  test('parameters, expiry and in_reply_to when given', () => {
    const { request } = sendRequestFrom(
      { ...send, action: 'invoke', operation: 'record', params: 'p.json', expiresIn: '15m', inReplyTo: ID },
      '{"memo": "hi", "n": [1, 2]}',
      NOW,
    );
    assert.deepEqual(request.payload, { operation: 'record', parameters: { memo: 'hi', n: [1, 2] } });
    assert.equal(request.expires_at, '2030-01-01T00:15:00.000Z');
    assert.equal(request.in_reply_to, ID);
    assert.equal(
      sendRequestFrom({ ...send, expiresAt: '2031-02-03T04:05:06Z' }, undefined, NOW).request.expires_at,
      '2031-02-03T04:05:06Z',
    );
  });

  test('every malformed flag is a usage error naming it', () => {
    const bad: [Partial<typeof send> & Record<string, string>, RegExp][] = [
      [{ from: 'nope' }, /--from/],
      [{ to: 'dao:dst' }, /--to/],
      [{ to: 'Alpha/dao:dst' }, /--to/],
      [{ to: 'alpha/dao:dst/x' }, /--to/],
      [{ to: '/dao:dst' }, /--to/],
      [{ action: 'shout' }, /--action/],
      [{ operation: 'Record' }, /--operation/],
      [{ inReplyTo: 'abc' }, /--in-reply-to/],
      [{ expiresIn: '10' }, /--expires-in/],
      [{ expiresIn: '0s' }, /--expires-in/],
      [{ expiresAt: '2030-01-01 00:00:00' }, /--expires-at/],
      [{ expiresAt: '2030-02-30T00:00:00Z' }, /--expires-at/],
      [{ expiresIn: '1m', expiresAt: '2030-01-01T00:00:00Z' }, /not both/],
    ];
    for (const [flags, message] of bad) {
      assert.throws(
        () => sendRequestFrom({ ...send, ...flags }, undefined, NOW),
        (e: unknown) => {
          assert.ok(usage(e), JSON.stringify(flags));
          assert.match((e as Error).message, message);
          return true;
        },
      );
    }
  });

  test('--params must hold a JSON object (strict JSON: no duplicate keys)', () => {
    for (const text of ['[]', '1', 'null', '{"a":1,"a":2}', '{', '']) {
      assert.throws(() => messageParameters(text, 'p.json'), usage, text);
    }
    assert.deepEqual(messageParameters('{"a":{"b":[]}}', '-'), { a: { b: [] } });
  });

  test('--to accepts exactly NODE/NS for every valid node name and namespace id', () => {
    const node = fc.stringMatching(NODE_NAME_PATTERN).filter((s) => s.length < 60);
    const ns = fc.stringMatching(NAMESPACE_ID_PATTERN);
    fc.assert(fc.property(node, ns, (n, s) => assert.deepEqual(messageTarget(`${n}/${s}`), { node: n, namespace: s })));
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        try {
          const t = messageTarget(s);
          assert.equal(`${t.node}/${t.namespace}`, s);
          assert.ok(NODE_NAME_PATTERN.test(t.node) && NAMESPACE_ID_PATTERN.test(t.namespace));
        } catch (e) {
          assert.ok(usage(e));
        }
      }),
    );
  });

  test('durations: s, m, h, d; nothing else', () => {
    assert.equal(durationMs('--x', '90s'), 90_000);
    assert.equal(durationMs('--x', '2h'), 7_200_000);
    assert.equal(durationMs('--x', '7d'), 604_800_000);
    for (const v of ['', '1', '1w', '-1s', '1.5h', ' 1s', '01s']) assert.throws(() => durationMs('--x', v), usage, v);
    assert.throws(() => messageExpiry({ expiresIn: '999999999d' }, NOW), usage);
  });
});

describe('message send --wait: when the wait ends', () => {
  test('sealed is reached by sealed and delivered; delivered only by delivered', () => {
    assert.ok(hasReached('sealed', 'sealed') && hasReached('delivered', 'sealed'));
    assert.ok(!hasReached('queued', 'sealed') && !hasReached('refused', 'sealed'));
    assert.ok(hasReached('delivered', 'delivered') && !hasReached('sealed', 'delivered'));
  });

  test("a failed wait carries the target's code, MESSAGE_EXPIRED, or the last attempt's", () => {
    const view = deliveredMessage().view;
    const refused: MessageStatusView = {
      ...view,
      state: 'refused',
      error: { code: 'MESSAGE_WRONG_TARGET', message: 'for another namespace' },
    };
    assert.equal(waitFailure(refused, 'delivered', false).code, 'MESSAGE_WRONG_TARGET');
    assert.equal(waitFailure({ ...view, state: 'expired' }, 'delivered', false).code, 'MESSAGE_EXPIRED');
    assert.equal(waitFailure({ ...view, state: 'queued' }, 'sealed', true).code, 'NOT_YET_SEALED');
    const retrying: MessageStatusView = {
      ...view,
      state: 'sealed',
      attempts: 3,
      error: { code: 'PEER_UNREACHABLE', message: 'connection refused' },
    };
    const e = waitFailure(retrying, 'delivered', true);
    assert.equal(e.code, 'PEER_UNREACHABLE');
    assert.match(e.message, /sealed after 3 attempt\(s\)/);
    assert.equal(waitFailure({ ...view, state: 'sealed' }, 'delivered', true).code, 'REQUEST_TIMEOUT');
  });
});

describe('message status: naming the message', () => {
  test('NS/ID as send prints it, or a bare ID with --ns', () => {
    const ref = { namespace: 'dao:src', id: ID };
    assert.deepEqual(messageRef(formatMessageRef(ref), undefined), ref);
    assert.deepEqual(messageRef(ID, 'dao:src'), ref);
    assert.deepEqual(messageRef(`dao:src/${ID}`, 'dao:src'), ref);
    for (const [arg, ns] of [
      [ID, undefined],
      [`dao:src/${ID}`, 'dao:other'],
      [`dao:src/${ID.slice(1)}`, undefined],
      [`nope/${ID}`, undefined],
      [ID.toUpperCase(), 'dao:src'],
    ] as const) {
      assert.throws(() => messageRef(arg, ns), usage, `${arg} ${ns}`);
    }
  });

  test('the human view names route, state, attempts, error and delivery', () => {
    const { view } = deliveredMessage();
    const text = describeStatus('dao:sender', { ...view, error: { code: 'PEER_TIMEOUT', message: 'slow' } });
    assert.match(text, new RegExp(`^message dao:sender/${view.id}`));
    assert.match(text, /alpha\.vaultmesh\.local\/dao:sender → beta\.vaultmesh\.local\/app:inbox/);
    assert.match(text, /state +delivered after 1 attempt/);
    assert.match(text, /error +PEER_TIMEOUT: slow/);
    assert.match(text, /delivery +entry 2 of app:inbox/);
  });
});

describe('message inbox: flags and items', () => {
  test('defaults, bounds, and --follow without page flags', () => {
    assert.deepEqual(inboxQuery('dao:dst', { after: '0', wait: '0' }), {
      namespace: 'dao:dst',
      after: 0,
      waitSeconds: 0,
      follow: false,
    });
    assert.deepEqual(inboxQuery('dao:dst', { after: '7', limit: '5', wait: '30' }), {
      namespace: 'dao:dst',
      after: 7,
      limit: 5,
      waitSeconds: 30,
      follow: false,
    });
    for (const [ns, opts] of [
      ['dao', { after: '0', wait: '0' }],
      ['dao:dst', { after: '-1', wait: '0' }],
      ['dao:dst', { after: '0', limit: '0', wait: '0' }],
      ['dao:dst', { after: '0', wait: '31' }],
      ['dao:dst', { after: '0', wait: '0', limit: '5', follow: true }],
      ['dao:dst', { after: '0', wait: '5', follow: true }],
    ] as const) {
      assert.throws(() => inboxQuery(ns, opts), usage, JSON.stringify(opts));
    }
  });

  test('an item is checked where the CLI relies on it, and printed on one line', () => {
    const d = deliveredMessage();
    const item = { cursor: 3, message_id: d.view.id, message: d.entry, delivery: d.view.delivery };
    assert.equal(inboxItemFromText(JSON.stringify(item)).cursor, 3);
    assert.equal(
      inboxLine(inboxItem(item)),
      `3  ${d.view.id}  from alpha.vaultmesh.local/dao:sender  invoke record  delivery entry 2`,
    );
    for (const bad of [
      null,
      [],
      { ...item, cursor: -1 },
      { ...item, cursor: '3' },
      { ...item, cursor: 1.5 },
      { ...item, message_id: 3 },
      { ...item, delivery: {} },
    ]) {
      assert.throws(
        () => inboxItem(bad),
        (e: unknown) => (e as { code?: string }).code === 'PEER_ANSWER_MALFORMED',
      );
    }
    assert.throws(
      () => inboxItemFromText('{"cursor": 1,'),
      (e: unknown) => (e as { code?: string }).code === 'PEER_ANSWER_MALFORMED',
    );
    // A message of the wrong form still prints: the line shows what is missing.
    assert.equal(inboxLine(inboxItem({ ...item, message: 'x' })), `3  ${d.view.id}  from ?  ? ?  delivery entry 2`);
  });
});
