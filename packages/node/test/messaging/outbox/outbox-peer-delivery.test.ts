import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { NoteSigner, peerAuthKeyName, verifyReceipt } from '@vaultmesh/core';
import { loadNode, type NodeIdentity } from '../../../src/config/node-config.js';
import { FederationRegistry } from '../../../src/federation/federation-registry.js';
import { SqliteFederationStorage } from '../../../src/federation/sqlite-federation-storage.js';
import { openInboxStorage } from '../../../src/messaging/inbox/open-inbox-storage.js';
import { localPeerEntry } from '../../../src/federation/local-peer.js';
import { peerCredentials } from '../../../src/federation/peer-client.js';
import { installErrorHandling } from '../../../src/http/error-handler.js';
import { useStrictJsonBodies } from '../../../src/http/json-body.js';
import type { RouteContext } from '../../../src/http/route-context.js';
import { inboxArea } from '../../../src/http/routes/inbox-routes.js';
import { installScopes } from '../../../src/http/scopes.js';
import { openLogEngine, type ObservableLogEngine } from '../../../src/log/index.js';
import { Inbox } from '../../../src/messaging/inbox/inbox.js';
import type { SentMessage } from '../../../src/messaging/messaging-wire.js';
import { NodeMetrics } from '../../../src/metrics/node-metrics.js';
import { openNamespaceServices, type NamespaceServices } from '../../../src/namespaces/namespace-services.js';
import { freePorts, genesisOf, makePeer, type TestPeer } from '../../federation/federation-fixture.js';
import { createNamespace, openOutboxNode, sendRequest, tempNodes, type OutboxNode } from './outbox-fixture.js';

/*
 * Two nodes over real HTTP: alpha's outbox delivers to beta's real Inbox behind its real peer
 * scope (RFC 9421 signatures checked against the registry), as a federation does.
 */

const ALPHA = 'alpha.vaultmesh.test';
const BETA = 'beta.vaultmesh.test';
const GAMMA = 'gamma.vaultmesh.test';
const A = 'dao:a';

/** A registry member made from a node's own identity (genesisOf signs with its auth key). */
function memberOf(identity: NodeIdentity, endpoint: string): TestPeer {
  const signer = new NoteSigner(peerAuthKeyName(identity.config.name), identity.peerSeed);
  return {
    id: identity.config.name,
    entry: { ...localPeerEntry(identity), endpoint },
    logSeed: identity.logSeed,
    authSeed: identity.peerSeed,
    witnessSeed: identity.witnessSeed,
    keyid: signer.keyId.toString(16).padStart(8, '0'),
  };
}

/** The receiving node: engine (a checkpoint every 20 ms), rules, registry, Inbox, and its inbox routes listening. */
class Receiver {
  identity!: NodeIdentity;
  engine!: ObservableLogEngine;
  namespaces!: NamespaceServices;
  store!: SqliteFederationStorage;
  registry!: FederationRegistry;
  inbox!: Inbox;
  app!: FastifyInstance;
  url = '';

  constructor(readonly dir: string) {}

  async open(): Promise<void> {
    const dir = this.dir;
    this.identity = loadNode(dir);
    this.engine = await openLogEngine({
      dbPath: this.identity.dbPath,
      nodeName: BETA,
      logSeed: this.identity.logSeed,
      checkpointIntervalMs: 20,
      synchronous: 'NORMAL',
    });
    this.namespaces = await openNamespaceServices({
      engine: this.engine,
      dataDir: dir,
      adminToken: this.identity.adminToken,
      operators: this.identity.governance,
      localOperator: { id: this.identity.operatorId, seed: this.identity.operatorSeed },
    });
    this.store = SqliteFederationStorage.open(join(dir, 'federation.sqlite'));
    this.registry = await FederationRegistry.open(this.store);
    this.inbox = await Inbox.open({
      engine: this.engine,
      nodeName: BETA,
      directory: this.namespaces.directory,
      schemas: this.namespaces.schemas,
      auth: this.namespaces.auth,
      registry: this.registry,
      checkpointNote: (_origin, cp) => cp.note,
      storage: await openInboxStorage({ kind: 'sqlite', dataDir: dir }),
    });
    this.app = Fastify();
    useStrictJsonBodies(this.app);
    installErrorHandling(this.app);
    const ctx = {
      engine: this.engine,
      nodeName: BETA,
      adminToken: this.identity.adminToken,
      namespaces: this.namespaces,
      metrics: new NodeMetrics(),
      inbox: this.inbox,
      federation: { registry: this.registry, store: this.store },
    } as unknown as RouteContext;
    installScopes(this.app, ctx, [inboxArea]);
  }

  async listen(): Promise<void> {
    this.url = await this.app.listen({ host: '127.0.0.1', port: 0 });
  }

  async close(): Promise<void> {
    await this.app.close();
    await this.inbox.close();
    await this.namespaces.close();
    await this.engine.close();
    await this.store.close();
  }
}

