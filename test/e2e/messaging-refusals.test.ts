import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminHeaders, fetchJson } from './harness/anchoring-client.js';
import { startLocalFederation, type FederationNode, type LocalFederation } from './harness/local-federation.js';
import {
  deliveryRecords,
  entryAt,
  logSize,
  messageTo,
  postInbox,
  putNamespace,
  readInbox,
  sendMessage,
  travellingMessage,
  waitForReceipt,
  waitForState,
  type ApiErrorBody,
  type InboxAnswer,
  type SendRequest,
} from './harness/messaging-client.js';

// Issue 12 item 9, the refusals, with real processes: alpha sends from app:src (each checkpoint
// cosigned by beta), beta receives. Each bad message posted to beta's public inbox is refused
// with its stable code and HTTP status, and changes nothing: the target's log and its inbox stay
// as they were. To have a real proven message that no one has delivered yet, it is sent to a
// namespace that does not exist (the sender's delivery is refused, NAMESPACE_NOT_FOUND, for good)
// and the namespace is created after: then the genuine message is still accepted after every
// refusal, so "nothing changed" is not just the silence of a duplicate.
const root = mkdtempSync(join(tmpdir(), 'remembrancer-messaging-refusals-'));
let fed: LocalFederation | undefined;
let alpha: FederationNode;
let beta: FederationNode;

const SRC = 'app:src';
type Travelling = Awaited<ReturnType<typeof travellingMessage>>;

before(async () => {
  fed = await startLocalFederation(root, 2, { checkpointIntervalMs: 250 });
  [alpha, beta] = fed.nodes as [FederationNode, FederationNode];
  await putNamespace(alpha, SRC, { witness_policy: { min_required: 1, allowlist: [beta.name] } });
});

after(async () => {
  await fed?.stopAll();
  rmSync(root, { recursive: true, force: true });
});

/** Rules of a target that takes alpha/app:src's messages, cosigned by one witness other than alpha. */
const accepting = () => ({ messaging: { accept_from: [`${alpha.name}/${SRC}`], min_witnesses: 1 } });

/**
 * A message of alpha/app:src to beta/`dst`, proven (under a checkpoint beta cosigned) and not
 * delivered: `dst` does not exist when it is sent, so alpha's delivery is refused for good; then
 * `dst` is created with `spec`.
 */
async function provenUndelivered(
  dst: string,
  request: SendRequest,
  spec: Record<string, unknown>,
): Promise<{ id: string; travelling: Travelling }> {
  const sent = await sendMessage(alpha, SRC, request);
  const refused = await waitForState(alpha, SRC, sent.id, 'refused');
  assert.equal(refused.error?.code, 'NAMESPACE_NOT_FOUND', JSON.stringify(refused.error));
  const travelling = await travellingMessage(alpha, SRC, sent.id);
  await putNamespace(beta, dst, spec);
  return { id: sent.id, travelling };
}

/**
 * What a refusal must leave as it was: the target's log size and its inbox items (not their
 * receipts: a receipt gains cosignatures as the target's checkpoints are witnessed).
 */
async function targetState(dst: string): Promise<string> {
  const inbox = await readInbox(beta, dst);
  const items = inbox.items.map((i) => [i.cursor, i.message_id, i.delivery.index, i.delivery.entry]);
  return JSON.stringify({ size: await logSize(beta, dst), items, next: inbox.next });
}

/** Posts `message` to beta/`dst`'s public inbox: refused with `code` and `status`, nothing changed. */
async function refused(dst: string, message: unknown, status: number, code: string): Promise<ApiErrorBody> {
  const before = await targetState(dst);
  const r = await postInbox<ApiErrorBody>(beta, dst, message);
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.code, code, JSON.stringify(r.body));
  assert.equal(await targetState(dst), before, `${code}: the target's log and inbox unchanged`);
  // In a batch the same refusal is a result, with the same code.
  const batch = await postInbox<{ results: InboxAnswer[] }>(beta, dst, { messages: [message] });
  assert.equal(batch.status, 200, JSON.stringify(batch.body));
  assert.equal(batch.body.results[0]!.status, 'refused');
  assert.equal(batch.body.results[0]!.error?.code, code);
  assert.equal(await targetState(dst), before, `${code} in a batch: the target's log and inbox unchanged`);
  return r.body;
}

