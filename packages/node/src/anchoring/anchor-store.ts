import type Database from 'better-sqlite3';
import { GuardedConnection } from '../storage/sqlite/guarded-connection.js';
import { openDurableDatabase, storageFailure } from '../storage/sqlite/sqlite-file.js';
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
import { migrateAnchorDb } from './anchor-schema.js';
import { ChainJournal } from './chain/chain-journal.js';
import { epochNodeKey, type EpochFinalization } from './epoch-finalization.js';

export type {
  AnchorFailure,
  CoveringAnchor,
  DueNamespace,
  EpochMode,
  EpochRecord,
  EpochStatus,
  FinalizedOutcome,
  SignedRoot,
} from './anchor-records.js';

/** File name of the anchoring database inside the node's data directory. */
export const ANCHOR_DB_FILE = 'anchoring.sqlite';

/**
 * A node's anchoring state on its own SQLite file (WAL, synchronous FULL): what is due where, what
 * is anchored, the one root signed per epoch, and every epoch outcome. A signature this node gave
 * is on disk before it is sent, and an epoch it learnt is finalized stays so after power loss.
 */
export class AnchorStore {
  readonly path: string;
  readonly #conn: GuardedConnection;
  readonly #s: Record<string, Database.Statement>;
  /** The chain anchor transactions and their history (issue 11), on the same file. */
  readonly chain: ChainJournal;

