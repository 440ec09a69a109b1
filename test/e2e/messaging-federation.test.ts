import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSchemaRegister, crypto, signGovernanceDocument, toHex } from '@vaultmesh/core';
import { readKeyFile } from '@vaultmesh/node';
import { adminHeaders, fetchJson } from './harness/anchoring-client.js';
import { runCli } from './harness/cli-process.js';
import {
  startLocalFederation,
  waitFor,
  type FederationNode,
  type LocalFederation,
} from './harness/local-federation.js';
import {
  assertBothProofs,
  bearerHeaders,
  deliveryRecords,
  entryAt,
  fetchInbox,
  fetchMessageStatus,
  logSize,
  messageStatus,
  messageTo,
  postInbox,
  postPeerInbox,
  putNamespace,
  readInbox,
  sendMessage,
  sendMessages,
  travellingMessage,
  waitAllDelivered,
  waitForReceipt,
  waitForState,
  verifyBothProofs,
  type MessageStatusView,
} from './harness/messaging-client.js';

// Issue 12 item 9 with real processes: messages between namespaces of a 3-node federation and of
// one node. Every source namespace is sealed by two witnesses of the other nodes
// (witness_policy), and every target asks for those two cosignatures (messaging.min_witnesses),
// so a message travels only under a checkpoint cosigned elsewhere. Both proofs a sender holds —
// sent (its own log) and delivered (the target's log) — are checked offline against the genesis
// registry, not against what a node says.
const root = mkdtempSync(join(tmpdir(), 'remembrancer-messaging-federation-'));
let fed: LocalFederation | undefined;
let alpha: FederationNode;
let beta: FederationNode;
let gamma: FederationNode;

const A = 'app:a';
const B = 'app:b';
/** beta's application: reads app:b's inbox and answers from app:b with its own token. */
const appToken = randomBytes(32).toString('hex');
const WITNESSES = 2;

/** Two witnesses other than `node` seal every checkpoint of a source namespace. */
const sealedByOthers = (node: FederationNode) => ({
  witness_policy: {
    min_required: WITNESSES,
    allowlist: fed!.nodes.filter((n) => n !== node).map((n) => n.name),
  },
});

const accepting = (from: string[], more: Record<string, unknown> = {}) => ({
  messaging: { accept_from: from, min_witnesses: WITNESSES, ...more },
});

before(async () => {
  fed = await startLocalFederation(root, 3, { checkpointIntervalMs: 250 });
  [alpha, beta, gamma] = fed.nodes as [FederationNode, FederationNode, FederationNode];
  // app:a takes messages from no one: an answer to its own query is all that gets in.
  await putNamespace(alpha, A, { ...sealedByOthers(alpha), ...accepting([]) });
  await putNamespace(beta, B, {
    ...sealedByOthers(beta),
    ...accepting([`${alpha.name}/${A}`]),
    writers: [{ id: 'app', token_sha256: toHex(crypto.sha256(Buffer.from(appToken))), scopes: ['read', 'write'] }],
  });
});

after(async () => {
  await fed?.stopAll();
  rmSync(root, { recursive: true, force: true });
});

/** The source entry of a sent message (as stored: without its proof). */
async function sourceEntry(node: FederationNode, view: MessageStatusView) {
  return entryAt<Record<string, unknown> & { payload: Record<string, unknown> }>(
    node,
    view.source.namespace,
    view.index,
  );
}

