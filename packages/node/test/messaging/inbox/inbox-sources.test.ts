import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildMessage,
  buildReceipt,
  messageEntry,
  messageEntryBytes,
  messageId,
  withProof,
  type MessageEndpoint,
} from '@vaultmesh/core';
import type { ReplyLinker } from '../../../src/messaging/messaging-wire.js';
import { ALPHA, BETA, GAMMA, SourceLog, TargetNode, tempRoot } from './inbox-fixture.js';

// Where messages may come from: a namespace of this very node, checked with the node's own log
// key even without any federation; and answers to this namespace's own queries, which its rules
// need not list.

const dirs = tempRoot();

test('between namespaces of one node without a federation: proven with the node own log key, private target over local', async () => {
  const node = await TargetNode.open(dirs.make(), { federation: false });
  try {
    await node.createNamespace('app:from', {});
    await node.createNamespace('app:to', {
      visibility: 'private',
      messaging: { accept_from: [`${ALPHA.id}/app:from`] },
    });
    await node.openInbox();
    // Sent from app:from of this node's own log.
    const m = buildMessage({
      source: { node: ALPHA.id, namespace: 'app:from' },
      target: { node: ALPHA.id, namespace: 'app:to' },
      action: 'notify',
      operation: 'ping',
      parameters: {},
      seq: 1,
      sentAt: new Date(node.clock.ms),
      expiresAt: new Date(node.clock.ms + 60_000),
    });
    const [appended] = await node.engine.append('app:from', [messageEntryBytes(m)]);
    const cp = (await node.engine.publishCheckpoint('app:from'))!;
    const receipt = buildReceipt({
      namespace: 'app:from',
      origin: `${ALPHA.id}/app:from`,
      index: appended!.index,
      entry: messageEntry(m),
      proof: await node.engine.inclusionProof('app:from', appended!.index, cp.size),
      checkpointNote: cp.note,
    });
    const travelling = withProof(m, receipt.tlog_proof);
    const [viaPublic] = await node.inbox.receive('app:to', [travelling], { kind: 'public' });
    assert.equal(viaPublic!.error?.code, 'FORBIDDEN', 'a private target is not reached over the public route');
    const [r] = await node.inbox.receive('app:to', [travelling], { kind: 'local' });
    assert.equal(r!.status, 'accepted', JSON.stringify(r));
    assert.equal(r!.message_id, messageId(m));
    assert.equal((await node.inbox.page('app:to', 0, 10)).items.length, 1);
  } finally {
    await node.close();
  }
});

test('an answer to a query this namespace sent is taken from that source whatever accept_from says', async () => {
  const node = await TargetNode.open(dirs.make());
  const src = await SourceLog.open(BETA, 'app:svc', dirs.make(), { node: ALPHA.id, namespace: 'app:asker' });
  const stranger = await SourceLog.open(GAMMA, 'app:svc', dirs.make(), { node: ALPHA.id, namespace: 'app:asker' });
  const asked = 'a'.repeat(64);
  const links: Array<[string, string, MessageEndpoint, string]> = [];
  const linker: ReplyLinker = {
    async linkReply(namespace, queryId, from, replyId) {
      links.push([namespace, queryId, from, replyId]);
      return queryId === asked && from.node === BETA.id && from.namespace === 'app:svc';
    },
  };
  try {
    await node.createNamespace('app:asker', { messaging: { accept_from: [] } });
    await node.openInbox({ replyLinker: linker });
    const [reply] = await src.send([{ seq: 1, inReplyTo: asked }]);
    const [r] = await node.inbox.receive('app:asker', [reply!.message], { kind: 'public' });
    assert.equal(r!.status, 'accepted', JSON.stringify(r));
    assert.deepEqual(links, [['app:asker', asked, { node: BETA.id, namespace: 'app:svc' }, reply!.id]]);
    // In the application inbox, for the application that asked.
    assert.deepEqual(
      (await node.inbox.page('app:asker', 0, 10)).items.map((i) => i.message_id),
      [reply!.id],
    );
    // A reply to a query it did not send to that source: accept_from decides, and takes nothing.
    const [other] = await stranger.send([{ seq: 1, inReplyTo: asked }]);
    const [refused] = await node.inbox.receive('app:asker', [other!.message], { kind: 'public' });
    assert.equal(refused!.error?.code, 'MESSAGE_NOT_ACCEPTED');
    // A forged reply is refused on its proof before the outbox is asked anything.
    const forged = structuredClone(reply!.message);
    forged.payload.parameters = { forged: true };
    const before = links.length;
    const [bad] = await node.inbox.receive('app:asker', [forged], { kind: 'public' });
    assert.equal(bad!.error?.code, 'PROOF_MISMATCH');
    assert.equal(links.length, before);
  } finally {
    await node.close();
    await src.close();
    await stranger.close();
  }
});

after(() => dirs.cleanup());
