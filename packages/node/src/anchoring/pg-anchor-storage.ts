import { RemembrancerError } from '@vaultmesh/core';
import { PgDatabase, type PgQueryable } from '../storage/postgres/pg-database.js';
import type { WriteFence } from '../storage/postgres/write-fence.js';
import {
  FAILURES_KEPT,
  FAILURE_REASON_CHARS,
  countersOf,
  againFinalized,
  largestLeafSizes,
  signedRootColumns,
  toDue,
  toEpoch,
  toFailure,
  toSignedRoot,
  type AnchorFailure,
  type CoveringAnchor,
  type DueNamespace,
  type DueRow,
  type EpochMode,
  type EpochRecord,
  type EpochRow,
  type FailureRow,
  type FinalizedOutcome,
  type SignedRoot,
  type SignedRootRow,
} from './anchor-records.js';
import type { AnchorStorage, DueEffect, DueEventSeen } from './anchor-storage.js';
import { PgChainJournalStorage } from './chain/pg-chain-journal-storage.js';
import { epochNodeKey, type EpochFinalization } from './epoch-finalization.js';
import { PgStoreHandle } from '../storage/postgres/pg-store-handle.js';
import { PG_ANCHOR_SCHEMA } from './pg-anchor-schema.js';

export interface PgAnchorStorageOptions {
  /** The database; a URL opens a pool of its own (closed with the storage), a PgDatabase is shared and left open. */
  db: PgDatabase | string;
  /** Checked in every write transaction (the sequencing lease); NO_FENCE for one front end alone. */
  fence?: WriteFence;
}

const EPOCH_KEY = 'target = $1 AND epoch = $2 AND mode = $3 AND node = $4';

/** Serialises the finalization of one epoch across front ends (its read-check-write spans several tables). */
function epochLock(target: string, epoch: number, mode: EpochMode, node: string): string {
  return `anchor:epoch:${target}|${epoch}|${mode}|${node}`;
}

/** One lock per target's failures: ids in commit order, pruning counts them exactly. */
function failuresLock(target: string): string {
  return `anchor:failures:${target}`;
}

const MARK_DUE = `INSERT INTO anchor_due (target, namespace, due_at_ms, sealed_size) VALUES ($1, $2, $3, $4)
  ON CONFLICT (target, namespace) DO UPDATE SET sealed_size = GREATEST(anchor_due.sealed_size, EXCLUDED.sealed_size)`;
const MARK_DUE_SEEN = `INSERT INTO anchor_due_seen (namespace, level, target, due_at_ms) VALUES ($1, $2, $3, $4)
  ON CONFLICT (namespace, level, target) DO UPDATE SET due_at_ms = GREATEST(anchor_due_seen.due_at_ms, EXCLUDED.due_at_ms)`;
const BUMP = `INSERT INTO anchor_counters (name, label, value) VALUES ($1, $2, $3)
  ON CONFLICT (name, label) DO UPDATE SET value = anchor_counters.value + EXCLUDED.value`;

/**
 * AnchorStorage in the node's PostgreSQL database (issue 14), shared by its front ends: the SQLite
 * anchoring file's tables and answers (anchor-schema.ts, AnchorStore). Single-row decisions are
 * single statements (ON CONFLICT upserts, a conditional upsert for markEpoch, a compare-and-delete
 * for satisfied dues); finalizing an epoch and recording a failure take an advisory lock for
 * their key. Every write checks the fence first.
 */
export class PgAnchorStorage implements AnchorStorage {
  readonly chain: PgChainJournalStorage;
  readonly #conn: PgStoreHandle;

  private constructor(conn: PgStoreHandle) {
    this.#conn = conn;
    this.chain = new PgChainJournalStorage(conn);
  }

  /** Connects (if given a URL) and brings the anchoring tables to the current version. */
  static async open(options: PgAnchorStorageOptions): Promise<PgAnchorStorage> {
    return new PgAnchorStorage(await PgStoreHandle.open(options, PG_ANCHOR_SCHEMA));
  }

  async markDue(target: string, namespace: string, dueAtMs: number, sealedSize: number): Promise<void> {
    await this.#conn.write((tx) => tx.run(MARK_DUE, [target, namespace, dueAtMs, sealedSize]));
  }

