import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { loadNode, type NodeIdentity } from '../config/node-config.js';
import { buildHttpServer } from '../http/server.js';
import type { LogEngine, PublishedCheckpoint } from '../log/log-engine.js';
import { FederationRegistry } from '../federation/federation-registry.js';
import { openFederationStorage } from '../federation/open-federation-storage.js';
import { NoteSigner, base64Encode, errorMessage, peerAuthKeyName, peerWitnessKeyName } from '@vaultmesh/core';
import { Cosigner } from '../federation/cosigner.js';
import { cosignedCheckpointNote } from '../federation/cosigned-checkpoint.js';
import { FederationStatus } from '../federation/federation-status.js';
import { EpochEquivocationDetector } from '../federation/epoch-equivocation-detector.js';
import { EvidenceLedger } from '../federation/evidence-ledger.js';
import { EquivocationMonitor } from '../federation/equivocation-monitor.js';
import { Gossip } from '../federation/gossip.js';
import { peerCredentials } from '../federation/peer-client.js';
import { KeyRotationWatcher } from '../federation/key-rotation-watcher.js';
import { RegistryWitnessLogs } from '../federation/registry-witness-logs.js';
import { Witness, StaticWitnessLogs } from '../witness/index.js';
import { openWitnessStorage } from '../witness/open-witness-storage.js';
import { localPeerEntry } from '../federation/local-peer.js';
import { NodeMetrics } from '../metrics/node-metrics.js';
import { sampleFederationMetrics } from '../federation/federation-metrics.js';
import { openNamespaceServices } from '../namespaces/namespace-services.js';
import { SealedCheckpoints } from '../namespaces/sealing.js';
import { parseListenAddress } from './listen-address.js';
import { describeRepair, secureDataDir, setPrivateUmask } from './data-dir-permissions.js';
import { NODE_VERSION } from './node-version.js';
import { Lifecycle } from './lifecycle.js';
import { AnchoringService } from '../anchoring/anchoring-service.js';
import { openAnchorStorage } from '../anchoring/open-anchor-storage.js';
import { anchorTargets } from '../anchoring/anchor-targets.js';
import { sampleAnchoringMetrics } from '../anchoring/anchoring-metrics.js';
import { checkCadenceConfirmations } from '../anchoring/chain/cadence-confirmations.js';
import { Outbox } from '../messaging/outbox/index.js';
import { Inbox } from '../messaging/inbox/index.js';
import { openInboxStorage } from '../messaging/inbox/open-inbox-storage.js';
import { openOutboxStorage } from '../messaging/outbox/open-outbox-storage.js';
import { openInboxStreamCounts, openOutboxStreamCounts } from '../messaging/open-stream-counts.js';
import { NodeSeries } from '../metrics/node-series.js';
import { storageFromFlag } from '../config/storage-config.js';
import type { LeaseHolderInfo } from '../storage/postgres/sequencing-lease.js';
import { FrontEndRole, type SingletonWork } from './front-end-role.js';
import { openNodeStorage } from './node-storage.js';
import { leaseAtStart } from './lease-at-start.js';
import { leaseRouting } from './front-end-routing.js';
import { followSharedState } from './shared-state-following.js';

export interface RunningNode {
  identity: NodeIdentity;
  engine: LogEngine;
  app: FastifyInstance;
  /** Base URL actually bound, e.g. http://127.0.0.1:41234 */
  url: string;
  /** 'sqlite' or 'postgres': where this node keeps its state. */
  storage: 'sqlite' | 'postgres';
  /**
   * Resolves if this front end loses the sequencing lease (PostgreSQL; never with SQLite): its
   * singleton work has stopped and it should close — serve exits, and a supervisor starts it again
   * as a standby (docs/scale-out.md).
   */
  leaseLost: Promise<void>;
  /**
   * Whether this front end serves as the node now: always with SQLite; on PostgreSQL while it
   * holds the lease with all its work started. Otherwise it serves appends and reads and
   * forwards the rest to the holder.
   */
  leading(): boolean;
  close(): Promise<void>;
}

