import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CosignatureVerifier,
  EMPTY_ROOT,
  NoteSigner,
  addSignatures,
  base64Encode,
  collectCosignatures,
  formatAddCheckpointRequest,
  formatCheckpoint,
  formatNote,
  openCheckpoint,
  parseCosignatureResponse,
  parseNote,
  parseSizeResponse,
  splitTimestampedSignature,
  witnessOriginHash,
} from '@vaultmesh/core';
import type { WitnessConflict, WitnessResponse } from '../../src/witness/index.js';
import { TestLog, WITNESS_NAME, noteText, openWitness, tempDirs } from './witness-fixture.js';

const dirs = tempDirs('vm-witness-');
after(async () => dirs.cleanup());

const T0 = 1_750_000_000_000; // ms
const clock = { ms: T0 };
const now = () => clock.ms;

function expectCosigned(r: WitnessResponse, checkpoint: string, verifier: CosignatureVerifier): number {
  assert.equal(r.status, 200, r.body);
  assert.equal(r.contentType, 'text/plain; charset=utf-8');
  // One signature line per witness key, "—" ... "\n".
  assert.match(r.body, /^\u2014 \S+ [A-Za-z0-9+/]+=*\n$/);
  const sigs = parseCosignatureResponse(r.body);
  assert.equal(sigs.length, 1);
  assert.equal(sigs[0]!.name, WITNESS_NAME);
  // As the spec suggests for clients: merge into the checkpoint and verify with the witness key.
  const cosigners = collectCosignatures(addSignatures(checkpoint, sigs), [verifier]);
  assert.equal(cosigners.length, 1);
  assert.ok(cosigners[0]!.timestamp > 0);
  return cosigners[0]!.timestamp;
}

function expectError(r: WitnessResponse, status: number, code: string, message?: RegExp) {
  assert.equal(r.status, status, r.body);
  assert.equal(r.contentType, 'application/json; charset=utf-8');
  const body = JSON.parse(r.body) as { code: string; message: string };
  assert.equal(body.code, code);
  if (message) assert.match(body.message, message);
}

function expectSize(r: WitnessResponse, size: number) {
  assert.equal(r.status, 409, r.body);
  assert.equal(r.contentType, 'text/x.tlog.size');
  assert.equal(r.body, `${size}\n`);
  assert.equal(parseSizeResponse(r.body), size);
}

