import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { withProof, type NamespaceMessage } from '@vaultmesh/core';
import type { InboxVia } from '../../../src/messaging/messaging-wire.js';
import { ALPHA, BETA, DELTA, GAMMA, SourceLog, TargetNode, tempRoot } from './inbox-fixture.js';

// The messages of one request travel under one checkpoint, and what is computed once for them
// (signature verdicts, the parse of an accepted source's message) must never carry one message's
// verdict over to another: each is judged by its own bytes.

const DST = 'app:batch';
const PUBLIC: InboxVia = { kind: 'public' };
const dirs = tempRoot();
let node: TargetNode;
let src: SourceLog;

before(async () => {
  node = await TargetNode.open(dirs.make());
  await node.createNamespace(DST, { messaging: { accept_from: [`${BETA.id}/app:src`], min_witnesses: 2 } });
  await node.openInbox();
  src = await SourceLog.open(BETA, 'app:src', dirs.make(), { node: ALPHA.id, namespace: DST });
});

after(async () => {
  await node.close();
  await src.close();
  dirs.cleanup();
});

/** The message with the last signature line of its proof's note (a cosignature) changed in one base64 character. */
function tamperedCosignature(m: NamespaceMessage): NamespaceMessage {
  const lines = m.payload.proof!.split('\n');
  const last = lines.length - 2; // the note ends with a newline
  const sig = lines[last]!;
  const b64 = sig.slice(sig.lastIndexOf(' ') + 1);
  lines[last] =
    sig.slice(0, sig.lastIndexOf(' ') + 1) + b64.slice(0, -4) + (b64.at(-4) === 'A' ? 'B' : 'A') + b64.slice(-3);
  return withProof(m, lines.join('\n'));
}

test('a tampered cosignature on the second message of a batch under one checkpoint is refused; the first applies', async () => {
  const [first, second, third] = await src.send([{ seq: 1 }, { seq: 2 }, { seq: 3 }], [GAMMA, DELTA]);
  const noteOf = (m: NamespaceMessage) => m.payload.proof!.slice(m.payload.proof!.indexOf('\n\n'));
  assert.equal(noteOf(first!.message), noteOf(second!.message), 'one checkpoint note for the batch');
  const results = await node.inbox.receive(
    DST,
    [first!.message, tamperedCosignature(second!.message), { ...third!.message, seq: 'three' }],
    PUBLIC,
  );
  assert.equal(results[0]!.status, 'accepted', JSON.stringify(results[0]));
  assert.equal(results[1]!.status, 'refused');
  assert.equal(results[1]!.error?.code, 'SIGNATURE_INVALID', JSON.stringify(results[1]));
  // From an accepted source but malformed: refused for its form, as before the proof.
  assert.equal(results[2]!.status, 'refused');
  assert.equal(results[2]!.error?.code, 'MESSAGE_MALFORMED', JSON.stringify(results[2]));
  // The genuine second message, after its tampered copy, still applies: no verdict stuck to it.
  const [again] = await node.inbox.receive(DST, [second!.message], PUBLIC);
  assert.equal(again!.status, 'accepted', JSON.stringify(again));
  assert.equal(again!.delivery?.entry.message_id, second!.id);
});
