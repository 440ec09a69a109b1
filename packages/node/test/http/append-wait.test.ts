import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyReceipt, type Receipt } from '@vaultmesh/core';
import { startTestServer, type TestServer } from './test-server.js';

// POST …/entries|batch?wait=checkpoint|sealed on a real node (SQLite engine, HTTP routes through
// app.inject). The checkpoint timer is 60 s, so every receipt that arrives sooner was signed by an
// adaptive publication (requestCheckpoint). Without witnesses, sealed means the log signature.
const NS = 'dao:waiting';
const enc = encodeURIComponent(NS);

type Node = TestServer;

/** A real node whose checkpoint timer never fires in a test, with `dao:waiting` created. */
async function startNode(minCheckpointIntervalMs: number): Promise<Node> {
  const node = await startTestServer({ checkpointIntervalMs: 60_000, minCheckpointIntervalMs });
  const created = await node.app.inject({
    method: 'PUT',
    url: `/v1/ns/${enc}`,
    headers: { authorization: `Bearer ${node.token}` },
    payload: {},
  });
  assert.equal(created.statusCode, 201, created.body);
  return node;
}

function post(node: Node, path: string, payload: unknown) {
  return node.app.inject({
    method: 'POST',
    url: `/v1/ns/${enc}${path}`,
    headers: { authorization: `Bearer ${node.token}` },
    payload: payload as Record<string, unknown>,
  });
}

function expectError(r: { statusCode: number; body: string }, status: number, code: string): void {
  assert.equal(r.statusCode, status, r.body);
  assert.equal((JSON.parse(r.body) as { code: string }).code, code);
}

describe('waiting appends with adaptive checkpoints', () => {
  let node: Node;
  before(async () => (node = await startNode(50)));
  after(async () => node.close());

  test('wait=checkpoint answers 201 with the receipt GET would serve, and it verifies offline', async () => {
    const r = await post(node, '/entries?wait=checkpoint', { memo: 'one' });
    assert.equal(r.statusCode, 201, r.body);
    const receipt = r.json() as Receipt;
    assert.equal(receipt.index, 0);
    assert.deepEqual(receipt.entry, { memo: 'one' });
    const logVkey = node.engine.getNamespace(NS)!.logVkey;
    const verified = verifyReceipt(receipt, { logVkeys: [logVkey] });
    assert.ok(verified.ok, JSON.stringify(verified));
    const served = await node.app.inject({ method: 'GET', url: `/v1/ns/${enc}/receipt/0` });
    assert.deepEqual(served.json(), receipt);
  });

  test('a waiting batch gets every receipt against one checkpoint', async () => {
    const entries = Array.from({ length: 5 }, (_, i) => ({ memo: `batch ${i}` }));
    const r = await post(node, '/batch?wait=sealed&timeout=20', { entries });
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(r.headers['x-sealed'], 'true');
    const body = r.json() as { indices: number[]; leaf_hashes: string[]; receipts: Receipt[] };
    assert.deepEqual(body.indices, [1, 2, 3, 4, 5]);
    assert.equal(body.leaf_hashes.length, 5);
    const logVkey = node.engine.getNamespace(NS)!.logVkey;
    for (const [i, receipt] of body.receipts.entries()) {
      assert.equal(receipt.index, body.indices[i]);
      assert.deepEqual(receipt.entry, entries[i]);
      assert.equal(receipt.sealed, true);
      assert.ok(verifyReceipt(receipt, { logVkeys: [logVkey] }).ok);
    }
  });

  test('many waiting appends at once are all answered, by few checkpoints', async () => {
    const before = node.engine.stats().checkpointsPublished;
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => post(node, '/entries?wait=checkpoint', { memo: `many ${i}` })),
    );
    for (const r of answers) assert.equal(r.statusCode, 201, r.body);
    // Coalesced: far fewer publications than appends (each covers what is integrated when it runs).
    assert.ok(node.engine.stats().checkpointsPublished - before < 40);
  });

  test('without wait the append answers as before', async () => {
    const r = await post(node, '/entries', { memo: 'plain' });
    assert.equal(r.statusCode, 201);
    assert.deepEqual(Object.keys(r.json() as object).sort(), ['index', 'leaf_hash']);
  });

  test('bad wait or timeout is 400 INVALID_ARGUMENT and stores nothing', async () => {
    const size = node.engine.sequencedSize(NS);
    for (const query of [
      'wait=soon',
      'wait=',
      'wait=checkpoint&timeout=0',
      'wait=checkpoint&timeout=-1',
      'wait=checkpoint&timeout=31',
      'wait=checkpoint&timeout=abc',
      'wait=checkpoint&timeout=1e3',
      'timeout=5',
    ]) {
      expectError(await post(node, `/entries?${query}`, { memo: query }), 400, 'INVALID_ARGUMENT');
      expectError(await post(node, `/batch?${query}`, { entries: [{ memo: query }] }), 400, 'INVALID_ARGUMENT');
    }
    assert.equal(node.engine.sequencedSize(NS), size);
  });
});

describe('waiting past the timeout', () => {
  let node: Node;
  // One entry signed now: the next requested checkpoint is 10 minutes away.
  before(async () => {
    node = await startNode(600_000);
    assert.equal((await post(node, '/entries', { memo: 'first' })).statusCode, 201);
    await node.engine.publishCheckpoint(NS);
  });
  after(async () => node.close());

  test('202 with the index and a Location to poll; the entry is durable and readable', async () => {
    const r = await post(node, '/entries?wait=checkpoint&timeout=0.3', { memo: 'late' });
    assert.equal(r.statusCode, 202, r.body);
    const body = r.json() as { index: number; leaf_hash: string };
    assert.equal(body.index, 1);
    assert.equal(r.headers.location, `/v1/ns/${enc}/receipt/1`);
    const entry = await node.app.inject({ method: 'GET', url: `/v1/ns/${enc}/entries/1` });
    assert.equal(entry.statusCode, 200);
    assert.deepEqual((entry.json() as { entry: unknown }).entry, { memo: 'late' });
    expectError(await node.app.inject({ method: 'GET', url: r.headers.location }), 409, 'NOT_YET_IN_CHECKPOINT');

    const batch = await post(node, '/batch?wait=sealed&timeout=0.2', { entries: [{ a: 1 }, { a: 2 }] });
    assert.equal(batch.statusCode, 202, batch.body);
    assert.deepEqual((batch.json() as { indices: number[] }).indices, [2, 3]);
    assert.equal(batch.headers.location, `/v1/ns/${enc}/receipt/3?sealed=1`);

    // Once a checkpoint is signed, the Location answers the receipt.
    await node.engine.publishCheckpoint(NS);
    const polled = await node.app.inject({ method: 'GET', url: batch.headers.location });
    assert.equal(polled.statusCode, 200);
    assert.equal((polled.json() as Receipt).index, 3);
  });

  test('closing the server answers waiting appends 202 (their entries are stored)', async () => {
    const waiting = post(node, '/entries?wait=checkpoint&timeout=30', { memo: 'at close' });
    // The append is stored and waiting once the sequenced size grows (bounded by the test timeout).
    const size = node.engine.sequencedSize(NS);
    while (node.engine.sequencedSize(NS) === size) await new Promise((resolve) => setTimeout(resolve, 10));
    await node.app.close();
    const r = await waiting;
    assert.equal(r.statusCode, 202, r.body);
    assert.equal((r.json() as { index: number }).index, size);
  });
});
