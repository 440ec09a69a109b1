import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { buildMessage, canonicalBytes, messageEntryBytes } from '@vaultmesh/core';
import { OUTBOX_DB_FILE } from '../../../src/messaging/outbox/outbox-store.js';
import type { SentMessage } from '../../../src/messaging/messaging-wire.js';
import { NODE, createNamespace, openOutboxNode, sendRequest, tempNodes, type OutboxNode } from './outbox-fixture.js';

const A = 'dao:a';
const B = `${NODE}/dao:b`;
const C = `${NODE}/dao:c`;

interface Warned {
  obj: object;
  msg: string;
}

function logger(into: Warned[]) {
  return {
    info: () => undefined,
    warn: (obj: object, msg: string) => into.push({ obj, msg }),
    error: (obj: object, msg: string) => into.push({ obj, msg }),
  };
}

/** Runs `fn` on the outbox database while no outbox has it open. */
function onOutboxDb(dir: string, fn: (db: Database.Database) => void): void {
  const db = new Database(join(dir, OUTBOX_DB_FILE));
  try {
    fn(db);
  } finally {
    db.close();
  }
}

async function rowsOf(node: OutboxNode, sent: readonly SentMessage[]) {
  const rows = [];
  for (const s of sent) {
    const row = await node.outbox.storage.row(s.id);
    assert.ok(row, `a row for message ${s.id}`);
    rows.push({ id: row.id, index: row.index, seq: row.seq, state: row.state });
  }
  return rows;
}

describe('the outbox is rebuilt from the source logs', () => {
  const nodes = tempNodes();
  let dir: string;
  let node: OutboxNode;
  let sent: SentMessage[] = [];

  before(async () => {
    dir = nodes.make();
    node = await openOutboxNode(dir);
    for (const ns of [A, 'dao:b', 'dao:c']) await createNamespace(node, ns);
    sent.push(...(await node.outbox.send(A, [sendRequest(B), sendRequest(C)])));
    // Ordinary entries between messages: the scan reads past them.
    await node.engine.append(A, [canonicalBytes({ memo: 'an ordinary entry' })]);
    sent.push(...(await node.outbox.send(A, [sendRequest(B)])));
    sent.push(...(await node.outbox.send(A, [sendRequest(B), sendRequest(C)])));
    await node.close();
  });
  after(() => nodes.cleanup());

  test('rows lost with the scan mark (a kill between an append and its rows) come back, and no seq is reused', async () => {
    const lost = sent.slice(2);
    onOutboxDb(dir, (db) => {
      db.prepare('DELETE FROM outbox_messages WHERE idx >= ?').run(lost[0]!.index);
      db.prepare('UPDATE outbox_scan SET next_index = ? WHERE namespace = ?').run(lost[0]!.index, A);
    });
    node = await openOutboxNode(dir);
    try {
      assert.deepEqual(
        await rowsOf(node, sent),
        sent.map((s) => ({ id: s.id, index: s.index, seq: s.seq, state: 'queued' })),
      );
      assert.equal(await node.outbox.storage.scanMark(A), node.engine.sequencedSize(A));
      const next = await node.outbox.send(A, [sendRequest(B), sendRequest(C)]);
      assert.deepEqual(
        next.map((s) => s.seq),
        [4, 3],
      );
      sent = [...sent, ...next];
    } finally {
      await node.close();
    }
  });

  test('a lost outbox file is rebuilt whole', async () => {
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, OUTBOX_DB_FILE + suffix), { force: true });
    node = await openOutboxNode(dir);
    try {
      assert.deepEqual(
        await rowsOf(node, sent),
        sent.map((s) => ({ id: s.id, index: s.index, seq: s.seq, state: 'queued' })),
      );
      const [next] = await node.outbox.send(A, [sendRequest(C)]);
      assert.equal(next!.seq, 4);
    } finally {
      await node.close();
    }
  });

  test('each pass scans what was appended since, ordinary entries included; a seq used twice in the log is not tracked twice', async () => {
    const warned: Warned[] = [];
    node = await openOutboxNode(dir, { outbox: { logger: logger(warned) } });
    try {
      await node.engine.append(A, [canonicalBytes({ memo: 'another ordinary entry' })]);
      // A message entry of this node not made by its outbox (written beneath it): stream a → c, seq 1 again.
      const forged = buildMessage({
        source: { node: NODE, namespace: A },
        target: { node: NODE, namespace: 'dao:c' },
        action: 'notify',
        operation: 'record',
        parameters: { forged: true },
        seq: 1,
        sentAt: '2026-03-01T00:00:00Z',
        expiresAt: '2026-03-02T00:00:00Z',
      });
      const [at] = await node.engine.append(A, [messageEntryBytes(forged)]);
      await node.outbox.deliverNow();
      assert.equal(await node.outbox.storage.scanMark(A), node.engine.sequencedSize(A));
      assert.ok(
        warned.some((w) => /reuses a seq/.test(w.msg) && (w.obj as { index: number }).index === at!.index),
        JSON.stringify(warned),
      );
      const [next] = await node.outbox.send(A, [sendRequest(C)]);
      assert.equal(next!.seq, 5, 'the stream goes on after the seqs it used');
    } finally {
      await node.close();
    }
  });
});
