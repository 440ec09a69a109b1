import { join } from 'node:path';
import { witnessOriginHash, type MessageDelivery } from '@vaultmesh/core';
import type { AnchorStorage } from '../../../src/anchoring/anchor-storage.js';
import type { ChainEpochKey } from '../../../src/anchoring/chain/chain-journal-records.js';
import { PgAnchorStorage } from '../../../src/anchoring/pg-anchor-storage.js';
import { SqliteAnchorStorage } from '../../../src/anchoring/sqlite-anchor-storage.js';
import type { FederationStorage } from '../../../src/federation/federation-storage.js';
import { PgFederationStorage } from '../../../src/federation/pg-federation-storage.js';
import { SqliteFederationStorage } from '../../../src/federation/sqlite-federation-storage.js';
import type { NewInboxRow } from '../../../src/messaging/inbox/inbox-record.js';
import type { InboxStorage } from '../../../src/messaging/inbox/inbox-storage.js';
import { INBOX_DB_FILE } from '../../../src/messaging/inbox/inbox-store.js';
import { PgInboxStorage } from '../../../src/messaging/inbox/pg-inbox-storage.js';
import { SqliteInboxStorage } from '../../../src/messaging/inbox/sqlite-inbox-storage.js';
import type { OutboxRow, StreamRef } from '../../../src/messaging/outbox/outbox-row.js';
import type { OutboxStorage } from '../../../src/messaging/outbox/outbox-storage.js';
import { OUTBOX_DB_FILE } from '../../../src/messaging/outbox/outbox-store.js';
import { PgOutboxStorage } from '../../../src/messaging/outbox/pg-outbox-storage.js';
import { SqliteOutboxStorage } from '../../../src/messaging/outbox/sqlite-outbox-storage.js';
import type { CadenceStorage } from '../../../src/namespaces/cadence-storage.js';
import { CADENCE_DB_FILE } from '../../../src/namespaces/cadence-store.js';
import { PgCadenceStorage } from '../../../src/namespaces/pg-cadence-storage.js';
import { SqliteCadenceStorage } from '../../../src/namespaces/sqlite-cadence-storage.js';
import { PgWitnessStorage } from '../../../src/witness/pg-witness-storage.js';
import { SqliteWitnessStorage } from '../../../src/witness/sqlite-witness-storage.js';
import type { WitnessConflict, WitnessedCheckpoint } from '../../../src/witness/witness-records.js';
import type { WitnessStorage } from '../../../src/witness/witness-storage.js';
import { WITNESS_DB_FILE } from '../../../src/witness/witness.js';
import { federation } from '../../../../core/test/anchoring/federation.js';
import { TARGET, attempt, finalization } from '../../anchoring/anchor-storage-fixtures.js';
import { inboxOffer, offerKey as keyOf } from '../../messaging/inbox/inbox-offers.js';
import { cadenceRow } from '../../namespaces/cadence-fixtures.js';

/**
 * Every store of a node but the log, as `remembrancer migrate` must carry it over: how to fill
 * its SQLite file through its own storage class with realistic rows (several per table, blobs,
 * nulls, unicode), and every read its interface offers, so the PostgreSQL copy can be asked the
 * same questions and must answer the same. `write` is one more write of each identity column
 * (ids, cursors), made on both sides after the copy: the next key PostgreSQL hands out must be
 * the one SQLite would have.
 */
export interface StoreUnderMigration<S> {
  what: string;
  sqlite(dataDir: string): Promise<S>;
  postgres(url: string): Promise<S>;
  fill(s: S): Promise<void>;
  /** Named answers to every read, in a stable order. */
  reads(s: S): Promise<Record<string, unknown>>;
  /** Resolves to what the write answered (compared too). */
  write?(s: S): Promise<unknown>;
  close(s: S): Promise<void>;
}

const hash = (fill: number): Uint8Array => new Uint8Array(32).fill(fill);
const UNICODE = 'é ✓ 🌍 ñandú';

// --- witness ---------------------------------------------------------------------------------

const ORIGINS = ['example.com/log', 'Zeta/log', `ünïcode.test/${UNICODE}`];

