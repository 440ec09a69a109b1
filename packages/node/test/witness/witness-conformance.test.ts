// C2SP tlog-witness conformance of `POST /v1/witness/add-checkpoint`, over HTTP (status, Content-Type
// and body as a client sees them): one test per status code the spec defines, each quoting the
// sentences it checks. Quotes are from https://c2sp.org/tlog-witness as of C2SP/C2SP commit
// 5ba5ee830903e91240fc6f9f3a7a9293d49e69c9 (2026-07-22), which includes C2SP/C2SP#280: same size
// with a different root is 422 there, where the tagged tlog-witness/v1.0.0 said 409 (see the 422
// test). Finer cases of each status are in witness.test.ts and witness-routes.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  NoteSigner,
  addSignatures,
  base64Encode,
  collectCosignatures,
  formatAddCheckpointRequest,
  formatNote,
  parseCosignatureResponse,
  parseNote,
  splitTimestampedSignature,
  witnessOriginHash,
} from '@vaultmesh/core';
import { witnessRoutes } from '../../src/http/index.js';
import type { Witness, WitnessConflict } from '../../src/witness/index.js';
import { TestLog, WITNESS_NAME, noteText, openWitness, tempDirs } from './witness-fixture.js';

const dirs = tempDirs('vm-witness-conformance-');
const log = new TestLog('alpha.vaultmesh.test/dao:conformance', 21);
const conflicts: WitnessConflict[] = [];
let witness: Witness;
let app: FastifyInstance;

before(async () => {
  witness = openWitness(dirs.make(), [log], { onConflict: (c) => conflicts.push(c) });
  app = Fastify({ logger: false });
  witnessRoutes(app, { witness });
  await app.ready();
});
after(async () => {
  await app.close();
  await witness.close();
  dirs.cleanup();
});

interface Answer {
  status: number;
  type: string | undefined;
  body: string;
}

async function add(body: string | Buffer, method: 'POST' | 'GET' | 'PUT' = 'POST'): Promise<Answer> {
  const r = await app.inject({
    method,
    url: '/v1/witness/add-checkpoint',
    payload: method === 'GET' ? undefined : body,
    headers: { 'content-type': 'text/plain' },
  });
  return { status: r.statusCode, type: r.headers['content-type'] as string | undefined, body: r.body };
}

const held = async (): Promise<number | undefined> => (await witness.checkpointFor(log.origin))?.size;

/** The witness answered `status` and still holds what it held before: nothing cosigned. */
async function refused(r: Answer, status: number, before: number | undefined): Promise<void> {
  assert.equal(r.status, status, r.body);
  assert.doesNotMatch(r.body, /^\u2014 /m, 'no cosignature line');
  assert.equal(await held(), before);
}

