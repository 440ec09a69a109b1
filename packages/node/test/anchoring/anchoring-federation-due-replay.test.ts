// Issue 10, item 11: "restarts resume pending epochs from disk; nothing anchored is lost". The
// cadence scheduler commits a due time to cadence.sqlite before anchoring hears of it; a crash in
// between must not leave the namespace unanchored until its next due time (an hour here).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runNode } from '../../src/index.js';
import { CADENCE_DB_FILE } from '../../src/namespaces/cadence-store.js';
import { ANCHOR_DB_FILE } from '../../src/anchoring/anchor-store.js';
import { waitFor } from '../federation/federation-fixture.js';
import {
  TARGET,
  admin,
  anchoredReceipt,
  json,
  makeNamespaces,
  startInProcessFederation,
  type Federation,
} from './in-process-federation.js';

let fed: Federation;

before(async () => {
  fed = await startInProcessFederation('due-replay', 2, 'collaborative');
});

after(async () => {
  await fed?.close();
});

describe('a due event committed by the cadence but never heard by anchoring (crash in between)', () => {
  test('is replayed at start-up: the namespace is anchored without waiting for its next due time', async () => {
    const { node: alpha, ns } = (await makeNamespaces(fed, 1, [fed.nodes[0]!]))[0]!;
    await waitFor('the first anchor', () => anchoredReceipt(alpha, ns, 2), 20_000);

    // From now on the namespace comes due once an hour: no due event fires during this test.
    const spec = await json(`${alpha.url}/v1/ns/${ns}`, {
      method: 'PUT',
      headers: admin(alpha),
      body: JSON.stringify({ cadence: { fast: { target: TARGET, every: '1h', confirmations: 0 } } }),
    });
    assert.equal(spec.status, 200, JSON.stringify(spec.body));
    const w = await json(`${alpha.url}/v1/ns/${ns}/batch`, {
      method: 'POST',
      headers: admin(alpha),
      body: JSON.stringify({ entries: [{ n: 4 }, { n: 5 }] }),
    });
    assert.equal(w.status, 201, JSON.stringify(w.body));
    await waitFor(
      'entry 4 sealed',
      async () => {
        const r = await json<{ sealed: boolean }>(`${alpha.url}/v1/ns/${ns}/receipt/4?sealed=1`);
        return r.status === 200 && r.body.sealed ? true : undefined;
      },
      20_000,
    );

    // The crash: stopped, then the cadence file says the level came due just now (tick committed
    // it, next due an hour on), and anchoring's file holds no trace of that event.
    const dataDir = alpha.identity.dataDir;
    await alpha.close();
    const dueAt = Date.now();
    const cadence = new Database(join(dataDir, CADENCE_DB_FILE));
    cadence
      .prepare('UPDATE cadence_levels SET last_due_ms = ?, next_due_ms = ? WHERE namespace = ?')
      .run(dueAt, dueAt + 3_600_000, ns);
    cadence.close();
    const anchoring = new Database(join(dataDir, ANCHOR_DB_FILE));
    const seen = anchoring.prepare('SELECT max(due_at_ms) FROM anchor_due_seen WHERE namespace = ?').pluck().get(ns);
    assert.ok(typeof seen === 'number' && seen < dueAt, 'the earlier due events were recorded as seen');
    const queued = anchoring.prepare('SELECT count(*) FROM anchor_due WHERE namespace = ?').pluck().get(ns);
    assert.equal(queued, 0, 'nothing of the namespace is queued for anchoring before the restart');
    anchoring.close();

    const restarted = await runNode({ dataDir, logger: false });
    fed.nodes[0] = restarted;
    const r = await waitFor('the anchor of entry 4 after the restart', () => anchoredReceipt(restarted, ns, 4), 20_000);
    assert.ok(r.anchors[0]!.federation_receipt.leaf.size >= 5);
  });
});
