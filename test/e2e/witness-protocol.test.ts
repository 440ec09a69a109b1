import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CosignatureVerifier,
  MemoryTree,
  NoteSigner,
  collectCosignatures,
  crypto,
  formatAddCheckpointRequest,
  signCheckpoint,
  utf8Encode,
  witnessOriginHash,
} from '@vaultmesh/core';
import { runCli, startServe, type ServeProcess } from './harness/cli-process.js';

// C2SP tlog-witness against a real node process: an external log allowlisted in config is
// witnessed, and every status code of the spec is answered as specified.
const ORIGIN = 'sum.example.org/test-log';
const dir = mkdtempSync(join(tmpdir(), 'remembrancer-witness-e2e-'));
const data = join(dir, 'node');
const logKey = new NoteSigner(ORIGIN, crypto.randomBytes(32));
const tree = new MemoryTree();
let node: ServeProcess;
let witness: CosignatureVerifier;

before(async () => {
  assert.equal((await runCli(['init', '--data', data, '--name', 'witness.e2e.local'])).code, 0);
  const cfg = join(data, 'config.json');
  writeFileSync(
    cfg,
    JSON.stringify({ ...(JSON.parse(readFileSync(cfg, 'utf8')) as object), witnessLogs: { [ORIGIN]: [logKey.vkey] } }),
  );
  node = await startServe(data);
  witness = CosignatureVerifier.fromVkey(
    ((await (await fetch(`${node.url}/v1/node`)).json()) as { witness_vkey: string }).witness_vkey,
  );
});
after(async () => {
  await node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function grow(n: number): string {
  for (let i = 0; i < n; i++) tree.append(utf8Encode(`entry ${tree.size}`));
  return signCheckpoint({ origin: ORIGIN, size: tree.size, root: tree.root() }, logKey);
}

async function add(body: string) {
  const r = await fetch(`${node.url}/v1/witness/add-checkpoint`, { method: 'POST', body });
  return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
}

test('200: the first checkpoint is cosigned; the cosignature verifies with the witness key', async () => {
  const note = grow(3);
  const r = await add(formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: note }));
  assert.equal(r.status, 200, r.text);
  assert.equal(collectCosignatures(note + r.text, [witness]).length, 1);
  const mon = await fetch(`${node.url}/v1/witness/${witnessOriginHash(ORIGIN)}/checkpoint`);
  assert.equal(mon.status, 200);
  assert.match(await mon.text(), /^sum\.example\.org\/test-log\n3\n/);
});

test('409 with text/x.tlog.size when old is not the size held; the resend with a proof succeeds', async () => {
  const note = grow(2);
  const r = await add(formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: note }));
  assert.equal(r.status, 409);
  assert.equal(r.type, 'text/x.tlog.size');
  assert.equal(r.text.trim(), '3');
  const ok = await add(
    formatAddCheckpointRequest({ oldSize: 3, proof: tree.consistencyProof(3, 5), checkpoint: note }),
  );
  assert.equal(ok.status, 200, ok.text);
});

test('422 for a consistency proof that does not verify', async () => {
  const note = grow(3);
  const bad = tree.consistencyProof(5, 8).map((h) => h.map((b, i) => (i === 0 ? b ^ 1 : b)));
  const r = await add(formatAddCheckpointRequest({ oldSize: 5, proof: bad, checkpoint: note }));
  assert.equal(r.status, 422, r.text);
});

test('404 for an origin the witness does not witness', async () => {
  const other = new NoteSigner('unknown.example.org/log', crypto.randomBytes(32));
  const t = new MemoryTree();
  t.append(utf8Encode('x'));
  const r = await add(
    formatAddCheckpointRequest({
      oldSize: 0,
      proof: [],
      checkpoint: signCheckpoint({ origin: other.name, size: 1, root: t.root() }, other),
    }),
  );
  assert.equal(r.status, 404, r.text);
  assert.equal((await fetch(`${node.url}/v1/witness/${witnessOriginHash(other.name)}/checkpoint`)).status, 404);
});

test('403 when no trusted key signed the checkpoint', async () => {
  const impostor = new NoteSigner(ORIGIN, crypto.randomBytes(32));
  const r = await add(
    formatAddCheckpointRequest({
      oldSize: 5,
      proof: tree.consistencyProof(5, tree.size),
      checkpoint: signCheckpoint({ origin: ORIGIN, size: tree.size, root: tree.root() }, impostor),
    }),
  );
  assert.equal(r.status, 403, r.text);
});

test('400 for malformed requests', async () => {
  for (const body of ['', 'hello', 'old x\n\nnot a note\n', `old 0\n\n${ORIGIN}\n1\n`]) {
    assert.equal((await add(body)).status, 400, JSON.stringify(body));
  }
});
