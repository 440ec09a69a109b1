import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { withProof, type NamespaceMessage } from '@vaultmesh/core';
import type { InboxResult, InboxVia } from '../../../src/messaging/messaging-wire.js';
import { INBOX_DB_FILE } from '../../../src/messaging/inbox/inbox-store.js';
import { ALPHA, BETA, DELTA, GAMMA, SourceLog, TargetNode, tempRoot } from './inbox-fixture.js';
import { makePeer } from '../../federation/federation-fixture.js';

// Every refusal before a message enters its stream leaves no trace: not in the log, not in the
// inbox's store (its file's bytes are compared). Refusals of a proven message at its turn in its
// stream are recorded for good and the stream goes on past them.

const DST = 'app:dst';
const WITNESSED = 'app:witnessed';
const OPEN = 'app:open';
const dirs = tempRoot();
let node: TargetNode;
let src: SourceLog;
const PUBLIC: InboxVia = { kind: 'public' };

before(async () => {
  node = await TargetNode.open(dirs.make());
  await node.createNamespace(DST, {
    messaging: { accept_from: [`${BETA.id}/*`], actions: ['notify', 'invoke'], operations: ['ping', 'record'] },
  });
  await node.createNamespace(WITNESSED, { messaging: { accept_from: [`${BETA.id}/app:src`], min_witnesses: 2 } });
  await node.createNamespace('app:none', {});
  await node.createNamespace(OPEN, { messaging: { accept_from: ['*/*'] } });
  await node.openInbox();
  src = await SourceLog.open(BETA, 'app:src', dirs.make(), { node: ALPHA.id, namespace: DST });
});

after(async () => {
  await node.close();
  await src.close();
  dirs.cleanup();
});

/** What the logs and the inbox's store hold: every namespace's size and every row of every table of inbox.sqlite. */
function state(): string {
  const sizes = node.engine.listNamespaces().map((n) => `${n.id}:${node.engine.sequencedSize(n.id)}`);
  const db = new Database(join(node.dir, INBOX_DB_FILE), { readonly: true });
  try {
    const tables = db
      .prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`)
      .pluck()
      .all() as string[];
    const rows = Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT * FROM "${t}"`).all()]));
    return JSON.stringify({ sizes, rows });
  } finally {
    db.close();
  }
}

async function refusedWithoutTrace(
  message: unknown,
  code: string,
  namespace = DST,
  via = PUBLIC,
): Promise<InboxResult> {
  const before = state();
  const [r] = await node.inbox.receive(namespace, [message], via);
  assert.equal(r!.status, 'refused', JSON.stringify(r));
  assert.equal(r!.error!.code, code, JSON.stringify(r));
  assert.equal(state(), before, 'nothing changed in the logs or the store');
  return r!;
}

function tampered(m: NamespaceMessage, change: (m: NamespaceMessage) => NamespaceMessage): NamespaceMessage {
  return change(structuredClone(m));
}