  async dueSeen(namespace: string, level: string, target: string): Promise<number | undefined> {
    const r = await this.#conn.db.row<{ due_at_ms: number }>(
      'SELECT due_at_ms FROM anchor_due_seen WHERE namespace = $1 AND level = $2 AND target = $3',
      [namespace, level, target],
    );
    return r?.due_at_ms;
  }

  async markDueSeen(namespace: string, level: string, target: string, dueAtMs: number): Promise<void> {
    await this.#conn.write((tx) => tx.run(MARK_DUE_SEEN, [namespace, level, target, dueAtMs]));
  }

  async handleDue(event: DueEventSeen, effect: DueEffect): Promise<void> {
    await this.#conn.write(async (tx) => {
      if (effect.kind === 'queue') {
        await tx.run(MARK_DUE, [event.target, effect.namespace, event.dueAtMs, effect.sealedSize]);
        await tx.run(BUMP, ['due', event.target, 1]);
      } else if (effect.kind === 'skip') {
        await tx.run(BUMP, ['skips', effect.label, 1]);
      }
      await tx.run(MARK_DUE_SEEN, [event.namespace, event.level, event.target, event.dueAtMs]);
    });
  }

  async clearDue(target: string, namespace: string): Promise<void> {
    await this.#conn.write((tx) =>
      tx.run('DELETE FROM anchor_due WHERE target = $1 AND namespace = $2', [target, namespace]),
    );
  }

  async clearDueSatisfied(target: string, namespace: string, anchoredSize: number): Promise<boolean> {
    const n = await this.#conn.write((tx) =>
      tx.run('DELETE FROM anchor_due WHERE target = $1 AND namespace = $2 AND sealed_size <= $3', [
        target,
        namespace,
        anchoredSize,
      ]),
    );
    return n > 0;
  }

  async due(target: string): Promise<DueNamespace[]> {
    const rows = await this.#conn.db.rows<DueRow>(
      'SELECT target, namespace, due_at_ms, sealed_size FROM anchor_due WHERE target = $1 ORDER BY namespace',
      [target],
    );
    return rows.map(toDue);
  }

  async dueCount(target: string): Promise<number> {
    const r = await this.#conn.db.row<{ n: number }>('SELECT count(*) AS n FROM anchor_due WHERE target = $1', [
      target,
    ]);
    return r?.n ?? 0;
  }

  async anchoredSize(target: string, origin: string): Promise<number> {
    const r = await this.#conn.db.row<{ size: number }>(
      'SELECT size FROM anchor_anchored WHERE target = $1 AND origin = $2',
      [target, origin],
    );
    return r?.size ?? 0;
  }

  async signedRoot(target: string, epoch: number, mode: EpochMode): Promise<SignedRoot | undefined> {
    return signedRootIn(this.#conn.db, target, epoch, mode);
  }

  async recordSignedRoot(root: SignedRoot): Promise<SignedRoot> {
    const s = root.statement;
    const c = signedRootColumns(root);
    return this.#conn.write(async (tx) => {
      // ON CONFLICT DO NOTHING waits for a racing insert of the same key to commit, then yields to it.
      const inserted = await tx.run(
        `INSERT INTO anchor_signed_roots (target, epoch, mode, root, statement, leaves, sig, signed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (target, epoch, mode) DO NOTHING`,
        [s.target, s.epoch, s.mode, c.root, c.statement, c.leaves, root.sig, root.signedAt],
      );
      if (inserted > 0) return root;
      const held = await signedRootIn(tx, s.target, s.epoch, s.mode);
      if (held === undefined)
        throw new RemembrancerError('STORAGE_FAILURE', `signed root of epoch ${s.epoch} at ${s.target} vanished`);
      return held;
    });
  }

  async inFlightSizes(
    target: string,
    fromEpoch: number,
    toEpoch: number,
    exceptEpoch: number,
  ): Promise<Map<string, number>> {
    const rows = await this.#conn.db.rows<{ leaves: string }>(
      `SELECT s.leaves FROM anchor_signed_roots s WHERE s.target = $1 AND s.mode = 'collaborative'
         AND s.epoch >= $2 AND s.epoch <= $3 AND s.epoch <> $4 AND NOT EXISTS (
           SELECT 1 FROM anchor_epochs e WHERE e.target = s.target AND e.epoch = s.epoch AND e.mode = s.mode)`,
      [target, fromEpoch, toEpoch, exceptEpoch],
    );
    return largestLeafSizes(rows.map((r) => r.leaves));
  }

  async epoch(target: string, epoch: number, mode: EpochMode, node: string): Promise<EpochRecord | undefined> {
    return epochIn(this.#conn.db, target, epoch, mode, node);
  }

  async markEpoch(
    target: string,
    epoch: number,
    mode: EpochMode,
    node: string,
    status: 'abandoned' | 'empty',
    nowMs: number,
  ): Promise<void> {
    // The WHERE of the upsert is evaluated on the row as committed (after waiting for a racing
    // finalization), so a finalized epoch is never overwritten.
    await this.#conn.write((tx) =>
      tx.run(
        `INSERT INTO anchor_epochs (target, epoch, mode, node, status, finalization, updated_at)
         VALUES ($1, $2, $3, $4, $5, NULL, $6)
         ON CONFLICT (target, epoch, mode, node) DO UPDATE SET status = EXCLUDED.status,
           finalization = EXCLUDED.finalization, updated_at = EXCLUDED.updated_at
         WHERE anchor_epochs.status <> 'finalized'`,
        [target, epoch, mode, node, status, nowMs],
      ),
    );
  }

  async recordFinalized(
    f: EpochFinalization,
    ownNamespaces: ReadonlyMap<string, string>,
    nowMs: number,
  ): Promise<FinalizedOutcome> {
    const s = f.statement;
    const node = epochNodeKey(s);
    const key = [s.target, s.epoch, s.mode, node] as const;
    return this.#conn.write(
      async (tx) => {
        const held = await epochIn(tx, ...key);
        if (held?.status === 'finalized' && held.finalization) {
          const again = againFinalized(held.finalization, f);
          if (again === 'same') return 'same';
          const added = await tx.run(
            `INSERT INTO anchor_duplicates (target, epoch, mode, node, digest, evidence, received)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
            [...key, again.digest, JSON.stringify(f), nowMs],
          );
          return added > 0 ? 'duplicate' : 'same';
        }
        await tx.run(
          `INSERT INTO anchor_epochs (target, epoch, mode, node, status, finalization, updated_at)
         VALUES ($1, $2, $3, $4, 'finalized', $5, $6)
         ON CONFLICT (target, epoch, mode, node) DO UPDATE SET status = EXCLUDED.status,
           finalization = EXCLUDED.finalization, updated_at = EXCLUDED.updated_at`,
          [...key, JSON.stringify(f), nowMs],
        );
        await recordLeaves(tx, f, node, ownNamespaces);
        return 'new';
      },
      epochLock(...key),
    );
  }

  async epochs(target: string, beforeEpoch: number, limit: number): Promise<EpochRecord[]> {
    const rows = await this.#conn.db.rows<EpochRow>(
      'SELECT * FROM anchor_epochs WHERE target = $1 AND epoch < $2 ORDER BY epoch DESC, mode, node LIMIT $3',
      [target, beforeEpoch, limit],
    );
    return rows.map(toEpoch);
  }

  async lastFinalized(target: string): Promise<EpochRecord | undefined> {
    const r = await this.#conn.db.row<EpochRow>(
      `SELECT * FROM anchor_epochs WHERE target = $1 AND status = 'finalized' ORDER BY epoch DESC, mode, node LIMIT 1`,
      [target],
    );
    return r === undefined ? undefined : toEpoch(r);
  }

  async anchorsCovering(origin: string, index: number): Promise<CoveringAnchor[]> {
    const rows = await this.#conn.db.rows<CoveringAnchor>(
      `SELECT target, epoch, mode, node, size FROM anchor_epoch_leaves
       WHERE origin = $1 AND size > $2 ORDER BY target, epoch, mode, node`,
      [origin, index],
    );
    return rows.map((r) => ({ target: r.target, epoch: r.epoch, mode: r.mode, node: r.node, size: r.size }));
  }

  async bump(name: string, label: string, by = 1): Promise<void> {
    await this.#conn.write((tx) => tx.run(BUMP, [name, label, by]));
  }

  async counters(): Promise<Map<string, Map<string, number>>> {
    return countersOf(
      await this.#conn.db.rows<{ name: string; label: string; value: number }>(
        'SELECT name, label, value FROM anchor_counters ORDER BY name, label',
      ),
    );
  }

  async recordFailure(target: string, epoch: number | null, reason: string, nowMs: number): Promise<void> {
    await this.#conn.write(async (tx) => {
      await tx.run('INSERT INTO anchor_failures (target, epoch, reason, at_ms) VALUES ($1, $2, $3, $4)', [
        target,
        epoch,
        reason.slice(0, FAILURE_REASON_CHARS),
        nowMs,
      ]);
      await tx.run(
        `DELETE FROM anchor_failures WHERE target = $1 AND id <= (
           SELECT id FROM anchor_failures WHERE target = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)`,
        [target, FAILURES_KEPT],
      );
      await tx.run(BUMP, ['failures', target, 1]);
    }, failuresLock(target));
  }

  async failures(target: string, limit = 20): Promise<AnchorFailure[]> {
    const rows = await this.#conn.db.rows<FailureRow>(
      'SELECT target, epoch, reason, at_ms FROM anchor_failures WHERE target = $1 ORDER BY id DESC LIMIT $2',
      [target, limit],
    );
    return rows.map(toFailure);
  }

  async close(): Promise<void> {
    await this.#conn.close();
  }
}

async function signedRootIn(
  q: PgQueryable,
  target: string,
  epoch: number,
  mode: EpochMode,
): Promise<SignedRoot | undefined> {
  const r = await q.row<SignedRootRow>(
    'SELECT statement, leaves, sig, signed_at FROM anchor_signed_roots WHERE target = $1 AND epoch = $2 AND mode = $3',
    [target, epoch, mode],
  );
  return r === undefined ? undefined : toSignedRoot(r);
}

async function epochIn(
  q: PgQueryable,
  target: string,
  epoch: number,
  mode: EpochMode,
  node: string,
): Promise<EpochRecord | undefined> {
  const r = await q.row<EpochRow>(`SELECT * FROM anchor_epochs WHERE ${EPOCH_KEY}`, [target, epoch, mode, node]);
  return r === undefined ? undefined : toEpoch(r);
}

/**
 * A finalized epoch's leaves, what it anchors and the dues it satisfies, as three array statements
 * (one round trip each, whatever the leaf count). An origin listed twice counts as SQLite's
 * statement-per-leaf does: its last leaf is the one recorded, its largest size what is anchored.
 */
async function recordLeaves(
  tx: PgQueryable,
  f: EpochFinalization,
  node: string,
  ownNamespaces: ReadonlyMap<string, string>,
): Promise<void> {
  const s = f.statement;
  const last = new Map<string, { size: number; index: number }>();
  const largest = new Map<string, number>();
  f.leaves.forEach((leaf, index) => {
    last.set(leaf.origin, { size: leaf.size, index });
    largest.set(leaf.origin, Math.max(largest.get(leaf.origin) ?? 0, leaf.size));
  });
  if (last.size === 0) return;
  await tx.run(
    `INSERT INTO anchor_epoch_leaves (origin, size, target, epoch, mode, node, leaf_index)
     SELECT l.origin, l.size, $4, $5, $6, $7, l.leaf_index
     FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS l(origin, size, leaf_index)
     ON CONFLICT (origin, target, epoch, mode, node) DO UPDATE SET size = EXCLUDED.size, leaf_index = EXCLUDED.leaf_index`,
    [
      [...last.keys()],
      [...last.values()].map((l) => l.size),
      [...last.values()].map((l) => l.index),
      s.target,
      s.epoch,
      s.mode,
      node,
    ],
  );
  await tx.run(
    `INSERT INTO anchor_anchored (target, origin, size, epoch)
     SELECT $1, l.origin, l.size, $4 FROM unnest($2::text[], $3::bigint[]) AS l(origin, size)
     ON CONFLICT (target, origin) DO UPDATE SET size = EXCLUDED.size, epoch = EXCLUDED.epoch
     WHERE EXCLUDED.size > anchor_anchored.size`,
    [s.target, [...largest.keys()], [...largest.values()], s.epoch],
  );
  const own = [...largest].filter(([origin]) => ownNamespaces.has(origin));
  if (own.length === 0) return;
  await tx.run(
    `DELETE FROM anchor_due d USING unnest($2::text[], $3::bigint[]) AS l(namespace, size)
     WHERE d.target = $1 AND d.namespace = l.namespace AND d.sealed_size <= l.size`,
    [s.target, own.map(([origin]) => ownNamespaces.get(origin)!), own.map(([, size]) => size)],
  );
}