export interface RunNodeOptions {
  dataDir: string;
  /** Overrides the config's listen address. */
  listen?: string;
  /** Overrides the config's storage: "sqlite" or a postgres:// URL (serve --storage). */
  storage?: string;
  /** Told when this front end starts as a follower: another holds the sequencing lease (PostgreSQL). */
  onStandby?: (holder: LeaseHolderInfo | undefined) => void;
  logger?: Logger | false;
  /** Observes each start-up step by name before it runs (tests inject failures here). */
  onStep?: (step: string) => void;
}

/**
 * Opens a node's storage and serves its HTTP API until close(). Every component is started by
 * one Lifecycle, in order: a failure at any step stops what had started, in reverse, and close()
 * stops everything the same way (in-flight requests finish, and their appends commit, before
 * storage closes), leaving no timer, subscription, socket or open database behind.
 */
export async function runNode(options: RunNodeOptions): Promise<RunningNode> {
  // Private on disk: what the node creates is 0600/0700, and what is there is checked first.
  setPrivateUmask();
  const repaired = secureDataDir(options.dataDir);
  const identity = loadNode(options.dataDir);
  const { config } = identity;
  // Logs go to stderr: stdout belongs to the command's own output (serve's first line is its address).
  const logger = options.logger === undefined ? pino({ name: config.name }, pino.destination(2)) : options.logger;
  for (const r of repaired)
    if (logger)
      logger.warn(
        { path: r.path, from: r.from.toString(8), to: r.to.toString(8) },
        `repaired permissions: ${describeRepair(r)}`,
      );
  const fedLogger = logger || undefined;
  const life = new Lifecycle(fedLogger, options.onStep);
  try {
    return await startNode(options, identity, logger, life);
  } catch (e) {
    await life.stop().catch(() => undefined);
    throw e;
  }
}