describe('add-checkpoint', () => {
  const log = new TestLog('alpha.vaultmesh.test/dao:vaultmesh', 1);
  const other = new TestLog('gamma.vaultmesh.test/dao:other', 2);
  const w = openWitness(dirs.make(), [log, other], { now });
  const v = w.verifier();
  after(async () => await w.close());

  test('200: the first checkpoint with old size 0 is cosigned at the current time', async () => {
    const r = await w.addCheckpoint(log.request(0, 5));
    const ts = expectCosigned(r, log.checkpoint(5), v);
    assert.equal(ts, Math.floor(T0 / 1000));
    const stored = (await w.checkpointFor(log.origin))!;
    assert.equal(stored.size, 5);
    assert.deepEqual(stored.root, log.tree.rootAt(5));
    assert.equal(stored.cosignedAt, ts);
    assert.equal(stored.originHash, witnessOriginHash(log.origin));
  });

  test('200: growth with real consistency proofs, including to a power of two and to the same checkpoint', async () => {
    for (const [from, to] of [
      [5, 5],
      [5, 8],
      [8, 13],
      [13, 16],
      [16, 100],
      [100, 1000],
      [1000, 1000],
    ] as const) {
      clock.ms += 1000;
      const ts = expectCosigned(await w.addCheckpoint(log.request(from, to)), log.checkpoint(to), v);
      assert.equal(ts, Math.floor(clock.ms / 1000));
      assert.equal((await w.checkpointFor(log.origin))!.size, to);
    }
  });

  test('409: a stale old size gets the stored size as text/x.tlog.size; resending from it succeeds', async () => {
    expectSize(await w.addCheckpoint(log.request(100, 1200)), 1000);
    // "If a client doesn't have information on the latest cosigned checkpoint, it MAY initially
    // make a request with a old size of zero to obtain it."
    expectSize(await w.addCheckpoint(log.request(0, 1200)), 1000);
    const stale = await w.addCheckpoint(log.request(100, 1200));
    const size = parseSizeResponse(stale.body);
    expectCosigned(await w.addCheckpoint(log.request(size, 1200)), log.checkpoint(1200), v);
    // A log that was never cosigned has size 0.
    expectSize(await w.addCheckpoint(other.request(3, 7)), 0);
    // An older checkpoint (the tree "going backwards") can only be offered with a stale old size.
    expectSize(await w.addCheckpoint(log.request(1000, 1100)), 1200);
    assert.equal((await w.checkpointFor(log.origin))!.size, 1200);
  });

  test('400: malformed bodies', async () => {
    const cp = log.checkpoint(1200);
    for (const body of [
      '',
      'garbage',
      'old 1200\n' + cp, // no empty line after the proof
      'old 1200\n\n' + cp.slice(0, -1), // last line without newline
      'old 01200\n\n' + cp,
      'old 1200\r\n\r\n' + cp,
      'old 1200\nnot base64\n\n' + cp,
      `old 1200\n${base64Encode(new Uint8Array(16))}\n\n` + cp,
      'old 1200\n\n' + noteText(cp), // no signature
      'old 1200\n\n' + cp.replace('\n1200\n', '\n+1200\n'),
    ]) {
      expectError(await w.addCheckpoint(body), 400, 'WITNESS_REQUEST_MALFORMED');
    }
    const invalidUtf8 = new Uint8Array([...new TextEncoder().encode('old 0\n\n'), 0xff, 0xfe, 0x0a]);
    expectError(await w.addCheckpoint(invalidUtf8), 400, 'WITNESS_REQUEST_MALFORMED', /UTF-8/);
    const proofLines = Array.from({ length: 64 }, () => base64Encode(new Uint8Array(32)) + '\n').join('');
    expectError(await w.addCheckpoint(`old 1200\n${proofLines}\n${cp}`), 400, 'WITNESS_REQUEST_MALFORMED', /63/);
  });

  test("400: old size above the checkpoint size, checked after the signature (the spec's order)", async () => {
    const body = formatAddCheckpointRequest({ oldSize: 1300, proof: [], checkpoint: log.checkpoint(1200) });
    expectError(await w.addCheckpoint(body), 400, 'WITNESS_REQUEST_MALFORMED', /greater than the checkpoint size/);
    // Unknown origin and bad signature come first.
    const stranger = new TestLog('unknown.example/log', 9);
    expectError(
      await w.addCheckpoint(formatAddCheckpointRequest({ oldSize: 9, proof: [], checkpoint: stranger.checkpoint(3) })),
      404,
      'NOT_FOUND',
    );
    const forged = log.checkpoint(1200, new NoteSigner(log.origin, new Uint8Array(32).fill(77)));
    expectError(
      await w.addCheckpoint(formatAddCheckpointRequest({ oldSize: 1300, proof: [], checkpoint: forged })),
      403,
      'FORBIDDEN',
    );
  });

  test('404: a checkpoint from an origin the witness does not know', async () => {
    const stranger = new TestLog('unknown.example/log', 9);
    expectError(await w.addCheckpoint(stranger.request(0, 4)), 404, 'NOT_FOUND', /unknown\.example\/log/);
    assert.equal(await w.checkpointFor(stranger.origin), undefined);
  });

  test("403: no signature by a trusted key (other key, same name), or a trusted key's signature fails", async () => {
    const impostor = new NoteSigner(log.origin, new Uint8Array(32).fill(42)); // same name, other key ID
    expectError(
      await w.addCheckpoint(
        formatAddCheckpointRequest({ oldSize: 1200, proof: [], checkpoint: log.checkpoint(1200, impostor) }),
      ),
      403,
      'FORBIDDEN',
      /not signed by any trusted key/,
    );
    // Another log's key signing this origin's checkpoint.
    const body = formatCheckpoint({ origin: log.origin, size: 1200, root: log.tree.rootAt(1200) });
    const byOther = formatNote({ text: body, signatures: [other.signer.sign(body)] });
    expectError(
      await w.addCheckpoint(formatAddCheckpointRequest({ oldSize: 1200, proof: [], checkpoint: byOther })),
      403,
      'FORBIDDEN',
    );
    // The trusted key's name and ID, but the signature is over another text: "such a note is malformed".
    const good = parseNote(log.checkpoint(1200));
    const tampered = {
      ...good.signatures[0]!,
      signature: good.signatures[0]!.signature.map((b, i) => (i === 0 ? b ^ 1 : b)),
    };
    expectError(
      await w.addCheckpoint(
        formatAddCheckpointRequest({
          oldSize: 1200,
          proof: [],
          checkpoint: formatNote({ text: good.text, signatures: [tampered] }),
        }),
      ),
      403,
      'FORBIDDEN',
      /does not verify/,
    );
    // A valid signature does not rescue a failing one from a trusted key.
    const both = formatNote({ text: good.text, signatures: [good.signatures[0]!, tampered] });
    assert.equal(
      (await w.addCheckpoint(formatAddCheckpointRequest({ oldSize: 1200, proof: [], checkpoint: both }))).status,
      403,
    );
    assert.equal((await w.checkpointFor(log.origin))!.size, 1200);
  });

  test('200: unknown signatures are ignored, and not served back', async () => {
    const cp = log.checkpoint(1200);
    const stranger = new NoteSigner('someone.else/key', new Uint8Array(32).fill(55));
    const withUnknown = addSignatures(cp, [stranger.sign(noteText(cp))]);
    expectCosigned(
      await w.addCheckpoint(formatAddCheckpointRequest({ oldSize: 1200, proof: [], checkpoint: withUnknown })),
      cp,
      v,
    );
    const served = parseNote((await w.checkpointFor(log.origin))!.note);
    assert.deepEqual(
      served.signatures.map((s) => s.name),
      [log.origin, WITNESS_NAME],
    );
  });

  test('422: a consistency proof that does not verify, a proof of the wrong length, a proof from 0', async () => {
    const good = log.growTo(1500).tree.consistencyProof(1200, 1500);
    const cp = log.checkpoint(1500);
    const flipped = good.map((h, i) => (i === 1 ? h.map((b, j) => (j === 0 ? b ^ 1 : b)) : h));
    for (const proof of [flipped, good.slice(1), [...good, good[0]!], []]) {
      expectError(
        await w.addCheckpoint(formatAddCheckpointRequest({ oldSize: 1200, proof, checkpoint: cp })),
        422,
        'CHECKPOINT_INCONSISTENT',
        /consistency proof/,
      );
    }
    // Proof between equal sizes must be empty.
    expectError(
      await w.addCheckpoint(
        formatAddCheckpointRequest({ oldSize: 1200, proof: [good[0]!], checkpoint: log.checkpoint(1200) }),
      ),
      422,
      'CHECKPOINT_INCONSISTENT',
    );
    // From old size 0 the proof must be empty.
    other.growTo(10);
    expectError(
      await w.addCheckpoint(
        formatAddCheckpointRequest({
          oldSize: 0,
          proof: other.tree.consistencyProof(4, 10),
          checkpoint: other.checkpoint(10),
        }),
      ),
      422,
      'CHECKPOINT_INCONSISTENT',
      /must be empty when the old size is 0/,
    );
    assert.equal((await w.checkpointFor(log.origin))!.size, 1200);
    assert.equal(await w.checkpointFor(other.origin), undefined);
    expectCosigned(
      await w.addCheckpoint(formatAddCheckpointRequest({ oldSize: 1200, proof: good, checkpoint: cp })),
      cp,
      v,
    );
  });

  test('size 0: the empty-tree root is cosigned, any other root is 422', async () => {
    const zero = new TestLog('zero.vaultmesh.test/ns:zero', 3);
    const w0 = openWitness(dirs.make(), [zero], { now });
    try {
      expectError(
        await w0.addCheckpoint(
          formatAddCheckpointRequest({
            oldSize: 0,
            proof: [],
            checkpoint: zero.forkedCheckpoint(0, new Uint8Array(32).fill(1)),
          }),
        ),
        422,
        'CHECKPOINT_INCONSISTENT',
        /empty tree/,
      );
      const empty = zero.checkpoint(0);
      assert.ok(empty.includes(base64Encode(EMPTY_ROOT)));
      expectCosigned(await w0.addCheckpoint(zero.request(0, 0)), empty, w0.verifier());
      assert.equal((await w0.checkpointFor(zero.origin))!.size, 0);
      expectCosigned(await w0.addCheckpoint(zero.request(0, 0)), empty, w0.verifier());
      expectCosigned(await w0.addCheckpoint(zero.request(0, 3)), zero.checkpoint(3), w0.verifier());
    } finally {
      await w0.close();
    }
  });

  test('a checkpoint with extension lines is cosigned over its whole text', async () => {
    const ext = new TestLog('ext.example/log', 4).growTo(6);
    const w1 = openWitness(dirs.make(), [ext], { now });
    try {
      const text = formatCheckpoint({ origin: ext.origin, size: 6, root: ext.tree.root() }) + 'extension line\n';
      const note = formatNote({ text, signatures: [ext.signer.sign(text)] });
      expectCosigned(
        await w1.addCheckpoint(formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: note })),
        note,
        w1.verifier(),
      );
    } finally {
      await w1.close();
    }
  });
});