  constructor(path: string) {
    this.path = path;
    const db = openDurableDatabase(path, 'anchoring');
    try {
      migrateAnchorDb(db);
      this.#s = {
        markDue: db.prepare(
          `INSERT INTO anchor_due (target, namespace, due_at_ms, sealed_size) VALUES (?, ?, ?, ?)
           ON CONFLICT (target, namespace) DO UPDATE SET sealed_size = max(sealed_size, excluded.sealed_size)`,
        ),
        clearDue: db.prepare('DELETE FROM anchor_due WHERE target = ? AND namespace = ?'),
        due: db.prepare(
          'SELECT target, namespace, due_at_ms, sealed_size FROM anchor_due WHERE target = ? ORDER BY namespace',
        ),
        dueCount: db.prepare('SELECT count(*) FROM anchor_due WHERE target = ?').pluck(),
        dueSeen: db
          .prepare('SELECT due_at_ms FROM anchor_due_seen WHERE namespace = ? AND level = ? AND target = ?')
          .pluck(),
        markDueSeen: db.prepare(
          `INSERT INTO anchor_due_seen (namespace, level, target, due_at_ms) VALUES (?, ?, ?, ?)
           ON CONFLICT (namespace, level, target) DO UPDATE SET due_at_ms = max(due_at_ms, excluded.due_at_ms)`,
        ),
        anchored: db.prepare('SELECT size FROM anchor_anchored WHERE target = ? AND origin = ?').pluck(),
        setAnchored: db.prepare(
          `INSERT INTO anchor_anchored (target, origin, size, epoch) VALUES (?, ?, ?, ?)
           ON CONFLICT (target, origin) DO UPDATE SET size = excluded.size, epoch = excluded.epoch
           WHERE excluded.size > anchor_anchored.size`,
        ),
        signedRoot: db.prepare(
          'SELECT statement, leaves, sig, signed_at FROM anchor_signed_roots WHERE target = ? AND epoch = ? AND mode = ?',
        ),
        putSignedRoot: db.prepare(
          `INSERT INTO anchor_signed_roots (target, epoch, mode, root, statement, leaves, sig, signed_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        ),
        epoch: db.prepare('SELECT * FROM anchor_epochs WHERE target = ? AND epoch = ? AND mode = ? AND node = ?'),
        inFlight: db
          .prepare(
            `SELECT s.leaves FROM anchor_signed_roots s WHERE s.target = ? AND s.mode = 'collaborative'
               AND s.epoch >= ? AND s.epoch <= ? AND s.epoch != ? AND NOT EXISTS (
                 SELECT 1 FROM anchor_epochs e WHERE e.target = s.target AND e.epoch = s.epoch AND e.mode = s.mode)`,
          )
          .pluck(),
        putEpoch: db.prepare(
          `INSERT INTO anchor_epochs (target, epoch, mode, node, status, finalization, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (target, epoch, mode, node) DO UPDATE SET status = excluded.status,
             finalization = excluded.finalization, updated_at = excluded.updated_at`,
        ),
        epochs: db.prepare(
          `SELECT * FROM anchor_epochs WHERE target = ? AND epoch < ? ORDER BY epoch DESC, mode, node LIMIT ?`,
        ),
        lastFinalized: db.prepare(
          `SELECT * FROM anchor_epochs WHERE target = ? AND status = 'finalized' ORDER BY epoch DESC, mode, node LIMIT 1`,
        ),
        putLeaf: db.prepare(
          `INSERT OR REPLACE INTO anchor_epoch_leaves (origin, size, target, epoch, mode, node, leaf_index)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        ),
        anchorsCovering: db.prepare(
          `SELECT l.target, l.epoch, l.mode, l.node, l.size FROM anchor_epoch_leaves l
           WHERE l.origin = ? AND l.size > ? ORDER BY l.target, l.epoch, l.mode, l.node`,
        ),
        putDuplicate: db.prepare(
          `INSERT OR IGNORE INTO anchor_duplicates (target, epoch, mode, node, digest, evidence, received)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        ),
        bump: db.prepare(
          `INSERT INTO anchor_counters (name, label, value) VALUES (?, ?, ?)
           ON CONFLICT (name, label) DO UPDATE SET value = value + excluded.value`,
        ),
        counters: db.prepare('SELECT name, label, value FROM anchor_counters ORDER BY name, label'),
        addFailure: db.prepare('INSERT INTO anchor_failures (target, epoch, reason, at_ms) VALUES (?, ?, ?, ?)'),
        trimFailures: db.prepare(
          `DELETE FROM anchor_failures WHERE target = ? AND id <= (
             SELECT id FROM anchor_failures WHERE target = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
        ),
        failures: db.prepare(
          'SELECT target, epoch, reason, at_ms FROM anchor_failures WHERE target = ? ORDER BY id DESC LIMIT ?',
        ),
      };
    } catch (cause) {
      db.close();
      throw storageFailure(`cannot initialise anchoring database ${path}`, cause);
    }
    this.#conn = new GuardedConnection(db, 'anchoring');
    this.chain = new ChainJournal(db, this.#conn);
  }

  atomically<T>(fn: () => T): T {
    return this.#conn.atomically(fn);
  }

  markDue(target: string, namespace: string, dueAtMs: number, sealedSize: number): void {
    this.#conn.run('anchoring write failed', () => this.#s.markDue!.run(target, namespace, dueAtMs, sealedSize));
  }

  /** The latest cadence due time handled for this level and target, if any (crash recovery). */
  dueSeen(namespace: string, level: string, target: string): number | undefined {
    return this.#conn.read(() => this.#s.dueSeen!.get(namespace, level, target) as number | undefined);
  }

  markDueSeen(namespace: string, level: string, target: string, dueAtMs: number): void {
    this.#conn.run('anchoring write failed', () => this.#s.markDueSeen!.run(namespace, level, target, dueAtMs));
  }

  clearDue(target: string, namespace: string): void {
    this.#conn.run('anchoring write failed', () => this.#s.clearDue!.run(target, namespace));
  }

  due(target: string): DueNamespace[] {
    return this.#conn.read(() => (this.#s.due!.all(target) as DueRow[]).map(toDue));
  }

  dueCount(target: string): number {
    return this.#conn.read(() => this.#s.dueCount!.get(target) as number);
  }

  /** The largest size of `origin` anchored at `target`, 0 if none. */
  anchoredSize(target: string, origin: string): number {
    return this.#conn.read(() => (this.#s.anchored!.get(target, origin) as number | undefined) ?? 0);
  }

  signedRoot(target: string, epoch: number, mode: EpochMode): SignedRoot | undefined {
    return this.#conn.read(() => {
      const r = this.#s.signedRoot!.get(target, epoch, mode) as SignedRootRow | undefined;
      return r === undefined ? undefined : toSignedRoot(r);
    });
  }

  /**
   * Records the root this node signs for (target, epoch, mode), unless one is recorded: then that
   * one is returned and nothing is written. One IMMEDIATE transaction, so two requests racing for
   * one epoch cannot both record theirs.
   */
  recordSignedRoot(root: SignedRoot): SignedRoot {
    const s = root.statement;
    return this.atomically(() => {
      const held = this.signedRoot(s.target, s.epoch, s.mode);
      if (held !== undefined) return held;
      const c = signedRootColumns(root);
      this.#s.putSignedRoot!.run(s.target, s.epoch, s.mode, c.root, c.statement, c.leaves, root.sig, root.signedAt);
      return root;
    });
  }

