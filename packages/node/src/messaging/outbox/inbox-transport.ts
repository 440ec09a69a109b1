import {
  NoteVerifier,
  errorMessage,
  isJsonObject,
  logVerifierForOrigin,
  utf8Encode,
  type MessageEndpoint,
  type NamespaceMessage,
} from '@vaultmesh/core';
import type { FederationRegistry } from '../../federation/federation-registry.js';
import { PeerRequestError, peerAnswerJson, peerRequest, type PeerCredentials } from '../../federation/peer-client.js';
import type { LogEngine } from '../../log/log-engine.js';
import { peerInboxPath, type InboxReceiver } from '../messaging-wire.js';
import { inboxError, requestRefusal, thrownFailure, type RequestFailure } from './delivery-outcome.js';

/** What a delivery request came to: one result per message (unchecked: attacker-controlled), or a failure of the whole. */
export type InboxAnswer = { ok: true; results: readonly unknown[] } | { ok: false; failure: RequestFailure };

export interface InboxTransportOptions {
  /** This node's name: targets on it go to the local inbox. */
  self: string;
  engine: Pick<LogEngine, 'getNamespace'>;
  registry?: Pick<FederationRegistry, 'peer'>;
  creds?: PeerCredentials;
  localInbox(): InboxReceiver | undefined;
  /** Bound on one request to a peer, answer included, ms. */
  timeoutMs: number;
}

/**
 * Carries messages to their target's inbox: the local inbox for a namespace of this node, else a
 * peer-signed (RFC 9421) POST to the target node's peer inbox route at its registry endpoint. Always
 * the peer route, never the public one: a private namespace's messages travel only to the node
 * that holds it, over requests it authenticates, and a target knows which node is speaking.
 */
export class InboxTransport {
  constructor(private readonly options: InboxTransportOptions) {}

  /** The target log's key, named as its origin, for the delivery receipts it signs. */
  targetLogKey(target: MessageEndpoint): NoteVerifier | undefined {
    try {
      if (target.node === this.options.self) {
        const ns = this.options.engine.getNamespace(target.namespace);
        return ns ? NoteVerifier.fromVkey(ns.logVkey) : undefined;
      }
      const peer = this.options.registry?.peer(target.node);
      return peer ? logVerifierForOrigin(peer, `${target.node}/${target.namespace}`) : undefined;
    } catch {
      return undefined;
    }
  }

  async deliver(target: MessageEndpoint, messages: readonly NamespaceMessage[]): Promise<InboxAnswer> {
    const answer =
      target.node === this.options.self ? await this.#local(target, messages) : await this.#remote(target, messages);
    if (answer.ok && answer.results.length !== messages.length) {
      return {
        ok: false,
        failure: {
          retry: true,
          error: inboxError(
            'PEER_ANSWER_MALFORMED',
            `${answer.results.length} results for ${messages.length} messages from ${target.node}`,
          ),
        },
      };
    }
    return answer;
  }

  async #local(target: MessageEndpoint, messages: readonly NamespaceMessage[]): Promise<InboxAnswer> {
    const inbox = this.options.localInbox();
    if (!inbox)
      return { ok: false, failure: { retry: true, error: inboxError('NOT_FOUND', 'this node has no inbox (yet)') } };
    try {
      return { ok: true, results: await inbox.receive(target.namespace, messages, { kind: 'local' }) };
    } catch (e) {
      return { ok: false, failure: thrownFailure(e) };
    }
  }

  async #remote(target: MessageEndpoint, messages: readonly NamespaceMessage[]): Promise<InboxAnswer> {
    const peer = this.options.registry?.peer(target.node);
    const creds = this.options.creds;
    if (!peer || !creds) {
      // A node may join the federation later: the message waits for it.
      return {
        ok: false,
        failure: {
          retry: true,
          error: inboxError('NOT_FOUND', `node ${target.node} is not in this node's federation registry`),
        },
      };
    }
    try {
      const answer = await peerRequest(peer, creds, 'POST', peerInboxPath(target.namespace), {
        // JSON.stringify, not canonical JSON: ~700 KB a request, and nothing needs its bytes
        // reproducible (the signature covers the digest of the bytes sent). The messages are
        // this node's own entries, read back from its log: no value JSON cannot carry exactly.
        body: utf8Encode(JSON.stringify({ messages })),
        timeoutMs: this.options.timeoutMs,
        accept: [200, 202],
      });
      const json = peerAnswerJson(peer, answer);
      if (!isJsonObject(json) || !Array.isArray(json['results'])) {
        return {
          ok: false,
          failure: {
            retry: true,
            error: inboxError('PEER_ANSWER_MALFORMED', `${peer.id} answered without {"results": [...]}`),
          },
        };
      }
      return { ok: true, results: json['results'] };
    } catch (e) {
      if (!(e instanceof PeerRequestError)) return { ok: false, failure: thrownFailure(e) };
      if (!e.answered || e.peerCode === undefined) {
        return { ok: false, failure: { retry: true, error: inboxError(e.code, errorMessage(e)) } };
      }
      return { ok: false, failure: requestRefusal(e.peerCode, errorMessage(e), e.status) };
    }
  }
}