describe('conflicts', () => {
  test('same size, different root: 422, stored state kept, hook called once per offered note, evidence kept', async () => {
    const log = new TestLog('alpha.vaultmesh.test/ns:fork', 5);
    const seen: WitnessConflict[] = [];
    const w = openWitness(dirs.make(), [log], { now, onConflict: (c) => seen.push(c) });
    try {
      w.onConflict(() => {
        throw new Error('a broken listener');
      });
      assert.equal((await w.addCheckpoint(log.request(0, 8))).status, 200);
      const storedNote = (await w.checkpointFor(log.origin))!.note;
      const fork = log.forkedCheckpoint(8, new Uint8Array(32).fill(0xab));
      const body = formatAddCheckpointRequest({ oldSize: 8, proof: [], checkpoint: fork });
      expectError(await w.addCheckpoint(body), 422, 'CHECKPOINT_INCONSISTENT', /root differs/);
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.origin, log.origin);
      assert.equal(seen[0]!.reason, 'same-size-different-root');
      assert.equal(seen[0]!.storedNote, storedNote);
      assert.equal(seen[0]!.offeredNote, fork);
      // Both notes verify under the log key: they are evidence against the log.
      openCheckpoint(seen[0]!.storedNote, log.signer.verifier());
      openCheckpoint(seen[0]!.offeredNote, log.signer.verifier());
      expectError(await w.addCheckpoint(body), 422, 'CHECKPOINT_INCONSISTENT');
      assert.equal(seen.length, 1, 'a repeated offer is not reported again');
      assert.equal((await w.checkpointFor(log.origin))!.note, storedNote);
      const kept = await w.conflicts(log.origin);
      assert.equal(kept.length, 1);
      assert.equal(kept[0]!.offeredNote, fork);
    } finally {
      await w.close();
    }
  });

  test('a consistency proof that fails from the cosigned checkpoint is reported with the proof', async () => {
    const log = new TestLog('alpha.vaultmesh.test/ns:fork2', 6);
    const seen: WitnessConflict[] = [];
    const w = openWitness(dirs.make(), [log], { now, onConflict: (c) => seen.push(c) });
    try {
      assert.equal((await w.addCheckpoint(log.request(0, 10))).status, 200);
      // The log signs a tree of 20 that does not extend its tree of 10.
      const fork = log.forkedCheckpoint(20, new Uint8Array(32).fill(7));
      const proof = log.growTo(20).tree.consistencyProof(10, 20);
      expectError(
        await w.addCheckpoint(formatAddCheckpointRequest({ oldSize: 10, proof, checkpoint: fork })),
        422,
        'CHECKPOINT_INCONSISTENT',
      );
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.reason, 'inconsistent-proof');
      assert.equal(seen[0]!.oldSize, 10);
      assert.deepEqual(seen[0]!.proof, proof);
      assert.deepEqual((await w.conflicts())[0]!.proof, proof);
      // Not reported: requests that are merely malformed or unauthenticated, or a non-empty proof from 0.
      assert.equal(
        (
          await w.addCheckpoint(
            formatAddCheckpointRequest({
              oldSize: 10,
              proof: [],
              checkpoint: log.checkpoint(10, new NoteSigner(log.origin, new Uint8Array(32).fill(99))),
            }),
          )
        ).status,
        403,
      );
      assert.equal(seen.length, 1);
    } finally {
      await w.close();
    }
  });
});

