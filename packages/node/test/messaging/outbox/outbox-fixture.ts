import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initNode, loadNode, type NodeIdentity } from '../../../src/config/node-config.js';
import { openLogEngine, type ObservableLogEngine, type OpenLogEngineOptions } from '../../../src/log/index.js';
import { openNamespaceServices, type NamespaceServices } from '../../../src/namespaces/namespace-services.js';
import { LogSignatureSealing } from '../../../src/namespaces/sealing-without-witnesses.js';
import { Inbox } from '../../../src/messaging/inbox/inbox.js';
import type { InboxStorage } from '../../../src/messaging/inbox/inbox-storage.js';
import { Outbox, type OutboxOptions } from '../../../src/messaging/outbox/outbox.js';
import { openOutboxStorage } from '../../../src/messaging/outbox/open-outbox-storage.js';

export const NODE = 'alpha.vaultmesh.test';

/** A node's data directory with its identity (keys, admin token, operator), in a temp root removed by cleanup(). */
export function tempNodes(prefix = 'remembrancer-outbox-'): { make(name?: string): string; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  let n = 0;
  return {
    make(name = NODE) {
      const dir = join(root, `n${++n}`);
      initNode(dir, name);
      return dir;
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** A settable clock, ms. */
export interface TestClock {
  ms: number;
}

/** What a test of the sending side needs of a node: its real engine, namespace rules and outbox. */
export interface OutboxNode {
  dir: string;
  identity: NodeIdentity;
  engine: ObservableLogEngine;
  namespaces: NamespaceServices;
  outbox: Outbox;
  clock: TestClock;
  close(): Promise<void>;
}

export interface OpenOutboxNodeOptions {
  engine?: Partial<OpenLogEngineOptions>;
  outbox?: Partial<OutboxOptions>;
  /** Start of the clock, ms (default 2026-03-01T00:00:00Z). */
  startMs?: number;
}

/**
 * Opens the node in `dir` (made by tempNodes): a SQLite engine (checkpoints published by the test:
 * interval 0), its namespace services, and an outbox whose every checkpoint is sealed by the log
 * signature (no federation) and whose clock the test sets.
 */
export async function openOutboxNode(dir: string, options: OpenOutboxNodeOptions = {}): Promise<OutboxNode> {
  const identity = loadNode(dir);
  const engine = await openLogEngine({
    dbPath: identity.dbPath,
    nodeName: identity.config.name,
    logSeed: identity.logSeed,
    checkpointIntervalMs: 0,
    synchronous: 'NORMAL',
    ...options.engine,
  });
  const clock: TestClock = { ms: options.startMs ?? Date.parse('2026-03-01T00:00:00Z') };
  const namespaces = await openNamespaceServices({
    engine,
    dataDir: dir,
    adminToken: identity.adminToken,
    operators: identity.governance,
    localOperator: { id: identity.operatorId, seed: identity.operatorSeed },
  });
  const outbox = await Outbox.open({
    storage: options.outbox?.storage ?? (await openOutboxStorage({ kind: 'sqlite', dataDir: dir })),
    self: identity.config.name,
    engine,
    admission: namespaces.admission,
    sealing: new LogSignatureSealing(engine),
    checkpointNote: (_origin, cp) => cp.note,
    now: () => clock.ms,
    ...options.outbox,
  });
  return {
    dir,
    identity,
    engine,
    namespaces,
    outbox,
    clock,
    async close() {
      await outbox.stop();
      await outbox.close();
      await namespaces.close();
      await engine.close();
    },
  };
}

/**
 * The node's own real inbox over `storage`, on the node's clock, attached to its outbox (which
 * links the replies to its queries). No checkpoint is published unless the test publishes one:
 * answers wait 20 ms for a receipt, then come without.
 */
export async function openLocalInbox(node: OutboxNode, storage: InboxStorage): Promise<Inbox> {
  const inbox = await Inbox.open({
    engine: node.engine,
    nodeName: node.identity.config.name,
    directory: node.namespaces.directory,
    schemas: node.namespaces.schemas,
    auth: node.namespaces.auth,
    checkpointNote: (_origin, cp) => cp.note,
    replyLinker: node.outbox,
    storage,
    now: () => node.clock.ms,
    receiptWaitMs: 20,
  });
  node.outbox.attachLocalInbox(inbox);
  return inbox;
}

/** Creates a namespace through governance, as PUT /v1/ns/{ns} does. */
export async function createNamespace(node: OutboxNode, id: string, spec: object = {}): Promise<void> {
  await node.namespaces.directory.propose('create', id, spec);
}

/** A send request to `target` (`node/namespace`). */
export function sendRequest(target: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const slash = target.indexOf('/');
  return {
    target: { node: target.slice(0, slash), namespace: target.slice(slash + 1) },
    action: 'notify',
    payload: { operation: 'record', parameters: { n: 1 } },
    ...extra,
  };
}