describe('refused before the stream: nothing changes', () => {
  test('not a message at all', async () => {
    await refusedWithoutTrace({ hello: 'world' }, 'MESSAGE_MALFORMED');
    await refusedWithoutTrace('text', 'MESSAGE_MALFORMED');
  });

  test('no proof, or a proof that is not a tlog-proof', async () => {
    const [m] = await src.send([{ seq: 1 }]);
    const { payload, ...rest } = m!.message;
    await refusedWithoutTrace(
      { ...rest, payload: { operation: payload.operation, parameters: payload.parameters } },
      'MESSAGE_MALFORMED',
    );
    await refusedWithoutTrace(
      { ...m!.message, payload: { ...payload, proof: 'c2sp.org/tlog-proof@v1\nindex x\n' } },
      'TLOG_PROOF_MALFORMED',
    );
  });

  test('tampered parameters: the proof does not include this entry', async () => {
    const [m] = await src.send([{ seq: 1 }]);
    const forged = tampered(m!.message, (x) => ({ ...x, payload: { ...x.payload, parameters: { n: 999 } } }));
    await refusedWithoutTrace(forged, 'PROOF_MISMATCH');
  });

  test('a checkpoint not signed by the source log key (forged by another key)', async () => {
    const mallory = makePeer(BETA.id);
    const forger = await SourceLog.open(mallory, 'app:src', dirs.make(), { node: ALPHA.id, namespace: DST });
    try {
      const [m] = await forger.send([{ seq: 1 }]);
      await refusedWithoutTrace(m!.message, 'SIGNATURE_MISSING');
    } finally {
      await forger.close();
    }
  });

  test('a source node not in the registry has no log key', async () => {
    // The registry lists alpha, beta, gamma and delta; OPEN takes messages from anyone.
    const other = await SourceLog.open(makePeer('stranger.test'), 'app:src', dirs.make(), {
      node: ALPHA.id,
      namespace: OPEN,
    });
    try {
      const [m] = await other.send([{ seq: 1 }]);
      await refusedWithoutTrace(m!.message, 'ORIGIN_MISMATCH', OPEN);
    } finally {
      await other.close();
    }
  });

  test('a message for another namespace or another node', async () => {
    const [m] = await src.send([{ seq: 1, target: { node: ALPHA.id, namespace: 'app:other' } }]);
    await refusedWithoutTrace(m!.message, 'MESSAGE_WRONG_TARGET');
    const [n] = await src.send([{ seq: 1, target: { node: GAMMA.id, namespace: DST } }]);
    await refusedWithoutTrace(n!.message, 'MESSAGE_WRONG_TARGET');
  });

  test('a message sent in the future (beyond the clock skew) is not yet valid', async () => {
    const [m] = await src.send([
      { seq: 1, sentAt: new Date(node.clock.ms + 3_600_000), expiresAt: new Date(node.clock.ms + 7_200_000) },
    ]);
    await refusedWithoutTrace(m!.message, 'MESSAGE_NOT_YET_VALID');
  });

  test('unsealed: fewer witness cosignatures than min_witnesses', async () => {
    const s = await SourceLog.open(BETA, 'app:src', dirs.make(), { node: ALPHA.id, namespace: WITNESSED });
    try {
      const [none] = await s.send([{ seq: 1 }]);
      await refusedWithoutTrace(none!.message, 'POLICY_NOT_MET', WITNESSED);
      const [one] = await s.send([{ seq: 1 }], [GAMMA]);
      await refusedWithoutTrace(one!.message, 'POLICY_NOT_MET', WITNESSED);
      // The source node's own witness does not count for its own log.
      const [own] = await s.send([{ seq: 1 }], [GAMMA, BETA]);
      await refusedWithoutTrace(own!.message, 'POLICY_NOT_MET', WITNESSED);
      // A forged cosignature by a known witness rejects the proof.
      const [two] = await s.send([{ seq: 1 }], [GAMMA, DELTA]);
      const proof = two!.message.payload.proof!;
      const lines = proof.split('\n');
      const last = lines.length - 2; // the note ends with a newline
      const sig = lines[last]!;
      const b64 = sig.slice(sig.lastIndexOf(' ') + 1);
      const flipped = b64.slice(0, -4) + (b64.at(-4) === 'A' ? 'B' : 'A') + b64.slice(-3);
      lines[last] = sig.slice(0, sig.lastIndexOf(' ') + 1) + flipped;
      await refusedWithoutTrace(withProof(two!.message, lines.join('\n')), 'SIGNATURE_INVALID', WITNESSED);
      // Two witnesses other than the source: sealed.
      const [r] = await node.inbox.receive(WITNESSED, [two!.message], PUBLIC);
      assert.equal(r!.status, 'accepted', JSON.stringify(r));
    } finally {
      await s.close();
    }
  });

  test('a source no pattern of accept_from takes', async () => {
    const other = await SourceLog.open(GAMMA, 'app:src', dirs.make(), { node: ALPHA.id, namespace: DST });
    try {
      const [m] = await other.send([{ seq: 1 }]);
      await refusedWithoutTrace(m!.message, 'MESSAGE_NOT_ACCEPTED');
    } finally {
      await other.close();
    }
  });

  test('a namespace with default rules accepts no messages; unknown and system namespaces are refused', async () => {
    const [m] = await src.send([{ seq: 1, target: { node: ALPHA.id, namespace: 'app:none' } }]);
    await refusedWithoutTrace(m!.message, 'MESSAGE_NOT_ACCEPTED', 'app:none');
    const [n] = await src.send([{ seq: 1, target: { node: ALPHA.id, namespace: 'app:nowhere' } }]);
    await refusedWithoutTrace(n!.message, 'NAMESPACE_NOT_FOUND', 'app:nowhere');
    const [g] = await src.send([{ seq: 1, target: { node: ALPHA.id, namespace: 'sys:governance' } }]);
    await refusedWithoutTrace(g!.message, 'FORBIDDEN', 'sys:governance');
  });
});