test('alpha/app:a → beta/app:b: delivered with a receipt; sent and delivered proofs verify offline', async () => {
  const sent = await sendMessage(alpha, A, messageTo(beta, B, 'notify', 'invoice.issued', { invoice: 'INV-1' }));
  assert.equal(sent.seq, 1);
  const view = await waitForReceipt(alpha, A, sent.id);
  assert.equal(view.state, 'delivered');
  assert.deepEqual(view.target, { node: beta.name, namespace: B });
  assert.deepEqual(view.source, { node: alpha.name, namespace: A });
  const entry = await sourceEntry(alpha, view);
  assertBothProofs(fed!.registry, view, entry, { minWitnesses: WITNESSES });
  // The check has teeth: three witnesses other than alpha do not exist, so a quorum of three fails.
  const strict = verifyBothProofs(fed!.registry, view, entry, { minWitnesses: 3 });
  assert.equal(strict.sent.checks.find((c) => !c.ok)?.code, 'POLICY_NOT_MET');
  // The record the receipt proves is in beta's log at that index.
  assert.deepEqual(await entryAt(beta, B, view.delivery!.index), view.delivery!.entry);

  // The application reads it from app:b's inbox, with the proof it travelled with.
  const page = await readInbox(beta, B);
  const item = page.items.find((i) => i.message_id === sent.id);
  assert.ok(item, JSON.stringify(page));
  assert.equal(item.delivery.index, view.delivery!.index);
  assert.equal((item.message as { payload: { proof: string } }).payload.proof, view.sent_proof);

  // The CLI checks the same two proofs against the pinned genesis registry.
  const cli = await runCli([
    'message',
    'status',
    `${A}/${sent.id}`,
    '--verify',
    '--registry',
    join(root, 'genesis.json'),
    '--url',
    alpha.url,
    '--data',
    alpha.dir,
  ]);
  assert.equal(cli.code, 0, cli.stdout + cli.stderr);
  assert.match(cli.stdout, /message verified: sent \(source log\) and delivered \(target log\)/);
  assert.match(cli.stdout, /pinned registry version/);
});

test('two namespaces of one node: alpha/app:a → alpha/app:local, under a checkpoint cosigned by beta and gamma', async () => {
  const local = 'app:local';
  await putNamespace(alpha, local, accepting([`${alpha.name}/${A}`]));
  const sent = await sendMessage(alpha, A, messageTo(alpha, local, 'notify', 'ping', { n: 1 }));
  const view = await waitForReceipt(alpha, A, sent.id);
  assertBothProofs(fed!.registry, view, await sourceEntry(alpha, view), { minWitnesses: WITNESSES });
  const records = await deliveryRecords(alpha, local);
  assert.deepEqual(
    records.map((r) => [r.at, r.record.message_id]),
    [[view.delivery!.index, sent.id]],
  );
  assert.deepEqual(
    (await readInbox(alpha, local)).items.map((i) => i.message_id),
    [sent.id],
  );
});

test('invoke/record: the parameters become an entry of the target under its schema policy', async () => {
  const ledger = 'app:ledger';
  const seed = readKeyFile(join(beta.dir, 'keys', 'operator.key'), 'operator');
  const schema = signGovernanceDocument(
    buildSchemaRegister({
      schema_id: 'payment@1.0.0',
      definition: {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        // Checked without the entry's own `schema` member.
        required: ['amount'],
        properties: { amount: { type: 'integer', minimum: 0 } },
        additionalProperties: false,
      },
    }),
    `${beta.name}/operator`,
    seed,
  );
  const registered = await fetchJson(`${beta.url}/v1/governance`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(schema),
  });
  assert.equal(registered.status, 201, JSON.stringify(registered.body));
  await putNamespace(beta, ledger, {
    schema_policy: { allow: ['payment@1.0.0'] },
    ...accepting([`${alpha.name}/${A}`], { actions: ['invoke'], operations: ['record'] }),
  });

  const [ok, bad, after] = await sendMessages(alpha, A, [
    messageTo(beta, ledger, 'invoke', 'record', { schema: 'payment@1.0.0', amount: 12 }),
    messageTo(beta, ledger, 'invoke', 'record', { schema: 'payment@1.0.0', amount: -1 }),
    messageTo(beta, ledger, 'invoke', 'record', { schema: 'payment@1.0.0', amount: 7 }),
  ]);
  const done = await waitForReceipt(alpha, A, ok!.id);
  const recordIndex = done.delivery!.entry.record_index;
  assert.equal(typeof recordIndex, 'number', JSON.stringify(done.delivery));
  assert.ok(recordIndex! < done.delivery!.index, 'the record is appended before its delivery record');
  assert.deepEqual(await entryAt(beta, ledger, recordIndex!), { schema: 'payment@1.0.0', amount: 12 });
  assertBothProofs(fed!.registry, done, await sourceEntry(alpha, done), { minWitnesses: WITNESSES });

  // The schema refuses the second at its turn, for good; the stream goes on with the third.
  const refused = await waitForState(alpha, A, bad!.id, 'refused');
  assert.equal(refused.error?.code, 'SCHEMA_VALIDATION_FAILED', JSON.stringify(refused.error));
  const third = await waitForReceipt(alpha, A, after!.id);
  assert.deepEqual(await entryAt(beta, ledger, third.delivery!.entry.record_index!), {
    schema: 'payment@1.0.0',
    amount: 7,
  });
  // A record's effect is its entry: nothing for an application's inbox.
  assert.deepEqual((await readInbox(beta, ledger)).items, []);
  const records = (await deliveryRecords(beta, ledger)).map((r) => r.record.message_id);
  assert.deepEqual(records, [ok!.id, after!.id], 'no delivery record for the refused one');
});