const checkpoint = (origin: string, size: number): WitnessedCheckpoint => ({
  origin,
  originHash: witnessOriginHash(origin),
  size,
  root: hash(size % 256),
  note: `${origin}\n${size}\nroot\n\n— witness ${UNICODE}\n`,
  cosignedAt: 1_700_000_000 + size,
  updatedAt: new Date(1_700_000_000_000 + size).toISOString(),
});

const conflict = (origin: string, n: number, proofLength: number): WitnessConflict => ({
  origin,
  reason: proofLength === 0 ? 'same-size-different-root' : 'inconsistent-proof',
  storedNote: `${origin}\n5\nstored\n`,
  offeredNote: `${origin}\n${n}\noffered ${n} ${UNICODE}\n`,
  oldSize: 5,
  proof: Array.from({ length: proofLength }, (_, i) => hash(n + i)),
  observedAt: new Date(1_700_000_000_000 + n).toISOString(),
});

const witness: StoreUnderMigration<WitnessStorage> = {
  what: 'witness',
  sqlite: async (dir) => SqliteWitnessStorage.open(join(dir, WITNESS_DB_FILE)),
  postgres: (url) => PgWitnessStorage.open({ db: url }),
  async fill(s) {
    const checkpoints = ORIGINS.map((o, i) => checkpoint(o, 10 * (i + 1)));
    const conflicts = [conflict(ORIGINS[0]!, 1, 3), conflict(ORIGINS[0]!, 2, 0), conflict(ORIGINS[2]!, 3, 1)];
    await s.updateCheckpoints(ORIGINS, () => ({ checkpoints, conflicts, result: undefined }));
  },
  async reads(s) {
    const out: Record<string, unknown> = { list: await s.list(), conflicts: await s.conflicts() };
    for (const o of [...ORIGINS, 'never.test/log']) {
      out[`get ${o}`] = await s.get(o);
      out[`byHash ${o}`] = await s.getByOriginHash(witnessOriginHash(o));
      out[`conflicts ${o}`] = await s.conflicts(o, 2);
    }
    return out;
  },
  async write(s) {
    // A conflict already held (found by its offered note's digest in PostgreSQL) and a new one.
    const again = [conflict(ORIGINS[0]!, 1, 3), conflict(ORIGINS[0]!, 9, 2)];
    return (await s.updateCheckpoints([], () => ({ checkpoints: [], conflicts: again, result: 0 }))).newConflicts;
  },
  close: (s) => s.close(),
};

// --- federation ------------------------------------------------------------------------------

const EVIDENCE = ['d1', 'd2', 'd3'];

const federationStore: StoreUnderMigration<FederationStorage> = {
  what: 'federation',
  sqlite: async (dir) => SqliteFederationStorage.open(join(dir, 'federation.sqlite')),
  postgres: (url) => PgFederationStorage.open({ db: url }),
  async fill(s) {
    await s.addRegistryVersion(federation('hybrid', 1), '2026-01-01T00:00:00Z');
    await s.addRegistryVersion(federation('collaborative', 2), '2026-02-01T00:00:00Z');
    for (let i = 0; i < 3; i++) await s.rememberNonce(`key${i}`, `nonce-${i}-${UNICODE}`, 1_000 + i, 0);
    for (const w of ['beta/witness', 'Alpha/witness', 'gamma/witness'])
      await s.addCosignature('alpha/dao:one', 7, 'root7', w, `— ${w} sig`, 1_700_000_000);
    await s.addCosignature('alpha/dao:one', 8, 'root8', 'beta/witness', '— beta sig', 1_700_000_001);
    for (const [i, d] of EVIDENCE.entries())
      await s.addEvidence(
        d,
        i === 2 ? 'beta/dao:two' : 'alpha/dao:one',
        { z: i, text: UNICODE },
        `2026-03-0${i + 1}`,
        i,
      );
    for (const [i, signer] of ['alpha', 'beta', 'gamma'].entries())
      await s.firstEpochSignature(`${TARGET}/${i % 2}`, signer, { epoch: i, note: UNICODE }, `sig-${i}`, 5_000 + i, 0);
    await s.markEvidenceDelivered('d1', 'peer-b', '2026-03-05');
    await s.markEvidenceDelivered('d1', 'Peer-a', '2026-03-06');
    await s.markEvidenceDelivered('d2', 'peer-b', '2026-03-07');
  },
  async reads(s) {
    const out: Record<string, unknown> = {
      registryVersions: await s.registryVersions(),
      latestRegistry: await s.latestRegistry(),
      evidence: await s.evidence(),
      'evidence alpha': await s.evidence('alpha/dao:one'),
      'cosignatures 7': await s.cosignatures('alpha/dao:one', 7, 'root7'),
      'cosignatures 8': await s.cosignatures('alpha/dao:one', 8, 'root8'),
      'cosignatures other root': await s.cosignatures('alpha/dao:one', 8, 'other'),
    };
    for (const d of [...EVIDENCE, 'none']) out[`deliveries ${d}`] = await s.evidenceDeliveries(d);
    // Read-check-writes that write nothing here: known nonces are refused, first signatures held.
    for (let i = 0; i < 4; i++) out[`nonce ${i}`] = await s.rememberNonce(`key${i}`, `nonce-${i}-${UNICODE}`, 9, 0);
    for (const [i, signer] of ['alpha', 'beta'].entries())
      out[`first ${signer}`] = await s.firstEpochSignature(`${TARGET}/${i % 2}`, signer, { other: 1 }, 'later', 9, 0);
    return out;
  },
  close: (s) => s.close(),
};