  /**
   * Largest size per origin in collaborative roots this node signed for epochs in
   * [fromEpoch, toEpoch] other than exceptEpoch whose outcome it does not know yet: leaves in flight.
   */
  inFlightSizes(target: string, fromEpoch: number, toEpoch: number, exceptEpoch: number): Map<string, number> {
    return this.#conn.read(() =>
      largestLeafSizes(this.#s.inFlight!.all(target, fromEpoch, toEpoch, exceptEpoch) as string[]),
    );
  }

  epoch(target: string, epoch: number, mode: EpochMode, node: string): EpochRecord | undefined {
    return this.#conn.read(() => {
      const r = this.#s.epoch!.get(target, epoch, mode, node) as EpochRow | undefined;
      return r === undefined ? undefined : toEpoch(r);
    });
  }

  /** Marks an epoch abandoned or empty, unless it is finalized (a finalization is never undone). */
  markEpoch(
    target: string,
    epoch: number,
    mode: EpochMode,
    node: string,
    status: 'abandoned' | 'empty',
    nowMs: number,
  ): void {
    this.atomically(() => {
      const held = this.epoch(target, epoch, mode, node);
      if (held?.status === 'finalized') return;
      this.#s.putEpoch!.run(target, epoch, mode, node, status, null, nowMs);
    });
  }

  /**
   * Stores a finalized epoch (checked by the caller) with its leaves, advances what is anchored
   * and clears what it satisfies. A second, different anchor of the same root is kept as a
   * duplicate; returns which it was.
   */
  recordFinalized(f: EpochFinalization, ownNamespaces: ReadonlyMap<string, string>, nowMs: number): FinalizedOutcome {
    const s = f.statement;
    const node = epochNodeKey(s);
    return this.atomically(() => {
      const held = this.epoch(s.target, s.epoch, s.mode, node);
      if (held?.status === 'finalized' && held.finalization) {
        const again = againFinalized(held.finalization, f);
        if (again === 'same') return 'same';
        const r = this.#s.putDuplicate!.run(s.target, s.epoch, s.mode, node, again.digest, JSON.stringify(f), nowMs);
        return r.changes > 0 ? 'duplicate' : 'same';
      }
      this.#s.putEpoch!.run(s.target, s.epoch, s.mode, node, 'finalized', JSON.stringify(f), nowMs);
      f.leaves.forEach((leaf, i) => {
        this.#s.putLeaf!.run(leaf.origin, leaf.size, s.target, s.epoch, s.mode, node, i);
        this.#s.setAnchored!.run(s.target, leaf.origin, leaf.size, s.epoch);
        const ns = ownNamespaces.get(leaf.origin);
        if (ns === undefined) return;
        const due = this.due(s.target).find((d) => d.namespace === ns);
        if (due !== undefined && leaf.size >= due.sealedSize) this.#s.clearDue!.run(s.target, ns);
      });
      return 'new';
    });
  }

  /** Epochs of `target` before `beforeEpoch` (exclusive), newest first. */
  epochs(target: string, beforeEpoch: number, limit: number): EpochRecord[] {
    return this.#conn.read(() => (this.#s.epochs!.all(target, beforeEpoch, limit) as EpochRow[]).map(toEpoch));
  }

  lastFinalized(target: string): EpochRecord | undefined {
    return this.#conn.read(() => {
      const r = this.#s.lastFinalized!.get(target) as EpochRow | undefined;
      return r === undefined ? undefined : toEpoch(r);
    });
  }

  /** Finalized epochs whose leaf for `origin` has a size above `index` (so it covers that entry). */
  anchorsCovering(origin: string, index: number): CoveringAnchor[] {
    return this.#conn.read(() => this.#s.anchorsCovering!.all(origin, index) as CoveringAnchor[]);
  }

  bump(name: string, label: string, by = 1): void {
    this.#conn.run('anchoring write failed', () => this.#s.bump!.run(name, label, by));
  }

  /** Every counter: name → label → value. */
  counters(): Map<string, Map<string, number>> {
    return this.#conn.read(() =>
      countersOf(this.#s.counters!.all() as { name: string; label: string; value: number }[]),
    );
  }

  recordFailure(target: string, epoch: number | null, reason: string, nowMs: number): void {
    this.atomically(() => {
      this.#s.addFailure!.run(target, epoch, reason.slice(0, FAILURE_REASON_CHARS), nowMs);
      this.#s.trimFailures!.run(target, target, FAILURES_KEPT);
      this.#s.bump!.run('failures', target, 1);
    });
  }

  failures(target: string, limit = 20): AnchorFailure[] {
    return this.#conn.read(() => (this.#s.failures!.all(target, limit) as FailureRow[]).map(toFailure));
  }

  close(): void {
    this.#conn.close();
  }
}