test('a query answered end to end: beta reads it from its inbox, answers with in_reply_to, proofs both ways', async () => {
  const app = bearerHeaders(appToken);
  const start = (await readInbox(beta, B)).next;
  const query = await sendMessage(alpha, A, messageTo(beta, B, 'query', 'balance', { account: 'acme' }));

  // beta's application long-polls its inbox with its own token until the query is there.
  const item = await waitFor(
    'the query in beta/app:b inbox',
    async () => {
      const r = await fetchInbox(beta, B, { after: start, wait: 5 }, app);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.items.find((i) => i.message_id === query.id);
    },
    30_000,
  );
  const asked = item.message as { action: string; payload: { operation: string; parameters: { account: string } } };
  assert.equal(asked.action, 'query');
  assert.equal(asked.payload.parameters.account, 'acme');

  // The answer travels back from app:b, which app:a's accept_from does not name: taken because
  // it answers app:a's own query to app:b.
  const answer = await sendMessage(
    beta,
    B,
    messageTo(alpha, A, 'notify', 'balance.answer', { account: 'acme', balance: 1250 }, { in_reply_to: query.id }),
    app,
  );
  const answered = await waitForReceipt(beta, B, answer.id);
  assert.equal(answered.in_reply_to, query.id);
  assertBothProofs(fed!.registry, answered, await sourceEntry(beta, answered), { minWitnesses: WITNESSES });

  const asker = await waitForReceipt(alpha, A, query.id);
  assertBothProofs(fed!.registry, asker, await sourceEntry(alpha, asker), { minWitnesses: WITNESSES });
  const linked = await waitFor(
    'the query to list its answer',
    async () => {
      const v = await messageStatus(alpha, A, query.id);
      return v.replies.includes(answer.id) ? v : undefined;
    },
    15_000,
  );
  assert.deepEqual(linked.replies, [answer.id]);

  const inbox = await readInbox(alpha, A);
  const got = inbox.items.find((i) => i.message_id === answer.id);
  assert.ok(got, JSON.stringify(inbox));
  assert.equal((got.message as { in_reply_to?: string }).in_reply_to, query.id);
  assert.equal(got.delivery.index, answered.delivery!.index);

  // Not an answer to a query of app:a: refused by accept_from, and nothing changes at alpha.
  const stray = await sendMessage(beta, B, messageTo(alpha, A, 'notify', 'unasked', {}), app);
  const strayView = await waitForState(beta, B, stray.id, 'refused');
  assert.equal(strayView.error?.code, 'MESSAGE_NOT_ACCEPTED');
  assert.deepEqual(
    (await readInbox(alpha, A)).items.map((i) => i.message_id),
    [answer.id],
  );
});