// --- cadence ---------------------------------------------------------------------------------

const CADENCE_NAMESPACES = ['dao:vaultmesh', 'Zed:ns', `fin:${UNICODE}`];

const cadence: StoreUnderMigration<CadenceStorage> = {
  what: 'cadence',
  sqlite: async (dir) => SqliteCadenceStorage.open(join(dir, CADENCE_DB_FILE)),
  postgres: (url) => PgCadenceStorage.open({ db: url }),
  async fill(s) {
    await s.put(cadenceRow());
    await s.put(
      cadenceRow({ level: 'cold', target: 'bitcoin:regtest', every: '1d', periodMs: 86_400_000, confirmations: 6 }),
    );
    await s.put(cadenceRow({ namespace: 'Zed:ns', level: 'strong', nextDueMs: 50, lastDueMs: 40, dueCount: 3 }));
    await s.put(cadenceRow({ namespace: CADENCE_NAMESPACES[2], nextDueMs: 10 }));
    await s.setAppliedAt('dao:vaultmesh', 1_000);
    await s.setAppliedAt('Zed:ns', 2_000);
  },
  async reads(s) {
    const out: Record<string, unknown> = { namespaces: await s.namespaces(), due: await s.due(400_000) };
    for (const n of [...CADENCE_NAMESPACES, 'none']) {
      out[`levels ${n}`] = await s.levels(n);
      out[`appliedAt ${n}`] = await s.appliedAt(n);
    }
    return out;
  },
  close: (s) => s.close(),
};

// --- anchoring and its chain journal ---------------------------------------------------------

const ONE = 'alpha/dao:one';
const OWN = new Map([[ONE, 'dao:one']]);
const key = (epoch: number, mode: ChainEpochKey['mode'] = 'collaborative', node = ''): ChainEpochKey => ({
  target: TARGET,
  epoch,
  mode,
  node,
});