describe('timestamps', () => {
  test('never zero, and never earlier than the last cosignature of the log even if the clock steps back', async () => {
    const log = new TestLog('alpha.vaultmesh.test/ns:time', 7);
    const c = { ms: 0 };
    const w = openWitness(dirs.make(), [log], { now: () => c.ms });
    try {
      const ts = (r: WitnessResponse) =>
        Number(splitTimestampedSignature(parseCosignatureResponse(r.body)[0]!.signature).timestamp);
      assert.equal(ts(await w.addCheckpoint(log.request(0, 1))), 1);
      c.ms = 2_000_000_000_500;
      assert.equal(ts(await w.addCheckpoint(log.request(1, 2))), 2_000_000_000);
      c.ms = 1_900_000_000_000; // NTP stepped back
      assert.equal(ts(await w.addCheckpoint(log.request(2, 3))), 2_000_000_000);
      c.ms = 2_000_000_100_000;
      assert.equal(ts(await w.addCheckpoint(log.request(3, 4))), 2_000_000_100);
      c.ms = Number.NaN;
      await assert.rejects(w.addCheckpoint(log.request(4, 5)), { code: 'INTERNAL' });
      assert.equal((await w.checkpointFor(log.origin))!.size, 4);
    } finally {
      await w.close();
    }
  });
});

