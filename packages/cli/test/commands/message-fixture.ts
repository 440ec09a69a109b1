// Shared by the message command tests (not a test file itself): what a source node's status route
// answers for a delivered message — its sent tlog-proof and the target's delivery record with its
// receipt — made with core's own signers, trees and builders, as two real nodes would make them.
import {
  CosignatureSigner,
  MemoryTree,
  NoteSigner,
  addSignatures,
  buildMessage,
  buildMessageDelivery,
  buildReceipt,
  canonicalBytes,
  formatCheckpoint,
  messageEntry,
  messageId,
  signCheckpoint,
  type JsonObject,
  type NamespaceMessage,
  type Receipt,
} from '@vaultmesh/core';
import type { MessageStatusView } from '@vaultmesh/node';
import { logKeyFromVkeys, type MessageTrust } from '../../src/commands/message-trust.js';

export const alpha = 'alpha.vaultmesh.local';
export const beta = 'beta.vaultmesh.local';
export const source = { node: alpha, namespace: 'dao:sender' };
export const target = { node: beta, namespace: 'app:inbox' };

/** A node's log key signs every origin `<node>/<ns>`; its vkey is named as the node (as in a registry). */
export const alphaSeed = new Uint8Array(32).fill(1);
export const betaSeed = new Uint8Array(32).fill(2);
export const alphaVkey = new NoteSigner(alpha, alphaSeed).vkey;
export const betaVkey = new NoteSigner(beta, betaSeed).vkey;
export const witness = new CosignatureSigner('gamma.vaultmesh.local/witness', new Uint8Array(32).fill(9));

const SENT = '2025-03-01T12:00:00Z';
const ACCEPTED = '2025-03-01T12:00:03Z';

/** A log of `entries` on `node` checkpointed at its size, cosigned by `witness`; the receipt of entry `index`. */
function logReceipt(node: string, seed: Uint8Array, namespace: string, entries: JsonObject[], index: number): Receipt {
  const origin = `${node}/${namespace}`;
  const tree = new MemoryTree();
  for (const e of entries) tree.append(canonicalBytes(e));
  const cp = { origin, size: tree.size, root: tree.root() };
  const note = addSignatures(signCheckpoint(cp, new NoteSigner(origin, seed)), [
    witness.cosign(formatCheckpoint(cp), 1740830400),
  ]);
  return buildReceipt({
    namespace,
    origin,
    index,
    entry: entries[index]!,
    proof: tree.inclusionProof(index, tree.size),
    checkpointNote: note,
  });
}

export interface DeliveredMessage {
  view: MessageStatusView;
  /** The source log's entry at view.index (GET /v1/ns/{src}/entries/{index}). */
  entry: JsonObject;
  message: NamespaceMessage;
  receipt: Receipt;
  /** The receipt of another entry of the target log. */
  otherReceipt: Receipt;
}

export function deliveredMessage(): DeliveredMessage {
  const message = buildMessage({
    source,
    target,
    action: 'invoke',
    operation: 'record',
    parameters: { invoice: 'INV-7', amount: 1250 },
    seq: 1,
    sentAt: SENT,
    expiresAt: '2025-03-01T13:00:00Z',
  });
  const entry = messageEntry(message);
  const index = 4;
  const sourceEntries = Array.from({ length: 7 }, (_, i) => (i === index ? entry : { memo: `alpha ${i}` }));
  const sent = logReceipt(alpha, alphaSeed, source.namespace, sourceEntries, index);
  const record = buildMessageDelivery({ message, index, acceptedAt: ACCEPTED }) as unknown as JsonObject;
  const deliveryIndex = 2;
  const targetEntries = [{ memo: 'beta 0' }, { memo: 'beta 1' }, record, { memo: 'beta 3' }];
  const receipt = logReceipt(beta, betaSeed, target.namespace, targetEntries, deliveryIndex);
  const otherReceipt = logReceipt(beta, betaSeed, target.namespace, targetEntries, 3);
  const view: MessageStatusView = {
    id: messageId(message),
    source,
    target,
    action: message.action,
    operation: message.payload.operation,
    seq: message.seq,
    index,
    state: 'delivered',
    sent_at: message.sent_at,
    expires_at: message.expires_at,
    attempts: 1,
    sent_proof: sent.tlog_proof,
    delivery: { index: deliveryIndex, entry: buildMessageDelivery({ message, index, acceptedAt: ACCEPTED }), receipt },
    replies: [],
  };
  return { view, entry, message, receipt, otherReceipt };
}

/** Trust in both nodes' log keys, as pinned keys give it. */
export function trustBoth(overrides: Partial<MessageTrust> = {}): MessageTrust {
  return {
    logKey: (origin) => logKeyFromVkeys([alphaVkey, betaVkey], origin, 'test keys'),
    witnessVerifiers: [],
    minWitnesses: 0,
    ...overrides,
  };
}
