import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CosignatureSigner,
  buildMessage,
  buildReceipt,
  formatSignatureLine,
  messageEntry,
  messageEntryBytes,
  messageId,
  withProof,
  type BuildMessageInput,
  type JsonObject,
  type MessageAction,
  type NamespaceMessage,
} from '@vaultmesh/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { initNode, loadNode, type NodeIdentity } from '../../../src/config/node-config.js';
import { EvidenceLedger, peerCredentials } from '../../../src/federation/index.js';
import { installErrorHandling } from '../../../src/http/error-handler.js';
import { useStrictJsonBodies } from '../../../src/http/json-body.js';
import type { RouteContext } from '../../../src/http/route-context.js';
import { inboxArea } from '../../../src/http/routes/inbox-routes.js';
import { installScopes } from '../../../src/http/scopes.js';
import { NodeMetrics } from '../../../src/metrics/node-metrics.js';
import { FederationRegistry } from '../../../src/federation/federation-registry.js';
import { SqliteFederationStorage } from '../../../src/federation/sqlite-federation-storage.js';
import { openLogEngine, type ObservableLogEngine } from '../../../src/log/index.js';
import type { LogEngine, PublishedCheckpoint } from '../../../src/log/log-engine.js';
import { Inbox, type InboxOptions } from '../../../src/messaging/inbox/inbox.js';
import { INBOX_DB_FILE } from '../../../src/messaging/inbox/inbox-store.js';
import type { InboxStorage } from '../../../src/messaging/inbox/inbox-storage.js';
import { PgInboxStorage } from '../../../src/messaging/inbox/pg-inbox-storage.js';
import { SqliteInboxStorage } from '../../../src/messaging/inbox/sqlite-inbox-storage.js';
import { openNamespaceServices, type NamespaceServices } from '../../../src/namespaces/namespace-services.js';
import { genesisOf, makePeer, type TestPeer } from '../../federation/federation-fixture.js';

/*
 * A target node with a real engine, namespace rules, federation registry and inbox, and source logs
 * of other nodes (real engines signed with those nodes' registry keys) whose messages travel with
 * real tlog-proofs, cosigned by real witness keys when a test asks.
 */

export const [ALPHA, BETA, GAMMA, DELTA] = ['alpha.test', 'beta.test', 'gamma.test', 'delta.test'].map((id) =>
  makePeer(id),
) as [TestPeer, TestPeer, TestPeer, TestPeer];

/** A settable clock, ms. */
export interface TestClock {
  ms: number;
}