describe('monitoring', () => {
  test('latestCheckpoint serves the checkpoint with the verified log signature and our cosignature', async () => {
    const log = new TestLog('alpha.vaultmesh.test/ns:mon', 8);
    const other = new TestLog('beta.vaultmesh.test/ns:mon', 9);
    const w = openWitness(dirs.make(), [log, other], { now });
    try {
      const hash = witnessOriginHash(log.origin);
      expectError(await w.latestCheckpoint(hash), 404, 'NOT_FOUND');
      assert.equal((await w.addCheckpoint(log.request(0, 9))).status, 200);
      const cosig = parseCosignatureResponse((await w.addCheckpoint(log.request(9, 33))).body)[0]!;
      const r = await w.latestCheckpoint(hash);
      assert.equal(r.status, 200);
      assert.equal(r.contentType, 'text/plain; charset=utf-8');
      const opened = openCheckpoint(r.body, log.signer.verifier());
      assert.equal(opened.checkpoint.size, 33);
      assert.deepEqual(opened.checkpoint.root, log.tree.rootAt(33));
      assert.deepEqual(
        collectCosignatures(r.body, [w.verifier()]).map((c) => c.name),
        [WITNESS_NAME],
      );
      // Exactly the cosignature add-checkpoint returned.
      assert.deepEqual(parseNote(r.body).signatures[1], cosig);
      expectError(await w.latestCheckpoint(witnessOriginHash(other.origin)), 404, 'NOT_FOUND');
      expectError(await w.latestCheckpoint(hash.toUpperCase()), 400, 'INVALID_ARGUMENT');
      expectError(await w.latestCheckpoint('xyz'), 400, 'INVALID_ARGUMENT');
      assert.equal(other.request(0, 2) && (await w.addCheckpoint(other.request(0, 2))).status, 200);
      assert.deepEqual(
        (await w.witnessedOrigins()).map((c) => [c.origin, c.size]),
        [
          [log.origin, 33],
          [other.origin, 2],
        ],
      );
    } finally {
      await w.close();
    }
  });
});