/** The proof's checkpoint note rewritten: each signature line (`— <name> <base64>`) through `change`, or dropped when it returns undefined. */
function withSignatureLines(m: Travelling, change: (name: string, sig: Buffer) => Buffer | undefined): Travelling {
  const proof = m.payload['proof'] as string;
  const lines = proof.split('\n').flatMap((line) => {
    if (!line.startsWith('\u2014 ')) return [line];
    const [, name, b64] = line.split(' ') as [string, string, string];
    const sig = change(name, Buffer.from(b64, 'base64'));
    return sig === undefined ? [] : [`\u2014 ${name} ${sig.toString('base64')}`];
  });
  assert.notEqual(lines.join('\n'), proof, 'the proof was changed');
  return { ...m, payload: { ...m.payload, proof: lines.join('\n') } };
}

/** The signature bytes with their last byte flipped (the key hash in front is kept). */
function flipped(sig: Buffer): Buffer {
  const out = Buffer.from(sig);
  out[out.length - 1]! ^= 0x01;
  return out;
}

test('forged, tampered and unsealed proofs are refused with their codes and change nothing; the genuine one then applies', async () => {
  const dst = 'app:dst';
  const { id, travelling } = await provenUndelivered(
    dst,
    messageTo(beta, dst, 'notify', 'invoice.issued', { invoice: 'INV-9', amount: 100 }),
    accepting(),
  );
  const logName = `${alpha.name}/${SRC}`;

  // The source log's signature on the checkpoint, its bytes changed.
  const forged = withSignatureLines(travelling, (name, sig) => (name === logName ? flipped(sig) : sig));
  const f = await refused(dst, forged, 401, 'SIGNATURE_INVALID');
  assert.equal(f.message.includes('log-signature'), true, f.message);
  // beta's cosignature (beta.e2e.local/witness), its bytes changed: a forged cosignature of a trusted witness rejects the proof.
  const forgedCosignature = withSignatureLines(travelling, (name, sig) => (name === logName ? sig : flipped(sig)));
  const w = await refused(dst, forgedCosignature, 401, 'SIGNATURE_INVALID');
  assert.equal(w.message.includes('witnesses'), true, w.message);
  // Unsealed: the cosignature lines stripped, the log signature alone does not meet min_witnesses 1.
  const unsealed = withSignatureLines(travelling, (name, sig) => (name === logName ? sig : undefined));
  await refused(dst, unsealed, 403, 'POLICY_NOT_MET');
  // Tampered after proving: the parameters changed, the proof includes another entry.
  const tampered = {
    ...travelling,
    payload: { ...travelling.payload, parameters: { invoice: 'INV-9', amount: 1_000_000 } },
  };
  await refused(dst, tampered, 422, 'PROOF_MISMATCH');
  // A seq changed: the same.
  await refused(dst, { ...travelling, seq: 2 }, 422, 'PROOF_MISMATCH');
  // No proof at all.
  const { proof: _proof, ...unproven } = travelling.payload;
  await refused(dst, { ...travelling, payload: unproven }, 400, 'MESSAGE_MALFORMED');

  // The genuine message, after all of that, is accepted once.
  const sizeBefore = await logSize(beta, dst);
  const ok = await postInbox(beta, dst, travelling);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.status, 'accepted', JSON.stringify(ok.body));
  assert.equal(ok.body.message_id, id);
  assert.equal(await logSize(beta, dst), sizeBefore + 1, 'one delivery record appended');
  assert.deepEqual(
    (await deliveryRecords(beta, dst)).map((r) => [r.at, r.record.message_id, r.record.seq]),
    [[ok.body.delivery!.index, id, 1]],
  );
  assert.deepEqual(
    (await readInbox(beta, dst)).items.map((i) => i.message_id),
    [id],
  );
  // A forgery of a message that was delivered is still a forgery, not a duplicate.
  await refused(dst, forged, 401, 'SIGNATURE_INVALID');
  await refused(dst, tampered, 422, 'PROOF_MISMATCH');
});

test('a message proven for another namespace is refused MESSAGE_WRONG_TARGET at this one', async () => {
  const dst = 'app:wt-dst';
  const other = 'app:wt-other';
  await putNamespace(beta, dst, accepting());
  await putNamespace(beta, other, accepting());
  const sent = await sendMessage(alpha, SRC, messageTo(beta, other, 'notify', 'ping', {}));
  const delivered = await waitForReceipt(alpha, SRC, sent.id);
  assert.equal(delivered.target.namespace, other);
  const travelling = await travellingMessage(alpha, SRC, sent.id);
  const r = await refused(dst, travelling, 422, 'MESSAGE_WRONG_TARGET');
  assert.match(r.message, new RegExp(`${other}.*${dst}`));
  assert.equal(await logSize(beta, dst), 0, 'nothing ever appended to the wrong target');
});

