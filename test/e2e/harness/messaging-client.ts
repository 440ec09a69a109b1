import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  CosignatureVerifier,
  NoteSigner,
  canonicalBytes,
  formatKeyId,
  logVerifierForOrigin,
  peerAuthKeyName,
  signRequest,
  verifyMessageProof,
  verifyReceiptWith,
  type MessageProofVerification,
  type ReceiptVerification,
  type RegistrySet,
} from '@vaultmesh/core';
import {
  readKeyFile,
  type InboxPage,
  type MessageState,
  type MessageStatusView,
  type SentMessage,
} from '@vaultmesh/node';
import { adminHeaders, fetchJson } from './anchoring-client.js';
import { waitFor, type FederationNode } from './local-federation.js';

/*
 * What the messaging e2e tests (issue 12) ask real nodes over HTTP: namespaces with messaging rules
 * (PUT /v1/ns/{ns}), sending (POST /v1/ns/{src}/messages), a sent message's state and proofs
 * (GET /v1/ns/{src}/messages/{id}), the target's inbox (POST public and peer-signed, GET), and the
 * offline check of both proofs a sender holds against a pinned registry. Requests use the admin
 * token unless told otherwise, so private namespaces read the same way.
 */

export type { InboxPage, MessageState, MessageStatusView, SentMessage };

/** One message's answer from an inbox (POST /v1/ns/{dst}/inbox): 200 accepted|duplicate, 202 held, or an error. */
export interface InboxAnswer {
  message_id?: string;
  status: 'accepted' | 'duplicate' | 'held' | 'refused';
  delivery?: MessageStatusView['delivery'];
  error?: { code: string; message: string };
}

/** An API error body: `{code, message, pointer?}`. */
export interface ApiErrorBody {
  code: string;
  message: string;
  pointer?: string;
}

/** What a writer asks for in POST /v1/ns/{src}/messages. */
export interface SendRequest {
  target: { node: string; namespace: string };
  action: 'invoke' | 'query' | 'notify';
  payload: { operation: string; parameters: Record<string, unknown> };
  expires_at?: string;
  in_reply_to?: string;
}

/** A namespace's `messaging` rules (docs/namespaces.md#messaging-rules). */
export interface MessagingRules {
  accept_from: string[];
  actions?: ('invoke' | 'query' | 'notify')[];
  operations?: string[];
  min_witnesses?: number;
}

const nsPath = (node: FederationNode, ns: string, rest = ''): string =>
  `${node.url}/v1/ns/${encodeURIComponent(ns)}${rest}`;

/** `<node>/<namespace>`: an origin, and the form accept_from patterns and `--to` take. */
export function endpointOf(node: FederationNode, ns: string): { node: string; namespace: string } {
  return { node: node.name, namespace: ns };
}