describe('delivery to another node over peer-signed requests', () => {
  const nodes = tempNodes('remembrancer-outbox-peer-');
  let sender: OutboxNode;
  let senderStore: SqliteFederationStorage;
  let receiver: Receiver;

  before(async () => {
    receiver = new Receiver(nodes.make(BETA));
    await receiver.open();
    await receiver.listen();
    const alphaDir = nodes.make(ALPHA);
    const alpha = loadNode(alphaDir);
    const [closedPort] = await freePorts(1);
    const genesis = genesisOf([
      memberOf(alpha, 'http://127.0.0.1:9'),
      memberOf(receiver.identity, receiver.url),
      makePeer(GAMMA, `http://127.0.0.1:${closedPort}`),
    ]);
    await receiver.registry.offer(genesis);
    senderStore = SqliteFederationStorage.open(join(alphaDir, 'federation.sqlite'));
    const registry = await FederationRegistry.open(senderStore);
    await registry.offer(genesis);
    sender = await openOutboxNode(alphaDir, {
      startMs: Date.now(),
      outbox: {
        registry,
        creds: peerCredentials(new NoteSigner(peerAuthKeyName(ALPHA), alpha.peerSeed).keyId, alpha.peerSeed),
        random: () => 0,
        now: () => Date.now(),
      },
    });
    await createNamespace(sender, A);
    await receiver.namespaces.directory.propose('create', 'dao:inbox', {
      messaging: { accept_from: [`${ALPHA}/${A}`] },
    });
    await receiver.namespaces.directory.propose('create', 'dao:vault', {
      visibility: 'private',
      messaging: { accept_from: [`${ALPHA}/*`] },
    });
  });
  after(async () => {
    await sender?.close();
    await senderStore?.close();
    await receiver?.close();
    nodes.cleanup();
  });

  async function view(s: SentMessage) {
    const v = await sender.outbox.status(A, s.id);
    assert.ok(v);
    return v;
  }

  test('public and private namespaces receive, the receipt verified with the registry log key', async () => {
    const sent = await sender.outbox.send(A, [
      sendRequest(`${BETA}/dao:inbox`),
      sendRequest(`${BETA}/dao:vault`, { action: 'invoke' }),
    ]);
    await sender.engine.publishCheckpoint(A);
    await sender.outbox.deliverNow();
    for (const [i, s] of sent.entries()) {
      const v = await view(s);
      assert.equal(v.state, 'delivered', JSON.stringify(v));
      const receipt = v.delivery!.receipt!;
      assert.ok(receipt, 'the target waited for a checkpoint and sent the receipt');
      const ns = i === 0 ? 'dao:inbox' : 'dao:vault';
      const check = verifyReceipt(receipt, { logVkeys: [receiver.engine.getNamespace(ns)!.logVkey] });
      assert.ok(check.ok, JSON.stringify(check.checks));
    }
    // invoke/record: the target appended the parameters, and its delivery record says where.
    const recordIndex = (await view(sent[1]!)).delivery!.entry.record_index;
    assert.ok(recordIndex !== undefined && (await receiver.engine.getEntry('dao:vault', recordIndex)));
  });

  test('a stream of many messages travels in several requests, in order, in one pass', async () => {
    const big = { blob: 'x'.repeat(2000) };
    const sent: SentMessage[] = [];
    for (let i = 0; i < 3; i++) {
      sent.push(
        ...(await sender.outbox.send(
          A,
          Array.from({ length: 200 }, (_, j) =>
            sendRequest(`${BETA}/dao:inbox`, { payload: { operation: 'record', parameters: { ...big, i, j } } }),
          ),
        )),
      );
    }
    await sender.engine.publishCheckpoint(A);
    await sender.outbox.deliverNow();
    const states = await Promise.all(sent.map(async (s) => (await view(s)).state));
    assert.ok(
      states.every((state) => state === 'delivered'),
      'all 600 delivered (600 × 2 KB is more than one request may carry)',
    );
    const seqs = (await receiver.inbox.page('dao:inbox', 0, 1000)).items.map(
      (item) => (item.message as { seq: number }).seq,
    );
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => i + 1),
    );
    assert.equal(seqs.length, 601);
  });

  test('an unreachable node is retried; a namespace the target lacks is refused', async () => {
    const [lost] = await sender.outbox.send(A, [sendRequest(`${GAMMA}/dao:x`)]);
    const [none] = await sender.outbox.send(A, [sendRequest(`${BETA}/dao:none`)]);
    await sender.engine.publishCheckpoint(A);
    await sender.outbox.deliverNow();
    const v = await view(lost!);
    assert.equal(v.state, 'sealed');
    assert.equal(v.error?.code, 'PEER_UNREACHABLE');
    assert.equal(v.attempts, 1);
    assert.ok(v.next_attempt_at);
    assert.equal((await view(none!)).state, 'refused');
    assert.equal((await view(none!)).error?.code, 'NAMESPACE_NOT_FOUND');
  });
});