describe('group commit (submitCheckpoint)', () => {
  test('requests of one turn are committed together, each checked as if it came alone, in arrival order', async () => {
    const dir = dirs.make();
    const log = new TestLog('alpha.vaultmesh.test/ns:batch', 13);
    const w = openWitness(dir, [log], { now });
    try {
      const v = w.verifier();
      const [a, b, stale, same, c, bad, unknown] = await Promise.all([
        w.submitCheckpoint(log.request(0, 4)),
        w.submitCheckpoint(log.request(4, 9)), // extends the one before, in the same transaction
        w.submitCheckpoint(log.request(4, 12)), // lost the race to the previous one
        w.submitCheckpoint(log.request(9, 9)),
        w.submitCheckpoint(new TextEncoder().encode(log.request(9, 15))),
        w.submitCheckpoint('old 15\n'),
        w.submitCheckpoint(new TestLog('nobody.example/x', 1).request(0, 1)),
      ]);
      expectCosigned(a, log.checkpoint(4), v);
      expectCosigned(b, log.checkpoint(9), v);
      expectSize(stale, 9);
      expectCosigned(same, log.checkpoint(9), v);
      expectCosigned(c, log.checkpoint(15), v);
      expectError(bad, 400, 'WITNESS_REQUEST_MALFORMED');
      expectError(unknown, 404, 'NOT_FOUND');
      // Answered only after the commit: another connection already sees the state.
      const reader = openWitness(dir, [log]);
      try {
        assert.equal((await reader.checkpointFor(log.origin))!.size, 15);
      } finally {
        await reader.close();
      }
    } finally {
      await w.close();
    }
  });

  test('many racers from the same old size in one batch: one wins, the rest learn its size', async () => {
    const log = new TestLog('alpha.vaultmesh.test/ns:batch2', 14).growTo(40);
    const w = openWitness(dirs.make(), [log], { now });
    try {
      assert.equal((await w.addCheckpoint(log.request(0, 10))).status, 200);
      const rs = await Promise.all(Array.from({ length: 25 }, (_, i) => w.submitCheckpoint(log.request(10, 11 + i))));
      assert.equal(rs.filter((r) => r.status === 200).length, 1);
      assert.equal(rs[0]!.status, 200, 'the first to arrive wins');
      for (const r of rs.slice(1)) expectSize(r, 11);
    } finally {
      await w.close();
    }
  });

  test('close() commits what is queued; a closed witness rejects', async () => {
    const dir = dirs.make();
    const log = new TestLog('alpha.vaultmesh.test/ns:batch3', 15);
    const w = openWitness(dir, [log], { now });
    const pending = w.submitCheckpoint(log.request(0, 3));
    await w.close();
    assert.equal((await pending).status, 200);
    await assert.rejects(w.submitCheckpoint(log.request(3, 5)), { code: 'SHUTTING_DOWN' });
    const again = openWitness(dir, [log], { now });
    try {
      assert.equal((await again.checkpointFor(log.origin))!.size, 3);
    } finally {
      await again.close();
    }
  });
});