const anchoring: StoreUnderMigration<AnchorStorage> = {
  what: 'anchoring',
  sqlite: (dir) => Promise.resolve(new SqliteAnchorStorage(join(dir, 'anchoring.sqlite'))),
  postgres: (url) => PgAnchorStorage.open({ db: url }),
  async fill(s) {
    await s.markDue(TARGET, 'dao:one', 1_000, 7);
    await s.markDue(TARGET, `dao:${UNICODE}`, 1_100, 2);
    await s.markDue('other-target', 'dao:one', 1_200, 1);
    await s.markDueSeen('dao:one', 'fast', TARGET, 900);
    await s.handleDue(
      { namespace: 'dao:two', level: 'strong', target: TARGET, dueAtMs: 950 },
      { kind: 'queue', namespace: 'dao:two', sealedSize: 4 },
    );
    const f = finalization(11, 7);
    await s.recordSignedRoot({ statement: f.statement, leaves: f.leaves, sig: 'S1', signedAt: 't1' });
    await s.recordFinalized(f, OWN, 5);
    await s.recordFinalized(finalization(11, 7, 'BBBB'), OWN, 6); // a duplicate anchor of its root
    const g = finalization(12, 9);
    await s.recordSignedRoot({ statement: g.statement, leaves: g.leaves, sig: 'S2', signedAt: `t2 ${UNICODE}` });
    await s.recordFinalized(g, OWN, 7);
    await s.recordFinalized(finalization(12, 9, 'CCCC'), OWN, 7);
    await s.markEpoch(TARGET, 13, 'collaborative', '', 'abandoned', 8);
    await s.markEpoch(TARGET, 14, 'independent', 'node-a', 'empty', 9);
    await s.bump('anchors_total', TARGET);
    await s.bump('anchors_total', 'other-target', 3);
    await s.bump('failures_total', TARGET);
    await s.recordFailure(TARGET, 13, `timeout ${UNICODE}`, 10);
    await s.recordFailure(TARGET, null, 'no quorum', 11);
    await s.recordFailure('other-target', 2, 'refused', 12);
    await s.chain.add(key(15), attempt('b1'), 100, 'fee 2 sat/vB');
    await s.chain.add(key(15), attempt('a2', 'b1'), 110, 'replaces b1');
    await s.chain.markSent(key(15), 'b1', 200, 'sent', 'to node');
    await s.chain.see(key(15), 'b1', { state: 'included', blockHash: 'bb', height: 7, confirmations: 2 }, 300, {
      name: 'included',
      detail: `in bb ${UNICODE}`,
    });
    await s.chain.add(key(16, 'independent', 'node-a'), attempt('c3'), 400, 'd');
    await s.chain.see(
      key(16, 'independent', 'node-a'),
      'c3',
      {
        state: 'final',
        blockHash: 'cc',
        height: 9,
        confirmations: 6,
        cost: { kind: 'btc', vbytes: 150, feeSats: '300' },
      },
      500,
    );
    await s.chain.note(key(15), 'a2', 'dropped', 'mempool full', 600);
  },
  async reads(s) {
    const out: Record<string, unknown> = {
      counters: [...(await s.counters())].map(([name, labels]) => [name, [...labels]]),
      lastFinalized: await s.lastFinalized(TARGET),
      epochs: await s.epochs(TARGET, 100, 10),
      inFlight: [...(await s.inFlightSizes(TARGET, 0, 100, 0))],
      'chain inFlight': await s.chain.inFlight(TARGET),
      'chain finalCosts': await s.chain.finalCosts(TARGET),
      'chain recent': await s.chain.recentEvents(TARGET, 10),
      'chain attempts 15': await s.chain.attempts(key(15)),
      'chain attempts 16': await s.chain.attempts(key(16, 'independent', 'node-a')),
      'chain events 15': await s.chain.events(TARGET, 15),
      'dueSeen fast': await s.dueSeen('dao:one', 'fast', TARGET),
      'dueSeen strong': await s.dueSeen('dao:two', 'strong', TARGET),
      'dueSeen none': await s.dueSeen('dao:none', 'fast', TARGET),
      'covering 6': await s.anchorsCovering(ONE, 6),
      'covering 8': await s.anchorsCovering(ONE, 8),
    };
    for (const t of [TARGET, 'other-target']) {
      out[`due ${t}`] = await s.due(t);
      out[`dueCount ${t}`] = await s.dueCount(t);
      out[`anchored ${t}`] = await s.anchoredSize(t, ONE);
      out[`failures ${t}`] = await s.failures(t);
    }
    for (const e of [11, 12, 13]) {
      out[`signedRoot ${e}`] = await s.signedRoot(TARGET, e, 'collaborative');
      out[`epoch ${e}`] = await s.epoch(TARGET, e, 'collaborative', '');
    }
    out['epoch 14'] = await s.epoch(TARGET, 14, 'independent', 'node-a');
    return out;
  },
  async write(s) {
    await s.recordFailure(TARGET, 17, 'after the copy', 20);
    await s.chain.note(key(15), 'b1', 'after the copy', 'd', 700);
  },
  close: (s) => s.close(),
};

// --- outbox ----------------------------------------------------------------------------------

const outboxRow = (namespace: string, node: string, seq: number, index: number): OutboxRow => ({
  id: `${namespace}#${index}`.padStart(64, '0'),
  namespace,
  index,
  target: { node, namespace: 'dao:inbox' },
  seq,
  action: 'notify',
  operation: `op ${UNICODE}`,
  sentAt: '2026-12-05T00:00:00.000Z',
  expiresAt: '2026-12-06T00:00:00.000Z',
  ...(seq === 2 ? { inReplyTo: 'q'.repeat(64) } : {}),
  state: 'queued',
  attempts: 0,
  nextAttemptMs: 0,
  receiptAttempts: 0,
});