test('private namespaces send and receive over the peer route; nobody unauthenticated reads them', async () => {
  const src = 'priv:a';
  const dst = 'priv:c';
  await putNamespace(alpha, src, { visibility: 'private', ...sealedByOthers(alpha) });
  await putNamespace(gamma, dst, { visibility: 'private', ...accepting([`${alpha.name}/${src}`]) });
  const sent = await sendMessage(alpha, src, messageTo(gamma, dst, 'notify', 'secret', { code: 42 }));
  const view = await waitForReceipt(alpha, src, sent.id);
  assertBothProofs(fed!.registry, view, await sourceEntry(alpha, view), { minWitnesses: WITNESSES });
  assert.deepEqual(
    (await readInbox(gamma, dst)).items.map((i) => i.message_id),
    [sent.id],
  );

  // No credential: neither the status nor the inbox nor the entries are readable.
  const anon = { 'content-type': 'application/json' };
  const status = await fetchMessageStatus(alpha, src, sent.id, anon);
  assert.equal(status.status, 401, JSON.stringify(status.body));
  assert.equal((status.body as unknown as { code: string }).code, 'UNAUTHORIZED');
  assert.equal(JSON.stringify(status.body).includes('secret'), false);
  const inbox = await fetchInbox(gamma, dst, {}, anon);
  assert.equal(inbox.status, 401, JSON.stringify(inbox.body));
  const entry = await fetchJson(`${alpha.url}/v1/ns/${src}/entries/${view.index}`);
  assert.equal(entry.status, 401, JSON.stringify(entry.body));
  // The token of another namespace reads nothing either.
  const other = await fetchInbox(gamma, dst, {}, bearerHeaders(appToken));
  assert.ok([401, 403].includes(other.status), `${other.status} ${JSON.stringify(other.body)}`);

  // The public inbox route refuses a private target even for a proven message; a peer relays it.
  const travelling = await travellingMessage(alpha, src, sent.id);
  const size = await logSize(gamma, dst);
  const publicPost = await postInbox<{ code: string }>(gamma, dst, travelling);
  assert.equal(publicPost.status, 403, JSON.stringify(publicPost.body));
  assert.equal(publicPost.body.code, 'FORBIDDEN');
  const relayed = await postPeerInbox(beta, gamma, dst, [travelling]);
  assert.equal(relayed.status, 200, JSON.stringify(relayed.body));
  assert.equal(relayed.body.results[0]!.status, 'duplicate', JSON.stringify(relayed.body));
  assert.equal(relayed.body.results[0]!.delivery!.index, view.delivery!.index);
  assert.equal(await logSize(gamma, dst), size, 'nothing appended');
  // The admin token of the sender's node reads it (the check above is about credentials, not a missing route).
  const adminView = await fetchMessageStatus(alpha, src, sent.id, adminHeaders(alpha));
  assert.equal(adminView.status, 200);
});

test('many messages of one stream arrive in seq order: delivery records seq 1..N, one per source index', async () => {
  const src = 'app:stream';
  const dst = 'app:stream-in';
  const N = 120;
  await putNamespace(alpha, src, sealedByOthers(alpha));
  await putNamespace(beta, dst, accepting([`${alpha.name}/${src}`]));
  const sent = [];
  // Several requests a little apart: the stream travels under several checkpoints and requests.
  for (let from = 0; from < N; from += 30) {
    const batch = Array.from({ length: 30 }, (_, k) => messageTo(beta, dst, 'notify', 'tick', { n: from + k }));
    sent.push(...(await sendMessages(alpha, src, batch)));
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.deepEqual(
    sent.map((m) => m.seq),
    Array.from({ length: N }, (_, i) => i + 1),
  );
  const views = await waitAllDelivered(alpha, src, sent, 90_000);

  const records = (await deliveryRecords(beta, dst)).filter((r) => r.record.source_origin === `${alpha.name}/${src}`);
  assert.deepEqual(
    records.map((r) => r.record.seq),
    sent.map((m) => m.seq),
    'one delivery record per seq, in seq order in the log',
  );
  assert.deepEqual(
    records.map((r) => [r.record.index, r.record.message_id]),
    sent.map((m) => [m.index, m.id]),
    'one per source index, each naming its message',
  );
  for (const [i, v] of views.entries()) assert.equal(v.delivery!.index, records[i]!.at);

  // The application reads them in the same order.
  const items = [];
  let after = 0;
  for (;;) {
    const page = await readInbox(beta, dst, { after, limit: 50 });
    items.push(...page.items);
    if (page.items.length === 0) break;
    after = page.next;
  }
  assert.deepEqual(
    items.map((i) => (i.message as { seq: number }).seq),
    sent.map((m) => m.seq),
  );
});
