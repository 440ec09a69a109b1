import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { isRemembrancerError, messageId, parseMessage, utf8Decode, type NamespaceMessage } from '@vaultmesh/core';
import { FederationRegistry } from '../../../src/federation/federation-registry.js';
import { SqliteFederationStorage } from '../../../src/federation/sqlite-federation-storage.js';
import { tokenSha256 } from '../../../src/namespaces/writer-authorization.js';
import { genesisOf, makePeer } from '../../federation/federation-fixture.js';
import { NODE, createNamespace, openOutboxNode, sendRequest, tempNodes, type OutboxNode } from './outbox-fixture.js';

const A = 'dao:a';
const B = `${NODE}/dao:b`;
const C = `${NODE}/dao:c`;
const REMOTE = 'beta.vaultmesh.test';

async function messageAt(node: OutboxNode, ns: string, index: number): Promise<NamespaceMessage> {
  return parseMessage(JSON.parse(utf8Decode((await node.engine.getEntry(ns, index))!)));
}

async function refusedWith(p: Promise<unknown>, code: string, pointer?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isRemembrancerError(e), String(e));
    assert.equal(e.code, code, e.message);
    if (pointer !== undefined) assert.equal(e.pointer, pointer, e.message);
    return true;
  });
}

describe('sending appends messages to the source log, numbered per stream', () => {
  const nodes = tempNodes();
  let node: OutboxNode;
  let fedStore: SqliteFederationStorage;

  before(async () => {
    const dir = nodes.make();
    fedStore = SqliteFederationStorage.open(join(dir, 'federation.sqlite'));
    const registry = await FederationRegistry.open(fedStore);
    await registry.offer(genesisOf([makePeer(NODE), makePeer(REMOTE)]));
    node = await openOutboxNode(dir, { outbox: { registry } });
    for (const ns of [A, 'dao:b', 'dao:c']) await createNamespace(node, ns);
    await createNamespace(node, 'dao:strict', { schema_policy: { allow: ['settlement@1.0.0'] } });
    await createNamespace(node, 'dao:quota', { limits: { quota_entries: 3 } });
    await createNamespace(node, 'dao:rate', { limits: { rate_per_second: 1, burst: 2 } });
  });
  after(async () => {
    await node.close();
    await fedStore.close();
    nodes.cleanup();
  });

  test('seq 1, 2, 3 in each stream, streams independent; each message is the entry at its index', async () => {
    const ab = [];
    for (let i = 0; i < 3; i++) ab.push(...(await node.outbox.send(A, [sendRequest(B)])));
    const [ac] = await node.outbox.send(A, [sendRequest(C)]);
    const [ar] = await node.outbox.send(A, [sendRequest(`${REMOTE}/dao:b`)]);
    const [bc] = await node.outbox.send('dao:b', [sendRequest(C)]);
    assert.deepEqual(
      ab.map((s) => s.seq),
      [1, 2, 3],
    );
    assert.equal(ac!.seq, 1);
    assert.equal(ar!.seq, 1, 'the same namespace on another node is another stream');
    assert.equal(bc!.seq, 1);
    for (const s of [...ab, ac!, ar!]) {
      assert.equal(s.state, 'queued');
      const m = await messageAt(node, A, s.index);
      assert.equal(messageId(m), s.id);
      assert.equal(m.seq, s.seq);
      assert.deepEqual(m.source, { node: NODE, namespace: A });
      assert.equal(m.sent_at, '2026-03-01T00:00:00.000Z');
      assert.equal(m.expires_at, '2026-03-02T00:00:00.000Z', 'a day by default');
      assert.equal(m.payload.proof, undefined, 'the entry holds no proof');
    }
    assert.deepEqual(
      ab.map((s) => s.index),
      [...ab.map((s) => s.index)].sort((x, y) => x - y),
    );
  });

  test('a batch is numbered in request order and appended together', async () => {
    const sent = await node.outbox.send('dao:c', [
      sendRequest(B),
      sendRequest(`${NODE}/dao:a`),
      sendRequest(B, { action: 'query', expires_at: '2026-03-01T01:00:00Z' }),
    ]);
    assert.deepEqual(
      sent.map((s) => s.seq),
      [1, 1, 2],
    );
    assert.deepEqual(
      sent.map((s) => s.index),
      [sent[0]!.index, sent[0]!.index + 1, sent[0]!.index + 2],
    );
    assert.equal((await messageAt(node, 'dao:c', sent[2]!.index)).expires_at, '2026-03-01T01:00:00Z');
  });

  test('a batch with one bad message appends none and uses no seq', async () => {
    await createNamespace(node, 'dao:batch');
    const size = node.engine.sequencedSize('dao:batch');
    await refusedWith(
      node.outbox.send('dao:batch', [sendRequest(B), sendRequest(B, { action: 'shout' })]),
      'MESSAGE_MALFORMED',
      '/messages/1/action',
    );
    assert.equal(node.engine.sequencedSize('dao:batch'), size);
    const [first] = await node.outbox.send('dao:batch', [sendRequest(B)]);
    assert.equal(first!.seq, 1);
  });

  test('bad requests are refused with stable codes and pointers; nothing is appended', async () => {
    const size = node.engine.sequencedSize(A);
    const cases: Array<[unknown, string, string | undefined]> = [
      [[], 'MESSAGE_MALFORMED', '/messages'],
      ['text', 'MESSAGE_MALFORMED', ''],
      [{ ...sendRequest(B), seq: 7 }, 'MESSAGE_MALFORMED', '/seq'],
      [{ ...sendRequest(B), source: { node: NODE, namespace: 'dao:b' } }, 'MESSAGE_MALFORMED', '/source'],
      [
        sendRequest(B, { payload: { operation: 'record', parameters: {}, proof: 'x' } }),
        'MESSAGE_MALFORMED',
        '/payload/proof',
      ],
      [
        sendRequest(B, { payload: { operation: 'Record!', parameters: {} } }),
        'MESSAGE_MALFORMED',
        '/payload/operation',
      ],
      [
        sendRequest(B, { payload: { operation: 'record', parameters: [] } }),
        'MESSAGE_MALFORMED',
        '/payload/parameters',
      ],
      [sendRequest(B, { payload: { operation: 'record' } }), 'MESSAGE_MALFORMED', '/payload/parameters'],
      [
        sendRequest(B, { payload: { operation: 'record', parameters: { big: 'x'.repeat(70_000) } } }),
        'MESSAGE_MALFORMED',
        '/payload/parameters',
      ],
      [sendRequest(`${NODE}/${A}`), 'MESSAGE_MALFORMED', '/target'],
      [sendRequest(`${NODE}/Not-An-Id`), 'MESSAGE_MALFORMED', '/target/namespace'],
      [sendRequest(B, { expires_at: '2026-03-01T00:00:00Z' }), 'MESSAGE_MALFORMED', '/expires_at'],
      [sendRequest(B, { expires_at: '2026-02-28T00:00:00Z' }), 'MESSAGE_MALFORMED', '/expires_at'],
      [sendRequest(B, { expires_at: '2026-04-01T00:00:00Z' }), 'MESSAGE_MALFORMED', '/expires_at'],
      [sendRequest(B, { expires_at: '2026-02-30T00:00:00Z' }), 'MESSAGE_MALFORMED', '/expires_at'],
      [sendRequest(B, { in_reply_to: 'ab' }), 'MESSAGE_MALFORMED', '/in_reply_to'],
      [sendRequest('nowhere.vaultmesh.test/dao:b'), 'NOT_FOUND', '/target/node'],
    ];
    for (const [request, code, pointer] of cases) {
      const requests = Array.isArray(request) ? request : [request];
      await refusedWith(node.outbox.send(A, requests), code, pointer);
    }
    await refusedWith(node.outbox.send('dao:none', [sendRequest(B)]), 'NAMESPACE_NOT_FOUND');
    await refusedWith(node.outbox.send('sys:governance', [sendRequest(B)]), 'FORBIDDEN');
    await refusedWith(
      node.outbox.send(
        A,
        Array.from({ length: 1001 }, () => sendRequest(B)),
      ),
      'PAYLOAD_TOO_LARGE',
    );
    assert.equal(node.engine.sequencedSize(A), size);
  });

  test('the size limit, quota and rate apply to message entries; the schema policy does not', async () => {
    const [strict] = await node.outbox.send('dao:strict', [sendRequest(B)]);
    assert.equal(strict!.seq, 1, 'a namespace that takes only its schemas still sends');

    await node.outbox.send('dao:quota', [sendRequest(B), sendRequest(B)]);
    await refusedWith(node.outbox.send('dao:quota', [sendRequest(B), sendRequest(B)]), 'QUOTA_EXCEEDED');
    const [third] = await node.outbox.send('dao:quota', [sendRequest(B)]);
    assert.equal(third!.seq, 3, 'the refused request used no seq');

    await node.outbox.send('dao:rate', [sendRequest(B), sendRequest(B)]);
    await refusedWith(node.outbox.send('dao:rate', [sendRequest(B)]), 'RATE_LIMITED');
  });

  test('concurrent sends are appended together and never leave a gap', async () => {
    await createNamespace(node, 'dao:busy');
    const append = node.engine.append.bind(node.engine);
    let calls = 0;
    node.engine.append = (ns, entries) => {
      if (ns === 'dao:busy') calls++;
      return append(ns, entries);
    };
    try {
      const requests = Array.from({ length: 400 }, (_, i) =>
        i % 50 === 7
          ? [sendRequest(B, { action: 'bad' })]
          : i % 3 === 0
            ? [sendRequest(C), sendRequest(B)]
            : [sendRequest(i % 2 === 0 ? B : C)],
      );
      const settled = await Promise.allSettled(requests.map((r) => node.outbox.send('dao:busy', r)));
      const sent = settled.flatMap((s) => (s.status === 'fulfilled' ? s.value : []));
      assert.equal(settled.filter((s) => s.status === 'rejected').length, 8);
      assert.ok(calls < requests.length / 4, `${calls} appends for ${requests.length} sends`);
      for (const target of [B, C]) {
        const withMessages = await Promise.all(
          sent.map(async (s) => ({ s, m: await messageAt(node, 'dao:busy', s.index) })),
        );
        const stream = withMessages
          .filter(({ m }) => `${m.target.node}/${m.target.namespace}` === target)
          .sort((x, y) => x.s.index - y.s.index);
        assert.deepEqual(
          stream.map(({ s }) => s.seq),
          stream.map((_, i) => i + 1),
          `stream to ${target}: seqs 1..n in log order`,
        );
      }
      assert.equal(node.engine.sequencedSize('dao:busy'), sent.length, 'the refused sends appended nothing');
    } finally {
      node.engine.append = append;
    }
  });

  test('a writer-token namespace sends as any other (the route checks the token)', async () => {
    await createNamespace(node, 'dao:tokened', {
      writers: [{ id: 'bot', token_sha256: tokenSha256('bot-token-abcdefghijklmnop'), scopes: ['write'] }],
    });
    const [s] = await node.outbox.send('dao:tokened', [sendRequest(B)]);
    assert.equal(s!.seq, 1);
  });
});

describe('a failed append assigns nothing', () => {
  const nodes = tempNodes();
  let node: OutboxNode;
  before(async () => {
    node = await openOutboxNode(nodes.make(), { engine: { batchMaxEntries: 4, queueMaxEntries: 4 } });
    await createNamespace(node, A);
  });
  after(async () => {
    await node.close();
    nodes.cleanup();
  });

  test('QUEUE_FULL gives the seqs back; the next send goes on from where the stream was', async () => {
    await node.outbox.send(A, [sendRequest(B)]);
    const size = node.engine.sequencedSize(A);
    await refusedWith(
      node.outbox.send(
        A,
        Array.from({ length: 6 }, () => sendRequest(B)),
      ),
      'QUEUE_FULL',
    );
    assert.equal(node.engine.sequencedSize(A), size);
    const sent = await node.outbox.send(A, [sendRequest(B), sendRequest(C)]);
    assert.deepEqual(
      sent.map((s) => s.seq),
      [2, 1],
    );
  });
});