test('an expired message is refused MESSAGE_EXPIRED, every time, and changes nothing', async () => {
  const dst = 'app:late';
  const expiresAt = new Date(Date.now() + 4_000).toISOString();
  const { travelling } = await provenUndelivered(
    dst,
    messageTo(beta, dst, 'notify', 'too-late', {}, { expires_at: expiresAt }),
    accepting(),
  );
  const wait = Date.parse(expiresAt) + 500 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const first = await refused(dst, travelling, 422, 'MESSAGE_EXPIRED');
  assert.match(first.message, /expired/);
  await refused(dst, travelling, 422, 'MESSAGE_EXPIRED');
  assert.equal(await logSize(beta, dst), 0);
});

test('a source accept_from does not take is refused MESSAGE_NOT_ACCEPTED (403), at the sender too', async () => {
  const dst = 'app:closed';
  // Default messaging rules: accept_from is empty, no one may send.
  await putNamespace(beta, dst, {});
  const sent = await sendMessage(alpha, SRC, messageTo(beta, dst, 'notify', 'knock', {}));
  const view = await waitForState(alpha, SRC, sent.id, 'refused');
  assert.equal(view.error?.code, 'MESSAGE_NOT_ACCEPTED', JSON.stringify(view.error));
  const travelling = await travellingMessage(alpha, SRC, sent.id);
  const r = await refused(dst, travelling, 403, 'MESSAGE_NOT_ACCEPTED');
  // docs/api.md promises `pointer` /source here; the inbox's answers carry {code, message} only.
  assert.match(r.message, /accept_from/);
  assert.equal(await logSize(beta, dst), 0);

  // Accepted source, but an action the rules do not list: refused with its own pointer.
  const notifyOnly = 'app:notify-only';
  const { travelling: query } = await provenUndelivered(
    notifyOnly,
    messageTo(beta, notifyOnly, 'query', 'balance', {}),
    { messaging: { accept_from: [`${alpha.name}/${SRC}`], actions: ['notify'], min_witnesses: 1 } },
  );
  const q = await postInbox<InboxAnswer>(beta, notifyOnly, query);
  // Refused at its turn in its stream (seq 1 of this stream is this very message): a result, 403.
  assert.equal(q.status, 403, JSON.stringify(q.body));
  assert.equal((q.body as unknown as ApiErrorBody).code, 'MESSAGE_NOT_ACCEPTED');
  assert.match((q.body as unknown as ApiErrorBody).message, /action/);
  assert.equal(await logSize(beta, notifyOnly), 0);
  assert.deepEqual((await readInbox(beta, notifyOnly)).items, []);
});

test('a writer cannot append a message or a delivery record as an entry: 403 FORBIDDEN at /format', async () => {
  const dst = 'app:fmt';
  await putNamespace(beta, dst, accepting());
  const sent = await sendMessage(alpha, SRC, messageTo(beta, dst, 'notify', 'x', {}));
  const delivered = await waitForReceipt(alpha, SRC, sent.id);
  const message = await entryAt(alpha, SRC, sent.index);
  assert.equal(message['format'], 'namespace.message@1.0.0');
  const sourceSize = await logSize(alpha, SRC);
  const targetSize = await logSize(beta, dst);

  // The admin token writes to namespaces that name no writers: a writer, but not of these formats.
  const asEntry = await fetchJson<ApiErrorBody>(`${alpha.url}/v1/ns/${SRC}/entries`, {
    method: 'POST',
    headers: adminHeaders(alpha),
    body: JSON.stringify({ ...message, seq: sent.seq + 1 }),
  });
  assert.equal(asEntry.status, 403, JSON.stringify(asEntry.body));
  assert.equal(asEntry.body.code, 'FORBIDDEN');
  assert.equal(asEntry.body.pointer, '/format');

  const record = delivered.delivery!.entry;
  assert.equal(record.format, 'namespace.message.delivery@1.0.0');
  const forgedRecord = await fetchJson<ApiErrorBody>(`${beta.url}/v1/ns/${dst}/entries`, {
    method: 'POST',
    headers: adminHeaders(beta),
    body: JSON.stringify({ ...record, index: record.index + 1000 }),
  });
  assert.equal(forgedRecord.status, 403, JSON.stringify(forgedRecord.body));
  assert.equal(forgedRecord.body.code, 'FORBIDDEN');
  assert.equal(forgedRecord.body.pointer, '/format');
  assert.equal(await logSize(alpha, SRC), sourceSize, 'nothing appended to the source');
  assert.equal(await logSize(beta, dst), targetSize, 'nothing appended to the target');
});