const OUTBOX_ROWS = [
  outboxRow('dao:a', 'beta.test', 1, 3),
  outboxRow('dao:a', 'beta.test', 2, 4),
  outboxRow('dao:a', 'Gamma.test', 1, 5),
  outboxRow('dao:b', 'beta.test', 1, 2),
];
const STREAMS: StreamRef[] = OUTBOX_ROWS.map((r) => ({ namespace: r.namespace, target: r.target }));

const outbox: StoreUnderMigration<OutboxStorage> = {
  what: 'outbox',
  sqlite: async (dir) => SqliteOutboxStorage.open(join(dir, OUTBOX_DB_FILE)),
  postgres: (url) => PgOutboxStorage.open({ db: url }),
  async fill(s) {
    await s.recordSent(OUTBOX_ROWS, [
      { namespace: 'dao:a', from: 0, to: 6 },
      { namespace: 'dao:b', from: 0, to: 3 },
    ]);
    await s.markSealed('dao:a', 5, 1_000);
    const [delivered, refused] = [OUTBOX_ROWS[0]!, OUTBOX_ROWS[2]!];
    await s.update([
      {
        id: delivered.id,
        state: 'delivered',
        attempts: 1,
        nextAttemptMs: 0,
        receiptAttempts: 2,
        // The store keeps the record as JSON; its shape is the messaging layer's concern.
        delivery: { index: 40, entry: { type: 'delivery', note: UNICODE } as unknown as MessageDelivery },
      },
      {
        id: refused.id,
        state: 'refused',
        attempts: 3,
        nextAttemptMs: 0,
        receiptAttempts: 0,
        error: { code: 'MESSAGE_EXPIRED', message: `late ${UNICODE}` },
      },
    ]);
    await s.addReply('q'.repeat(64), OUTBOX_ROWS[1]!.id);
    await s.addReply('q'.repeat(64), 'r'.repeat(64));
  },
  async reads(s) {
    const out: Record<string, unknown> = {
      streamSeqs: await s.streamSeqs(),
      queuedNamespaces: await s.queuedNamespaces(),
      'heads deliver': await s.heads('deliver'),
      'heads receipt': await s.heads('receipt'),
      replies: await s.replies('q'.repeat(64)),
      'replies none': await s.replies('none'),
    };
    for (const n of ['dao:a', 'dao:b', 'dao:c']) out[`scanMark ${n}`] = await s.scanMark(n);
    for (const r of OUTBOX_ROWS) out[`row ${r.id}`] = await s.row(r.id);
    for (const [i, st] of STREAMS.entries())
      for (const lane of ['deliver', 'receipt'] as const) out[`stream ${i} ${lane}`] = await s.streamRows(lane, st, 10);
    return out;
  },
  close: (s) => s.close(),
};

// --- inbox -----------------------------------------------------------------------------------

const NS = 'dao:b';
const SRC = `alpha.test/${UNICODE}`;

/** A second stream, into another namespace. */
const OTHER = { namespace: 'dao:c', origin: 'beta.test/dao:x' };

const inboxMessage = (seq: number, sourceIndex = seq + 100, origin = SRC, namespace = NS): NewInboxRow =>
  inboxOffer(seq, sourceIndex, origin, namespace, UNICODE);

/** Admits and applies messages as the inbox does: intent, then outcome, listed as items, the stream moved on. */
async function applyMessages(s: InboxStorage, ms: readonly NewInboxRow[]): Promise<void> {
  const { namespace, sourceOrigin } = ms[0]!;
  await s.admit(namespace, sourceOrigin, ms);
  await s.settle({
    namespace,
    transitions: ms.map((m) => ({ ...keyOf(m), to: 'applying', delivery: `d${m.seq}` })),
    advance: [],
  });
  await s.settle({
    namespace,
    transitions: ms.map((m) => ({
      ...keyOf(m),
      to: 'applied',
      delivery: `d${m.seq}`,
      deliveryIndex: m.seq * 10,
      listed: true,
    })),
    advance: [sourceOrigin],
    initialScanMark: 0,
    raiseScanMark: 30,
  });
}