export function tempRoot(prefix = 'remembrancer-inbox-'): { make(): string; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  let n = 0;
  return {
    make: () => join(root, `d${++n}`),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

export interface TargetNodeOptions {
  federation?: boolean;
  checkpointIntervalMs?: number;
  /** A PostgreSQL database for the inbox's state (a URL); else inbox.sqlite in the node's directory. */
  inboxDb?: string;
}

/** The node that receives: alpha, in a federation of alpha, beta, gamma and delta. */
export class TargetNode {
  readonly identity: NodeIdentity;
  readonly engine: ObservableLogEngine;
  readonly namespaces: NamespaceServices;
  readonly fedStore: SqliteFederationStorage;
  readonly registry: FederationRegistry;
  readonly clock: TestClock = { ms: Date.now() };
  readonly #inboxDb: string | undefined;
  inbox!: Inbox;

  static async open(dir: string, options: TargetNodeOptions = {}): Promise<TargetNode> {
    initNode(dir, ALPHA.id);
    const identity = loadNode(dir);
    const engine = await openLogEngine({
      dbPath: identity.dbPath,
      nodeName: ALPHA.id,
      logSeed: ALPHA.logSeed,
      checkpointIntervalMs: options.checkpointIntervalMs ?? 20,
      synchronous: 'NORMAL',
    });
    const namespaces = await openNamespaceServices({
      engine,
      dataDir: dir,
      adminToken: identity.adminToken,
      operators: identity.governance,
      localOperator: { id: identity.operatorId, seed: identity.operatorSeed },
    });
    const fedStore = SqliteFederationStorage.open(join(dir, 'federation.sqlite'));
    const registry = await FederationRegistry.open(fedStore);
    if (options.federation !== false) await registry.offer(genesisOf([ALPHA, BETA, GAMMA, DELTA]));
    return new TargetNode(dir, identity, engine, namespaces, fedStore, registry, options.inboxDb);
  }

  private constructor(
    readonly dir: string,
    identity: NodeIdentity,
    engine: ObservableLogEngine,
    namespaces: NamespaceServices,
    fedStore: SqliteFederationStorage,
    registry: FederationRegistry,
    inboxDb: string | undefined,
  ) {
    this.identity = identity;
    this.engine = engine;
    this.namespaces = namespaces;
    this.fedStore = fedStore;
    this.registry = registry;
    this.#inboxDb = inboxDb;
  }

  /** The inbox's state, opened anew (each inbox closes its own): the node's SQLite file or its PostgreSQL database. */
  async inboxStorage(): Promise<InboxStorage> {
    return this.#inboxDb === undefined
      ? SqliteInboxStorage.open(join(this.dir, INBOX_DB_FILE))
      : PgInboxStorage.open({ db: this.#inboxDb });
  }

  /** Inbox options over this node and `storage`; `engine` may be a wrapper of the real one (crash tests). */
  inboxOptions(storage: InboxStorage, extra: Partial<InboxOptions> = {}): InboxOptions {
    return {
      storage,
      engine: this.engine,
      nodeName: ALPHA.id,
      directory: this.namespaces.directory,
      schemas: this.namespaces.schemas,
      auth: this.namespaces.auth,
      registry: this.registry,
      checkpointNote: (_origin, cp) => cp.note,
      now: () => this.clock.ms,
      receiptWaitMs: 5_000,
      // Held answers at once, unless a test looks at the wait.
      heldWaitMs: 0,
      ...extra,
    };
  }

  async openInbox(extra: Partial<InboxOptions> = {}): Promise<Inbox> {
    this.inbox = await Inbox.open(this.inboxOptions(await this.inboxStorage(), extra));
    return this.inbox;
  }

  async createNamespace(id: string, spec: object): Promise<void> {
    await this.namespaces.directory.propose('create', id, spec);
  }

  /** Every entry of the namespace's log, parsed. */
  async entries(ns: string): Promise<JsonObject[]> {
    const size = this.engine.sequencedSize(ns);
    const stored = await this.engine.getEntries(ns, 0, size);
    return stored.map((e) => JSON.parse(new TextDecoder().decode(e)) as JsonObject);
  }

  /** The namespace's delivery records. */
  async deliveries(ns: string): Promise<JsonObject[]> {
    return (await this.entries(ns)).filter((e) => e['format'] === 'namespace.message.delivery@1.0.0');
  }

  async close(): Promise<void> {
    await this.inbox?.close();
    await this.namespaces.close();
    await this.engine.close();
    await this.fedStore.close();
  }
}

export interface SendInput {
  seq: number;
  action?: MessageAction;
  operation?: string;
  parameters?: JsonObject;
  target?: { node: string; namespace: string };
  sentAt?: Date;
  expiresAt?: Date;
  inReplyTo?: string;
}

export interface Sent {
  /** The message as it travels (payload.proof set). */
  message: NamespaceMessage;
  id: string;
  index: number;
}

/** A source namespace's log on another node: messages appended for real, proven under its signed checkpoints. */
export class SourceLog {
  readonly engine: LogEngine;
  readonly origin: string;

  static async open(
    peer: TestPeer,
    namespace: string,
    dir: string,
    target: { node: string; namespace: string },
  ): Promise<SourceLog> {
    const engine = await openLogEngine({
      dataDir: dir,
      nodeName: peer.id,
      logSeed: peer.logSeed,
      checkpointIntervalMs: 0,
      synchronous: 'NORMAL',
    });
    await engine.createNamespace(namespace);
    return new SourceLog(peer, namespace, engine, target);
  }

  private constructor(
    readonly peer: TestPeer,
    readonly namespace: string,
    engine: LogEngine,
    readonly target: { node: string; namespace: string },
  ) {
    this.engine = engine;
    this.origin = `${peer.id}/${namespace}`;
  }

  build(input: SendInput, now = Date.now()): NamespaceMessage {
    const b: BuildMessageInput = {
      source: { node: this.peer.id, namespace: this.namespace },
      target: input.target ?? this.target,
      action: input.action ?? 'notify',
      operation: input.operation ?? 'ping',
      parameters: input.parameters ?? { n: input.seq },
      seq: input.seq,
      sentAt: input.sentAt ?? new Date(now),
      expiresAt: input.expiresAt ?? new Date(now + 3_600_000),
      ...(input.inReplyTo ? { inReplyTo: input.inReplyTo } : {}),
    };
    return buildMessage(b);
  }

  /**
   * Appends the messages to the source log in one append, publishes a checkpoint, has `witnesses`
   * cosign it, and returns each message with its tlog-proof under that cosigned checkpoint.
   */
  async send(inputs: readonly SendInput[], witnesses: readonly TestPeer[] = [], now = Date.now()): Promise<Sent[]> {
    const messages = inputs.map((i) => this.build(i, now));
    const results = await this.engine.append(this.namespace, messages.map(messageEntryBytes));
    const cp = (await this.engine.publishCheckpoint(this.namespace))!;
    const note = cosigned(cp, witnesses);
    const sent: Sent[] = [];
    for (const [i, m] of messages.entries()) {
      const index = results[i]!.index;
      const receipt = buildReceipt({
        namespace: this.namespace,
        origin: this.origin,
        index,
        entry: messageEntry(m),
        proof: await this.engine.inclusionProof(this.namespace, index, cp.size),
        checkpointNote: note,
      });
      sent.push({ message: withProof(m, receipt.tlog_proof), id: messageId(m), index });
    }
    return sent;
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}

/** The checkpoint's note with a cosignature of each witness added. */
export function cosigned(cp: PublishedCheckpoint, witnesses: readonly TestPeer[]): string {
  const body = cp.note.slice(0, cp.note.indexOf('\n\n') + 1);
  let note = cp.note;
  for (const w of witnesses) {
    const sig = new CosignatureSigner(`${w.id}/witness`, w.witnessSeed).cosign(body, Math.floor(Date.now() / 1000));
    note += formatSignatureLine(sig);
  }
  return note;
}

/** Messaging rules that take everything from `sources`. */
export function acceptFrom(...sources: string[]): object {
  return { messaging: { accept_from: sources } };
}

/**
 * The inbox area on a bare Fastify app with the server's real scopes (public, namespace read,
 * peer), strict JSON bodies and error answers. close() closes the app and its evidence ledger.
 */
export async function inboxApp(node: TargetNode): Promise<{ app: FastifyInstance; close(): Promise<void> }> {
  const ledger = await EvidenceLedger.open({
    store: node.fedStore,
    registry: node.registry,
    self: ALPHA.id,
    creds: peerCredentials(0, ALPHA.authSeed),
  });
  const app = Fastify();
  useStrictJsonBodies(app);
  installErrorHandling(app);
  const ctx = {
    engine: node.engine,
    nodeName: ALPHA.id,
    adminToken: node.identity.adminToken,
    namespaces: node.namespaces,
    metrics: new NodeMetrics(),
    inbox: node.inbox,
    federation: { registry: node.registry, store: node.fedStore, ledger, status: undefined as never },
  } as unknown as RouteContext;
  installScopes(app, ctx, [inboxArea]);
  await app.ready();
  return {
    app,
    async close() {
      await app.close();
      await ledger.close();
    },
  };
}