describe('refused at its turn: recorded for good, the stream goes on', () => {
  test('an expired message at the head of its stream is refused and the next seq applies', async () => {
    const now = node.clock.ms;
    const [expired, next] = await src.send([
      { seq: 1, sentAt: new Date(now - 7_200_000), expiresAt: new Date(now - 3_600_000) },
      { seq: 2 },
    ]);
    const size = node.engine.sequencedSize(DST);
    const [r] = await node.inbox.receive(DST, [expired!.message], PUBLIC);
    assert.equal(r!.error?.code, 'MESSAGE_EXPIRED');
    assert.equal(node.engine.sequencedSize(DST), size, 'nothing appended');
    const [again] = await node.inbox.receive(DST, [expired!.message], PUBLIC);
    assert.deepEqual(again, r, 'a retry gets the same refusal');
    const [ok] = await node.inbox.receive(DST, [next!.message], PUBLIC);
    assert.equal(ok!.status, 'accepted');
  });

  test('a held message that expired before its turn came is refused then, and the stream goes on', async () => {
    const now = node.clock.ms;
    const [m3, m4, m5] = await src.send([{ seq: 3 }, { seq: 4, expiresAt: new Date(now + 60_000) }, { seq: 5 }]);
    assert.equal(
      (await node.inbox.receive(DST, [m4!.message, m5!.message], PUBLIC)).map((r) => r.status).join(),
      'held,held',
    );
    node.clock.ms = now + 120_000;
    try {
      const results = await node.inbox.receive(DST, [m3!.message, m4!.message, m5!.message], PUBLIC);
      assert.deepEqual(
        results.map((r) => r.status),
        ['accepted', 'refused', 'accepted'],
      );
      assert.equal(results[1]!.error!.code, 'MESSAGE_EXPIRED');
    } finally {
      node.clock.ms = now;
    }
  });

  test('an action or operation the namespace does not take is refused at its turn; the stream goes on', async () => {
    const [q, op, ok] = await src.send([{ seq: 6, action: 'query' }, { seq: 7, operation: 'dance' }, { seq: 8 }]);
    const results = await node.inbox.receive(DST, [q!.message, op!.message, ok!.message], PUBLIC);
    assert.deepEqual(
      results.map((r) => r.error?.code ?? r.status),
      ['MESSAGE_NOT_ACCEPTED', 'MESSAGE_NOT_ACCEPTED', 'accepted'],
    );
  });

  test('a message that arrives expired ahead of its stream is answered so, and refused for good when the gap fills', async () => {
    const now = node.clock.ms;
    const [m9, m10, m11] = await src.send([
      { seq: 9 },
      { seq: 10, sentAt: new Date(now - 7_200_000), expiresAt: new Date(now - 3_600_000) },
      { seq: 11 },
    ]);
    const early = await node.inbox.receive(DST, [m10!.message, m11!.message], PUBLIC);
    assert.deepEqual(
      early.map((r) => r.error?.code ?? r.status),
      ['MESSAGE_EXPIRED', 'held'],
    );
    const results = await node.inbox.receive(DST, [m9!.message, m10!.message, m11!.message], PUBLIC);
    assert.deepEqual(
      results.map((r) => r.error?.code ?? r.status),
      ['accepted', 'MESSAGE_EXPIRED', 'accepted'],
    );
  });
});