const inbox: StoreUnderMigration<InboxStorage> = {
  what: 'inbox',
  sqlite: async (dir) => SqliteInboxStorage.open(join(dir, INBOX_DB_FILE)),
  postgres: (url) => PgInboxStorage.open({ db: url }),
  async fill(s) {
    await applyMessages(s, [inboxMessage(1), inboxMessage(2)]);
    await applyMessages(s, [inboxMessage(1, 7, OTHER.origin, OTHER.namespace)]);
    await s.admit(NS, SRC, [inboxMessage(3), inboxMessage(5)]);
    await s.settle({
      namespace: NS,
      transitions: [{ ...keyOf(inboxMessage(3)), to: 'refused', code: 'MESSAGE_EXPIRED', message: `late ${UNICODE}` }],
      advance: [SRC],
    });
    await s.settle({
      namespace: NS,
      transitions: [{ ...keyOf(inboxMessage(5)), to: 'applying', delivery: 'd5' }],
      advance: [],
    });
    await s.settle({
      namespace: NS,
      transitions: [{ ...keyOf(inboxMessage(5)), to: 'recorded', recordIndex: 77 }],
      advance: [],
    });
  },
  async reads(s) {
    const out: Record<string, unknown> = {
      items: await s.items(NS, 0, 100),
      'items after 1': await s.items(NS, 1, 1),
      'items other': await s.items(OTHER.namespace, 0, 100),
      'lastCursor other': await s.lastCursor(OTHER.namespace),
      'scanMark other': await s.scanMark(OTHER.namespace),
      'stream other': await s.streamFrom(OTHER.namespace, OTHER.origin, 1, 10),
      'nextSeq other': await s.nextSeq(OTHER.namespace, OTHER.origin),
      lastCursor: await s.lastCursor(NS),
      scanMark: await s.scanMark(NS),
      'scanMark none': await s.scanMark('dao:none'),
      recordIndexes: await s.recordIndexesFrom(NS, 0),
      applying: await s.applyingRows(),
      nextSeq: await s.nextSeq(NS, SRC),
      'nextSeq none': await s.nextSeq(NS, 'never.test/x'),
      stream: await s.streamFrom(NS, SRC, 1, 10),
    };
    for (const q of [1, 2, 3, 5, 6]) {
      const m = inboxMessage(q);
      out[`get ${q}`] = await s.get(m.sourceOrigin, m.sourceIndex);
      out[`bySeq ${q}`] = await s.bySeq(NS, SRC, q);
      out[`messageIdAt ${q}`] = await s.messageIdAt(m.sourceOrigin, m.sourceIndex);
    }
    return out;
  },
  async write(s) {
    await applyMessages(s, [inboxMessage(4)]);
  },
  close: (s) => s.close(),
};

/** One store's checks with its storage type hidden, so stores of every type go in one list. */
export interface MigratedStoreCheck {
  what: string;
  /** Fills the store's SQLite file in the data directory. */
  fill(dataDir: string): Promise<void>;
  /** The answers of the store in SQLite (a data directory) or PostgreSQL (a URL), after `write` when asked. */
  answers(place: { dataDir: string } | { url: string }, afterWrite: boolean): Promise<Record<string, unknown>>;
}

function check<S>(store: StoreUnderMigration<S>): MigratedStoreCheck {
  const open = (place: { dataDir: string } | { url: string }) =>
    'url' in place ? store.postgres(place.url) : store.sqlite(place.dataDir);
  return {
    what: store.what,
    async fill(dataDir) {
      const s = await store.sqlite(dataDir);
      try {
        await store.fill(s);
      } finally {
        await store.close(s);
      }
    },
    async answers(place, afterWrite) {
      const s = await open(place);
      try {
        const written = afterWrite ? { write: await store.write?.(s) } : {};
        return { ...written, ...(await store.reads(s)) };
      } finally {
        await store.close(s);
      }
    },
  };
}

/** Every store but the log, in the order migrate copies them. */
export const STORES_UNDER_MIGRATION: readonly MigratedStoreCheck[] = [
  check(witness),
  check(federationStore),
  check(cadence),
  check(anchoring),
  check(outbox),
  check(inbox),
];