/** PUT /v1/ns/{ns} (admin): creates (201) or changes (200) a namespace; answers its view. */
export async function putNamespace(
  node: FederationNode,
  ns: string,
  spec: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const r = await fetchJson<Record<string, unknown>>(nsPath(node, ns), {
    method: 'PUT',
    headers: adminHeaders(node),
    body: JSON.stringify(spec),
  });
  assert.ok(r.status === 200 || r.status === 201, `PUT ${ns} on ${node.name}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** A notify/query/invoke request for `to`/`ns` (payload operation and parameters as given). */
export function messageTo(
  to: FederationNode,
  ns: string,
  action: SendRequest['action'],
  operation: string,
  parameters: Record<string, unknown> = {},
  extra: Pick<SendRequest, 'expires_at' | 'in_reply_to'> = {},
): SendRequest {
  return { target: endpointOf(to, ns), action, payload: { operation, parameters }, ...extra };
}

/** POST /v1/ns/{src}/messages with any body and headers: the raw answer (for refusals). */
export function postMessages<T = unknown>(
  node: FederationNode,
  src: string,
  body: unknown,
  headers: Record<string, string> = adminHeaders(node),
): Promise<{ status: number; body: T }> {
  return fetchJson<T>(nsPath(node, src, '/messages'), { method: 'POST', headers, body: JSON.stringify(body) });
}

/** Sends one message (202 expected): its id, source index, seq and state. */
export async function sendMessage(
  node: FederationNode,
  src: string,
  request: SendRequest,
  headers: Record<string, string> = adminHeaders(node),
): Promise<SentMessage> {
  const r = await postMessages<SentMessage>(node, src, request, headers);
  assert.equal(r.status, 202, `send from ${src}: ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Sends `{"messages": [...]}` in batches of at most `per` (each appended all or none), in order. */
export async function sendMessages(
  node: FederationNode,
  src: string,
  requests: readonly SendRequest[],
  per = 100,
  headers: Record<string, string> = adminHeaders(node),
): Promise<SentMessage[]> {
  const sent: SentMessage[] = [];
  for (let from = 0; from < requests.length; from += per) {
    const body = { messages: requests.slice(from, from + per) };
    const r = await postMessages<{ messages: SentMessage[] }>(node, src, body, headers);
    assert.equal(r.status, 202, `send batch from ${src}: ${JSON.stringify(r.body)}`);
    sent.push(...r.body.messages);
  }
  return sent;
}

/** GET /v1/ns/{src}/messages/{id} with any headers: the raw answer. */
export function fetchMessageStatus<T = MessageStatusView>(
  node: FederationNode,
  src: string,
  id: string,
  headers: Record<string, string> = adminHeaders(node),
): Promise<{ status: number; body: T }> {
  return fetchJson<T>(nsPath(node, src, `/messages/${id}`), { headers });
}

/** The sender's view of one message (200 expected). */
export async function messageStatus(node: FederationNode, src: string, id: string): Promise<MessageStatusView> {
  const r = await fetchMessageStatus(node, src, id);
  assert.equal(r.status, 200, `status of ${src}/${id}: ${JSON.stringify(r.body)}`);
  return r.body;
}

/**
 * Polls a sent message until its state is one of `states` (and, for `delivered`, its delivery
 * receipt is there when `withReceipt`); fails at once when it reaches another final state
 * (refused, delivered), with the view in the message.
 */
export async function waitForState(
  node: FederationNode,
  src: string,
  id: string,
  states: MessageState | readonly MessageState[],
  timeoutMs = 30_000,
): Promise<MessageStatusView> {
  const wanted: readonly MessageState[] = typeof states === 'string' ? [states] : states;
  // waitFor retries through a failed check, so a final state ends the poll and is judged after it.
  const view = await waitFor(
    `${src}/${id} on ${node.name} to be ${wanted.join('|')}`,
    async () => {
      const v = await messageStatus(node, src, id);
      return wanted.includes(v.state) || isFinal(v) ? v : undefined;
    },
    timeoutMs,
  );
  assert.ok(
    wanted.includes(view.state),
    `${src}/${id} is ${view.state}, not ${wanted.join('|')}: ${JSON.stringify(view)}`,
  );
  return view;
}

/** A state the outbox leaves no more: the target answered for good. */
function isFinal(view: MessageStatusView): boolean {
  return view.state === 'refused' || view.state === 'delivered';
}

/** Polls a sent message until it is delivered with its delivery receipt (the first answer may come without one). */
export async function waitForReceipt(
  node: FederationNode,
  src: string,
  id: string,
  timeoutMs = 30_000,
): Promise<MessageStatusView> {
  const view = await waitFor(
    `${src}/${id} on ${node.name} delivered with a receipt`,
    async () => {
      const v = await messageStatus(node, src, id);
      return v.state === 'refused' || v.delivery?.receipt !== undefined ? v : undefined;
    },
    timeoutMs,
  );
  assert.equal(view.state, 'delivered', `${src}/${id}: ${JSON.stringify(view)}`);
  return view;
}

/** Waits until every one of `sent` is delivered at its target; answers their views in order. */
export async function waitAllDelivered(
  node: FederationNode,
  src: string,
  sent: readonly { id: string }[],
  timeoutMs = 60_000,
): Promise<MessageStatusView[]> {
  const views = new Map<string, MessageStatusView>();
  await waitFor(
    `${sent.length} messages of ${src} on ${node.name} delivered`,
    async () => {
      const pending = sent.filter((m) => !views.has(m.id));
      const got = await Promise.all(pending.map((m) => messageStatus(node, src, m.id)));
      for (const v of got) if (isFinal(v)) views.set(v.id, v);
      return views.size === sent.length || undefined;
    },
    timeoutMs,
  );
  const refused = [...views.values()].filter((v) => v.state !== 'delivered');
  assert.deepEqual(
    refused.map((v) => [v.seq, v.error]),
    [],
    `every message of ${src} delivered`,
  );
  return sent.map((m) => views.get(m.id)!);
}

/** GET /v1/ns/{ns}/entries/{index} (admin): the stored entry. */
export async function entryAt<T = Record<string, unknown>>(
  node: FederationNode,
  ns: string,
  index: number,
): Promise<T> {
  const r = await fetchJson<{ entry: T }>(nsPath(node, ns, `/entries/${index}`), { headers: adminHeaders(node) });
  assert.equal(r.status, 200, `entry ${index} of ${ns}: ${JSON.stringify(r.body)}`);
  return r.body.entry;
}

/** A delivery record (namespace.message.delivery@1.0.0) as stored in a target's log. */
export type DeliveryRecord = NonNullable<MessageStatusView['delivery']>['entry'];

/** Every delivery record of `ns`'s log on `node`, in log order, with its index. */
export async function deliveryRecords(
  node: FederationNode,
  ns: string,
): Promise<{ at: number; record: DeliveryRecord }[]> {
  const size = await logSize(node, ns);
  const out: { at: number; record: DeliveryRecord }[] = [];
  for (let from = 0; from < size; from += 20) {
    const page = await Promise.all(
      Array.from({ length: Math.min(20, size - from) }, async (_, k) => ({
        at: from + k,
        record: await entryAt<DeliveryRecord>(node, ns, from + k),
      })),
    );
    out.push(...page.filter((x) => x.record.format === 'namespace.message.delivery@1.0.0'));
  }
  return out;
}

/** Headers of a request with a namespace's bearer token. */
export function bearerHeaders(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
}

/** Size of `ns`'s log on `node` (GET /v1/ns/{ns}, admin). */
export async function logSize(node: FederationNode, ns: string): Promise<number> {
  const r = await fetchJson<{ size: number }>(nsPath(node, ns), { headers: adminHeaders(node) });
  assert.equal(r.status, 200, `GET ${ns}: ${JSON.stringify(r.body)}`);
  return r.body.size;
}

/** A message as it travels: its source entry with payload.proof — waits until a sealed checkpoint covers it. */
export async function travellingMessage(
  node: FederationNode,
  src: string,
  id: string,
  timeoutMs = 30_000,
): Promise<Record<string, unknown> & { payload: Record<string, unknown> }> {
  const view = await waitFor(
    `${src}/${id} sealed (a sent proof)`,
    async () => {
      const v = await messageStatus(node, src, id);
      return v.sent_proof === undefined ? undefined : v;
    },
    timeoutMs,
  );
  const entry = await entryAt<Record<string, unknown> & { payload: Record<string, unknown> }>(node, src, view.index);
  return { ...entry, payload: { ...entry.payload, proof: view.sent_proof } };
}

/** POST /v1/ns/{dst}/inbox (public, no credential): one message or `{"messages": [...]}`; the raw answer. */
export function postInbox<T = InboxAnswer>(
  node: FederationNode,
  dst: string,
  body: unknown,
): Promise<{ status: number; body: T }> {
  return fetchJson<T>(nsPath(node, dst, '/inbox'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** POST /v1/federation/peer/ns/{dst}/inbox signed by `from`'s peer key (RFC 9421): a batch of `messages`. */
export function postPeerInbox(
  from: FederationNode,
  to: FederationNode,
  dst: string,
  messages: readonly unknown[],
): Promise<{ status: number; body: { results: InboxAnswer[] } }> {
  const seed = readKeyFile(join(from.dir, 'keys', 'peer.key'), 'peer');
  const keyid = formatKeyId(new NoteSigner(peerAuthKeyName(from.name), seed).keyId);
  const url = new URL(`/v1/federation/peer/ns/${encodeURIComponent(dst)}/inbox`, to.url).href;
  const body = canonicalBytes({ messages } as never);
  const headers = {
    ...signRequest({ method: 'POST', targetUri: url, keyid, seed, body }),
    'content-type': 'application/json',
  };
  return fetchJson(url, { method: 'POST', headers, body });
}

/** GET /v1/ns/{dst}/inbox with any headers (admin by default): the raw answer. */
export function fetchInbox<T = InboxPage>(
  node: FederationNode,
  dst: string,
  query: { after?: number; limit?: number; wait?: number } = {},
  headers: Record<string, string> = adminHeaders(node),
): Promise<{ status: number; body: T }> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
  const qs = q.size > 0 ? `?${q.toString()}` : '';
  return fetchJson<T>(nsPath(node, dst, `/inbox${qs}`), { headers });
}

/** The inbox page after `after` (200 expected). */
export async function readInbox(
  node: FederationNode,
  dst: string,
  query: { after?: number; limit?: number; wait?: number } = {},
): Promise<InboxPage> {
  const r = await fetchInbox(node, dst, query);
  assert.equal(r.status, 200, `inbox of ${dst}: ${JSON.stringify(r.body)}`);
  return r.body;
}

/**
 * Both proofs a sender holds, checked offline against a pinned registry (not the node asked):
 * sent — verifyMessageProof of the source entry with its sent_proof, signed by the source node's
 * log key and cosigned by `minWitnesses` witnesses other than it; delivered — the delivery
 * receipt verifies with the target node's log key (and `receiptWitnesses` cosignatures).
 */
export function verifyBothProofs(
  registry: RegistrySet,
  view: MessageStatusView,
  sourceEntry: Record<string, unknown> & { payload: Record<string, unknown> },
  options: { minWitnesses: number; receiptWitnesses?: number },
): { sent: MessageProofVerification; delivered: ReceiptVerification } {
  const peer = (id: string) => {
    const p = registry.peers.find((x) => x.id === id);
    assert.ok(p, `${id} is in the registry`);
    return p;
  };
  const witnessesFor = (node: string) =>
    registry.peers.filter((p) => p.id !== node).map((p) => CosignatureVerifier.fromVkey(p.witness_vkey));
  assert.ok(view.sent_proof, `${view.id} has a sent proof`);
  assert.ok(view.delivery?.receipt, `${view.id} has a delivery receipt`);
  const sent = verifyMessageProof(
    { ...sourceEntry, payload: { ...sourceEntry.payload, proof: view.sent_proof } },
    {
      logVerifiers: logVerifierForOrigin(peer(view.source.node), `${view.source.node}/${view.source.namespace}`),
      witnessVerifiers: witnessesFor(view.source.node),
      minWitnesses: options.minWitnesses,
      target: view.target,
      now: Date.parse(view.delivery!.entry.accepted_at),
    },
  );
  const delivered = verifyReceiptWith(view.delivery!.receipt, {
    logVerifiers: [logVerifierForOrigin(peer(view.target.node), `${view.target.node}/${view.target.namespace}`)],
    witnessVerifiers: witnessesFor(view.target.node),
    witnessQuorum: options.receiptWitnesses ?? 0,
  });
  return { sent, delivered };
}

/** Asserts both proofs of a delivered message verify, and that they name this message and its delivery record. */
export function assertBothProofs(
  registry: RegistrySet,
  view: MessageStatusView,
  sourceEntry: Record<string, unknown> & { payload: Record<string, unknown> },
  options: { minWitnesses: number; receiptWitnesses?: number },
): void {
  const { sent, delivered } = verifyBothProofs(registry, view, sourceEntry, options);
  assert.ok(sent.ok, `sent proof of ${view.id}: ${JSON.stringify(sent.checks.filter((c) => !c.ok))}`);
  assert.equal(sent.messageId, view.id);
  assert.equal(sent.index, view.index);
  assert.ok(delivered.ok, `delivery receipt of ${view.id}: ${JSON.stringify(delivered.checks.filter((c) => !c.ok))}`);
  const receipt = view.delivery!.receipt!;
  assert.equal(receipt.namespace, view.target.namespace);
  assert.equal(receipt.index, view.delivery!.index);
  assert.deepEqual(receipt.entry, view.delivery!.entry);
  assert.equal(view.delivery!.entry.message_id, view.id);
  assert.equal(view.delivery!.entry.index, view.index);
  assert.equal(view.delivery!.entry.seq, view.seq);
}