async function startNode(
  options: RunNodeOptions,
  identity: NodeIdentity,
  logger: Logger | false,
  life: Lifecycle,
): Promise<RunningNode> {
  const { config } = identity;
  const fedLogger = logger || undefined;
  // Where every store opens: SQLite files in the data directory, or the node's PostgreSQL
  // database (issue 14), where this process runs the node only while it holds the lease.
  const storageConfig =
    options.storage === undefined ? identity.storage : storageFromFlag(options.storage, identity.storage);
  const nodeStorage = await life.open(
    'storage',
    () => openNodeStorage({ identity, storage: storageConfig, ...(fedLogger ? { logger: fedLogger } : {}) }),
    (s) => s.close(),
  );
  // On PostgreSQL a front end that finds the lease free runs the node from the start, as with
  // SQLite; the others open as followers: they append, read and forward, and compete for the
  // lease from then on (FrontEndRole below), catching up with the holder's state when they get it.
  const lease = nodeStorage.lease;
  const heldAtOpen =
    lease === undefined ||
    (await life.open(
      'sequencing lease',
      () => leaseAtStart(lease, options.onStandby, fedLogger),
      () => undefined,
    ));
  const target = nodeStorage.target;
  const engine = await life.open(
    'log engine',
    () =>
      nodeStorage.openEngine({
        checkpointIntervalMs: config.checkpointIntervalMs,
        minCheckpointIntervalMs: config.minCheckpointIntervalMs,
        batchMaxEntries: config.batchMaxEntries,
        batchMaxAgeMs: config.batchMaxAgeMs,
        queueMaxEntries: config.queueMaxEntries,
        synchronous: config.synchronous,
        leafIndex: config.leafIndex,
        ...(logger ? { logger } : {}),
      }),
    (e) => e.close(),
  );
  // Holding the lease (or alone on SQLite): this engine integrates and signs.
  if (heldAtOpen) await engine.lead();
  // Namespace rules are the replay of sys:governance; namespaces that predate it are recorded now.
  const namespaces = await life.open(
    'namespace rules',
    () =>
      openNamespaceServices({
        engine,
        dataDir: options.dataDir,
        storage: target,
        adminToken: identity.adminToken,
        operators: identity.governance,
        localOperator: { id: identity.operatorId, seed: identity.operatorSeed },
        ...(identity.anchoring.targets.size > 0 ? { cadenceTickMs: identity.anchoring.tickMs } : {}),
        checkCadence: (cadence) => checkCadenceConfirmations(cadence, identity.anchoring),
        ...(logger ? { logger } : {}),
      }),
    (n) => n.close(),
  );
  if (heldAtOpen)
    await life.open(
      'legacy namespaces',
      () => namespaces.directory.adoptLegacyNamespaces(),
      () => undefined,
    );
  const federationStore = await life.open(
    'federation store',
    () => openFederationStorage(target),
    (s) => s.close(),
  );
  const registry = await FederationRegistry.open(federationStore);
  const metrics = new NodeMetrics({ defaultMetrics: true });
  // One credentials object for every peer request and evidence signature this node makes: a key
  // rotation updates it in place (keyid and seed) and gossip, pushes and proofs follow at once.
  const creds = peerCredentials(
    new NoteSigner(peerAuthKeyName(config.name), identity.peerSeed).keyId,
    identity.peerSeed,
  );
  const ledger = await life.open(
    'evidence ledger',
    () =>
      EvidenceLedger.open({
        store: federationStore,
        registry,
        self: config.name,
        creds,
        metrics,
        ...(fedLogger ? { logger: fedLogger } : {}),
      }),
    (l) => l.close(),
  );
  const witness = await life.open(
    'witness',
    async () => {
      // Origins under evidence of equivocation are refused until a registry update settles them.
      // Made before the storage opens: a bad configuration leaves nothing open.
      const logs = new RegistryWitnessLogs(
        registry,
        config.witnessLogs && Object.keys(config.witnessLogs).length > 0
          ? new StaticWitnessLogs(config.witnessLogs)
          : undefined,
        (origin) => ledger.refused(origin),
      );
      return new Witness({
        storage: await openWitnessStorage(target),
        name: peerWitnessKeyName(config.name),
        seed: identity.witnessSeed,
        logs,
      });
    },
    (w) => w.close(),
  );
  // Rotated keys take effect without a restart: the witness signs with the new key, and every peer
  // request and evidence signature from then on uses the new auth key.
  await life.open(
    'key rotation watcher',
    () =>
      new KeyRotationWatcher({
        identity,
        registry,
        witness,
        onPeerKey: (seed) =>
          Object.assign(creds, peerCredentials(new NoteSigner(peerAuthKeyName(config.name), seed).keyId, seed)),
        ...(fedLogger ? { logger: fedLogger } : {}),
      }),
    (w) => w.stop(),
  );
  const monitor = await life.open(
    'equivocation monitor',
    () =>
      new EquivocationMonitor({
        self: config.name,
        registry,
        ledger,
        witnessed: (origin) => witness.checkpointFor(origin),
        creds,
        metrics,
        ...(fedLogger ? { logger: fedLogger } : {}),
      }),
    (m) => m.stop(),
  );
  await life.open(
    'witness conflicts to the monitor',
    () =>
      witness.onConflict((conflict) => {
        void monitor
          .onWitnessConflict(conflict)
          .catch((e: unknown) =>
            fedLogger?.error({ origin: conflict.origin, err: errorMessage(e) }, 'checking a witness conflict failed'),
          );
      }),
    (unsubscribe) => unsubscribe(),
  );
  const gossip = new Gossip({
    self: config.name,
    registry,
    ledger,
    monitor,
    creds,
    intervalMs: config.gossipIntervalMs || 1000,
    metrics,
    ...(fedLogger ? { logger: fedLogger } : {}),
  });
  // A checkpoint is sealed once the witnesses its namespace's policy names have cosigned it.
  const sealing = new SealedCheckpoints({
    engine,
    registry,
    store: federationStore,
    witnessPolicy: (ns) => namespaces.directory.rules(ns)?.spec.witness_policy,
  });
  const cosigner = new Cosigner({
    engine,
    registry,
    store: federationStore,
    self: config.name,
    // A namespace whose witness policy allowlists this node is cosigned by its own witness too.
    selfWitness: (ns) => namespaces.directory.rules(ns)?.spec.witness_policy.allowlist.includes(config.name) ?? false,
    onCosignature: (ns) => sealing.invalidate(ns),
    metrics,
    ...(logger ? { logger } : {}),
  });
  const checkpointNote = (origin: string, cp: PublishedCheckpoint) =>
    cosignedCheckpointNote(federationStore, origin, cp);
  const status = new FederationStatus(config.name, registry, cosigner, {
    gossip,
    ledger,
    monitor,
    witnessed: () => witness.witnessedOrigins(),
  });
  // Collaborative anchoring: this node's leaves, its one-root-per-epoch signer and the epoch
  // coordinator (docs/anchoring.md); its store opens now, its timers start after the server.
  const anchoring = await life.open(
    'anchoring store',
    async () =>
      new AnchoringService({
        storage: await openAnchorStorage(target),
        self: config.name,
        config: identity.anchoring,
        registry,
        engine,
        sealing,
        cadence: namespaces.cadence,
        checkpointNote: (origin, cp) => cosignedCheckpointNote(federationStore, origin, cp),
        witnessPolicy: (ns) => namespaces.directory.rules(ns)?.spec.witness_policy,
        creds,
        targets: anchorTargets(identity.anchoring),
        // A peer's second root for one epoch becomes evidence in the ledger (docs/anchoring.md).
        watch: new EpochEquivocationDetector({
          self: config.name,
          registry,
          ledger,
          store: federationStore,
          ...(fedLogger ? { logger: fedLogger } : {}),
        }),
        ...(fedLogger ? { logger: fedLogger } : {}),
      }),
    (a) => a.close(),
  );
  // Cross-namespace messages (docs/messaging.md): the outbox sends, the inbox receives; the outbox
  // exists first, as the inbox asks it which answers are replies to this node's own queries.
  const outbox = await life.open(
    'outbox',
    async () =>
      Outbox.open({
        storage: await openOutboxStorage(target),
        self: config.name,
        engine,
        admission: namespaces.admission,
        sealing,
        checkpointNote,
        registry,
        creds,
        // A follower writes nothing: it recovers when it gets the lease (holderState below).
        recoverAtOpen: heldAtOpen,
        ...(fedLogger ? { logger: fedLogger } : {}),
      }),
    (o) => o.close(),
  );
  const inbox = await life.open(
    'inbox',
    async () =>
      Inbox.open({
        engine,
        nodeName: config.name,
        directory: namespaces.directory,
        schemas: namespaces.schemas,
        auth: namespaces.auth,
        registry,
        checkpointNote,
        replyLinker: outbox,
        // The entries the inbox appends count against the namespace's quota and rate, as writes do.
        admit: (ns, entries) => {
          const admitted = namespaces.admission.admitNodeBuilt(ns, entries);
          return () => admitted.release();
        },
        storage: await openInboxStorage(target),
        recoverAtOpen: heldAtOpen,
        metrics,
        ...(fedLogger ? { logger: fedLogger } : {}),
      }),
    (i) => i.close(),
  );
  outbox.attachLocalInbox(inbox);
  // The explorer's Messages page: counting streams by state where the outbox and inbox keep them.
  const outboxStreams = await life.open(
    'outbox stream counts',
    () => openOutboxStreamCounts(target),
    (c) => c.close(),
  );
  const inboxStreams = await life.open(
    'inbox stream counts',
    () => openInboxStreamCounts(target),
    (c) => c.close(),
  );
  // The explorer's live chart: the last hour, sampled from timers (started with the other timers below).
  const series = new NodeSeries({
    engine,
    metrics,
    anchoring: () => anchoring.status(),
    onError: (e) => fedLogger?.warn({ err: errorMessage(e) }, 'sampling the time series failed'),
  });
  // What only the node's one serving front end runs (all of it, with SQLite), started in this
  // order when it holds the lease and stopped in reverse when it closes or loses it: the role
  // stops after the HTTP server (in-flight appends are integrated and signed first) and before
  // the stores close.
  let lost!: () => void;
  const leaseLost = new Promise<void>((resolve) => (lost = resolve));
  // A follower catches up once, when it gets the lease; a front end that held it at open has.
  let caughtUp = heldAtOpen;
  const work: SingletonWork[] = [
    // First, so that any loss or failed start ends with it: serve exits for its supervisor.
    { name: 'lease loss', start: () => undefined, stop: (graceful) => (graceful ? undefined : lost()) },
    {
      name: 'log engine',
      start: () => engine.lead(),
      stop: (graceful) => (graceful ? engine.stepDown() : engine.follow()),
    },
    {
      name: "the previous holder's state",
      start: async () => {
        if (caughtUp) return;
        await registry.refresh();
        await ledger.reload();
        await namespaces.directory.catchUp();
        await namespaces.directory.reapplyEffects();
        await namespaces.directory.adoptLegacyNamespaces();
        await inbox.recover();
        await outbox.recover();
        caughtUp = true;
      },
      stop: () => undefined,
    },
    { name: 'cosigner', start: () => cosigner.start(), stop: () => cosigner.stop() },
    // Before the cadence timers: no due event may pass while nobody listens.
    { name: 'anchoring', start: () => anchoring.start(), stop: () => anchoring.stop() },
    { name: 'message delivery', start: () => outbox.start(), stop: () => outbox.stop() },
    { name: 'namespace timers', start: () => namespaces.start(), stop: () => namespaces.stop() },
    ...(config.gossipIntervalMs > 0
      ? [{ name: 'gossip', start: () => gossip.start(), stop: () => gossip.stop() }]
      : []),
  ];
  const role = await life.open(
    'front-end role',
    () =>
      new FrontEndRole(
        lease,
        // Each start is a step as the others are (tests inject failures by name).
        work.map((w) => ({ ...w, start: () => (options.onStep?.(w.name), w.start()) })),
        fedLogger,
      ),
    (r) => r.stop(),
  );
  if (lease !== undefined)
    await life.open(
      'shared state following',
      () =>
        followSharedState({
          directory: namespaces.directory,
          registry,
          sealing,
          ...(fedLogger ? { logger: fedLogger } : {}),
        }),
      (stop) => stop(),
    );
  // Where the server listens, known once it does.
  const bound: { url?: string } = {};
  const app = buildHttpServer({
    engine,
    namespaces,
    ...(config.explorerDir !== undefined ? { explorerDir: resolve(options.dataDir, config.explorerDir) } : {}),
    sealing,
    nodeName: config.name,
    version: NODE_VERSION,
    // Without a configured endpoint, the node is where it actually listens (a --listen override or
    // port 0 included); no request is served before that is known.
    self: () => {
      const entry = localPeerEntry(identity);
      return config.endpoint !== undefined || bound.url === undefined ? entry : { ...entry, endpoint: bound.url };
    },
    witness,
    federation: { registry, status, store: federationStore, ledger, witnessed: () => witness.witnessedOrigins() },
    onMetricsScrape: async () => {
      sampleFederationMetrics(await status.status(), metrics);
      sampleAnchoringMetrics(await anchoring.status(), metrics);
    },
    checkpointNote,
    witnessState: async (origin, cp) => {
      const reg = registry.latest();
      return reg
        ? {
            cosignatures: (await federationStore.cosignatures(origin, cp.size, base64Encode(cp.root))).length,
            required: reg.quorum.witness,
          }
        : undefined;
    },
    adminToken: identity.adminToken,
    metrics,
    anchoring,
    inbox,
    outbox,
    series,
    messageStreams: { outbox: outboxStreams, inbox: inboxStreams },
    bodyLimitBytes: config.bodyLimitBytes,
    ...(config.http ? { limits: config.http } : {}),
    ...(lease !== undefined ? { frontEnd: leaseRouting(lease, nodeStorage.frontEnd, () => role.serving) } : {}),
    ...(logger ? { logger } : {}),
  });
  const { host, port } = parseListenAddress(options.listen ?? config.listen);
  // Closing the server lets in-flight requests finish (their appends commit) before storage,
  // opened earlier, closes later in the reverse order.
  await life.open(
    'http server',
    () => app.listen({ host, port }),
    () => app.close(),
  );
  const addr = app.server.address();
  const boundPort = typeof addr === 'object' && addr ? addr.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
  bound.url = url;
  await life.open(
    'time series',
    () => series.start(),
    () => series.stop(),
  );
  // The lease row tells followers where to forward; then the role is taken (or competed for).
  lease?.advertise(url);
  await role.start();
  return {
    identity,
    engine,
    app,
    url,
    storage: nodeStorage.kind,
    leaseLost,
    leading: () => role.serving,
    close: () => life.stop(),
  };
}