describe('add-checkpoint (https://c2sp.org/tlog-witness#add-checkpoint)', () => {
  test('200: cosigned, record updated, body = cosignature lines with a non-zero timestamp', async () => {
    // "If all the checks above pass, the witness MUST update its record of the latest cosigned
    // checkpoint and respond with a "200 Success" HTTP status code. The response body MUST be a
    // sequence of one or more [note][] signature lines, each starting with the `—` character
    // (U+2014) and ending with a newline character (U+000A). The signatures MUST be
    // [cosignatures][] from the witness key(s) on the checkpoint."
    // "The cosignature MUST NOT omit the timestamp, i.e. the timestamp MUST NOT be zero."
    // "The witness MUST persist the new checkpoint before responding." (the record is read back
    // here; witness-persistence.test.ts reopens the file and kills writers mid-way.)
    for (const [from, to] of [
      [0, 5],
      [5, 12],
      [12, 12],
    ] as const) {
      const r = await add(log.request(from, to));
      assert.equal(r.status, 200, r.body);
      assert.equal(r.type, 'text/plain; charset=utf-8');
      assert.match(r.body, /^(\u2014 [^\n]+\n)+$/);
      const sigs = parseCosignatureResponse(r.body);
      assert.ok(sigs.length >= 1);
      for (const s of sigs) {
        assert.equal(s.name, WITNESS_NAME);
        assert.notEqual(splitTimestampedSignature(s.signature).timestamp, 0n);
      }
      const cosigners = collectCosignatures(addSignatures(log.checkpoint(to), sigs), [witness.verifier()]);
      assert.equal(cosigners.length, 1, 'a cosignature of the witness key on this checkpoint');
      assert.equal(await held(), to);
    }
    const mon = await app.inject({ method: 'GET', url: `/v1/witness/${witnessOriginHash(log.origin)}/checkpoint` });
    assert.equal(mon.statusCode, 200);
    assert.equal(parseNote(mon.body).text, noteText(log.checkpoint(12)));
  });

  test('200: signatures from unknown keys are ignored', async () => {
    // "The witness MUST verify the checkpoint signature against the public key(s) it trusts for
    // the checkpoint origin, and it MUST ignore signatures from unknown keys."
    // "The submitted checkpoint MAY include multiple signatures."
    const cp = log.checkpoint(12);
    const stranger = new NoteSigner('stranger.example/key', new Uint8Array(32).fill(3));
    const r = await add(
      formatAddCheckpointRequest({
        oldSize: 12,
        proof: [],
        checkpoint: addSignatures(cp, [stranger.sign(noteText(cp))]),
      }),
    );
    assert.equal(r.status, 200, r.body);
  });

  test('400: old size above the checkpoint size', async () => {
    // "The old size MUST be equal to or lower than the checkpoint size. Otherwise, the witness
    // MUST respond with a "400 Bad Request" HTTP status code."
    const before = await held();
    await refused(
      await add(formatAddCheckpointRequest({ oldSize: 13, proof: [], checkpoint: log.checkpoint(12) })),
      400,
      before,
    );
  });

  test('400: a body that is not the request the spec describes', async () => {
    // The spec sets the syntax, not a status for breaking it; 400 is HTTP's answer to a malformed
    // request (RFC 9110 §15.5.1). Each body breaks one of:
    // "The request body MUST be a sequence of - an old size line, - zero or more consistency proof
    // lines, - and an empty line, - followed by a [checkpoint][]."
    // "Each line MUST terminate in a newline character (U+000A)."
    // "The old size line MUST consist of the string `old`, a single space (0x20), and the tree
    // size of the previous checkpoint encoded as an ASCII decimal with no leading zeroes (unless
    // the size is zero, in which case the encoding MUST be `0`)."
    // "Each consistency proof line MUST encode a single hash in base64. The client MUST NOT send
    // more than 63 consistency proof lines."
    const before = await held();
    const cp = log.checkpoint(12);
    const hash = base64Encode(new Uint8Array(32)) + '\n';
    for (const body of [
      cp, // no old size line, no empty line
      'old 12\n' + cp, // no empty line
      'old 12\n\n' + cp.slice(0, -1), // last line not terminated
      'old 012\n\n' + cp, // leading zero
      'old 00\n\n' + cp, // zero not encoded as `0`
      'old  12\n\n' + cp, // two spaces
      'OLD 12\n\n' + cp,
      'old 12\nnot base64!\n\n' + cp,
      `old 12\n${base64Encode(new Uint8Array(31))}\n\n` + cp, // not a single SHA-256 hash
      `old 12\n${hash.repeat(64)}\n` + cp, // 64 proof lines
    ]) {
      await refused(await add(body), 400, before);
    }
  });

  test('403: no signature from a trusted key, or a trusted key name and ID whose signature fails', async () => {
    // "The witness MUST respond with a "403 Forbidden" HTTP status code if either no signature
    // from a trusted key for the origin is present, or a signature line's key name and ID match a
    // trusted key but the signature itself fails to verify (such a note is malformed per
    // [signed-note][])."
    const before = await held();
    log.growTo(20);
    const impostor = new NoteSigner(log.origin, new Uint8Array(32).fill(99)); // same name, other key
    await refused(
      await add(
        formatAddCheckpointRequest({
          oldSize: 12,
          proof: log.tree.consistencyProof(12, 20),
          checkpoint: log.checkpoint(20, impostor),
        }),
      ),
      403,
      before,
    );
    const good = parseNote(log.checkpoint(20));
    const broken = {
      ...good.signatures[0]!,
      signature: good.signatures[0]!.signature.map((b, i) => (i === 10 ? b ^ 0x80 : b)),
    };
    // Even next to a valid one: the note is malformed.
    for (const signatures of [[broken], [good.signatures[0]!, broken]]) {
      await refused(
        await add(
          formatAddCheckpointRequest({
            oldSize: 12,
            proof: log.tree.consistencyProof(12, 20),
            checkpoint: formatNote({ text: good.text, signatures }),
          }),
        ),
        403,
        before,
      );
    }
  });

  test('404: unknown origin', async () => {
    // "If the checkpoint origin is unknown, the witness MUST respond with a "404 Not Found" HTTP
    // status code."
    const stranger = new TestLog('unknown.example/log', 22);
    const r = await add(stranger.request(0, 3));
    assert.equal(r.status, 404, r.body);
    assert.equal(await witness.checkpointFor(stranger.origin), undefined);
  });

  test('409: old size other than the size cosigned last (0 if none), with that size as text/x.tlog.size', async () => {
    // "The witness MUST check that the old size matches the size of the latest checkpoint it
    // cosigned for the checkpoint's origin (or zero if it never cosigned a checkpoint for that
    // origin). If it doesn't match, the witness MUST respond with a "409 Conflict" HTTP status
    // code. The response body MUST consist of the tree size of the latest cosigned checkpoint in
    // decimal, followed by a newline (U+000A). The response MUST have a `Content-Type` of
    // `text/x.tlog.size`."
    const before = (await held())!;
    for (const oldSize of [0, 5, before + 3]) {
      const r = await add(log.request(oldSize, 30));
      await refused(r, 409, before);
      assert.equal(r.type, 'text/x.tlog.size');
      assert.equal(r.body, `${before}\n`);
    }
    // "If a client doesn't have information on the latest cosigned checkpoint, it MAY initially
    // make a request with a old size of zero to obtain it." ... and then succeed with it.
    const learned = Number((await add(log.request(0, 30))).body.trim());
    assert.equal((await add(log.request(learned, 30))).status, 200);
    // Never cosigned: the size held is zero.
    const fresh = new TestLog('alpha.vaultmesh.test/dao:conformance-fresh', 23);
    const w = openWitness(dirs.make(), [fresh]);
    try {
      const r = await w.addCheckpoint(fresh.request(2, 4));
      assert.deepEqual([r.status, r.contentType, r.body], [409, 'text/x.tlog.size', '0\n']);
    } finally {
      await w.close();
    }
  });

  test("422: a size-0 checkpoint whose root is not the empty tree's", async () => {
    // "A checkpoint of size zero MUST have the root hash of the empty tree, which [RFC 6962][],
    // Section 2.1 defines as the hash of the empty string. Otherwise, the witness MUST respond
    // with a "422 Unprocessable Entity" HTTP status code."
    const zero = new TestLog('alpha.vaultmesh.test/dao:conformance-zero', 24);
    const w = openWitness(dirs.make(), [zero]);
    try {
      const r = await w.addCheckpoint(
        formatAddCheckpointRequest({
          oldSize: 0,
          proof: [],
          checkpoint: zero.forkedCheckpoint(0, new Uint8Array(32).fill(9)),
        }),
      );
      assert.equal(r.status, 422, r.body);
      assert.equal(await w.checkpointFor(zero.origin), undefined);
      assert.equal((await w.addCheckpoint(zero.request(0, 0))).status, 200, "the empty tree's root is cosigned");
    } finally {
      await w.close();
    }
  });

  test('422: a proof from old size 0, or a consistency proof that does not verify', async () => {
    // "If the old size is zero, the consistency proof MUST be empty, because the empty tree is
    // consistent with any tree, so no proof is necessary. Otherwise, the consistency proof lines
    // MUST encode a Merkle Consistency Proof from the old size to the checkpoint size according to
    // [RFC 6962][], Section 2.1.2."
    // "If the proof is not empty when the old size is zero, or if a Merkle Consistency Proof
    // doesn't verify, the witness MUST respond with a "422 Unprocessable Entity" HTTP status code."
    // "... (but MUST NOT cosign the checkpoint) ..."
    const before = (await held())!;
    const fromZero = new TestLog('alpha.vaultmesh.test/dao:conformance-zero-proof', 25).growTo(8);
    const w = openWitness(dirs.make(), [fromZero]);
    try {
      const r = await w.addCheckpoint(
        formatAddCheckpointRequest({
          oldSize: 0,
          proof: fromZero.tree.consistencyProof(3, 8),
          checkpoint: fromZero.checkpoint(8),
        }),
      );
      assert.equal(r.status, 422, r.body);
      assert.equal(await w.checkpointFor(fromZero.origin), undefined);
    } finally {
      await w.close();
    }
    log.growTo(40);
    const proof = log.tree.consistencyProof(before, 40);
    const flipped = proof.map((h, i) => (i === 0 ? h.map((b, j) => (j === 31 ? b ^ 1 : b)) : h));
    for (const bad of [flipped, proof.slice(1), [...proof, proof[0]!], []]) {
      await refused(
        await add(formatAddCheckpointRequest({ oldSize: before, proof: bad, checkpoint: log.checkpoint(40) })),
        422,
        before,
      );
    }
  });

  test('422: same size as cosigned, different root; not cosigned, and kept as evidence (onConflict)', async () => {
    // "If the old size matches the checkpoint size, the witness MUST check that the root hashes
    // are also identical. If they don't match, the witness MUST respond with a "422 Unprocessable
    // Entity" HTTP status code."
    // C2SP/C2SP#280 (commit 95978ca) changed this from 409 (tlog-witness/v1.0.0) to 422; its
    // message: the case is "closer to an invalid proof (422) than to a conflict-retry-with-new-size
    // (409)", and "every 409 carry the same body". A 409 here would carry the size the client
    // sent, which a client reads as "resend from this size": a loop, not a fork.
    // "If the origin is known, and the signature is valid, the witness MAY log the request even if
    // the checkpoint fails one of the consistency checks above (but MUST NOT cosign the
    // checkpoint), as it might be proof of log misbehavior."
    const size = (await held())!;
    const storedNote = (await witness.checkpointFor(log.origin))!.note;
    const fork = log.forkedCheckpoint(size, new Uint8Array(32).fill(0x5a));
    const seen = conflicts.length;
    const r = await add(formatAddCheckpointRequest({ oldSize: size, proof: [], checkpoint: fork }));
    await refused(r, 422, size);
    assert.equal(r.type, 'application/json; charset=utf-8');
    assert.equal((JSON.parse(r.body) as { code: string }).code, 'CHECKPOINT_INCONSISTENT');
    assert.equal((await witness.checkpointFor(log.origin))!.note, storedNote, 'the cosigned checkpoint is unchanged');
    // The evidence: both notes, each signed by the log, reported to the equivocation monitor's hook
    // and kept.
    assert.equal(conflicts.length, seen + 1);
    const c = conflicts.at(-1)!;
    assert.deepEqual(
      [c.origin, c.reason, c.storedNote, c.offeredNote],
      [log.origin, 'same-size-different-root', storedNote, fork],
    );
    assert.equal((await witness.conflicts(log.origin))[0]!.offeredNote, fork);
  });

  test("checks run in the spec's order: 404, then 403, then 400 (old size), then 409, then 422", async () => {
    // The statuses above are listed in this order, each check applying to what passed the ones
    // before ("If all the checks above pass ..."); a request failing several gets the first.
    const before = (await held())!;
    const stranger = new TestLog('unknown.example/log', 26);
    const impostor = new NoteSigner(log.origin, new Uint8Array(32).fill(98));
    log.growTo(before + 10);
    const cases: [string, number][] = [
      [formatAddCheckpointRequest({ oldSize: 99, proof: [], checkpoint: stranger.checkpoint(3) }), 404],
      [
        formatAddCheckpointRequest({
          oldSize: before + 11,
          proof: [],
          checkpoint: log.checkpoint(before + 10, impostor),
        }),
        403,
      ],
      [formatAddCheckpointRequest({ oldSize: before + 11, proof: [], checkpoint: log.checkpoint(before + 10) }), 400],
      [formatAddCheckpointRequest({ oldSize: before - 1, proof: [], checkpoint: log.checkpoint(before + 10) }), 409],
      [formatAddCheckpointRequest({ oldSize: before, proof: [], checkpoint: log.checkpoint(before + 10) }), 422],
    ];
    for (const [body, status] of cases) await refused(await add(body), status, before);
  });

  test('only POST', async () => {
    // "The request MUST be an HTTP POST." Another method is never taken as a submission.
    const before = await held();
    for (const method of ['GET', 'PUT'] as const) {
      const r = await add(log.request(before ?? 0, (before ?? 0) + 1), method);
      assert.ok(r.status === 404 || r.status === 405, `${method}: ${r.status}`);
      assert.equal(await held(), before);
    }
  });
});
