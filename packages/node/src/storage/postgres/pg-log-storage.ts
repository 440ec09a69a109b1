import { HASH_SIZE, RemembrancerError, TILE_WIDTH } from '@vaultmesh/core';
import type {
  NamespaceCommit,
  NamespaceKey,
  NewNamespace,
  StoredCheckpoint,
  StoredNamespace,
  StoredTile,
  StoredTreeState,
} from '../log-storage.js';
import { LEAF_CHUNK, LEAF_CHUNK_TILES, buildLeafRun, runCandidates } from '../leaf-runs.js';
import type {
  IntegrationCommit,
  LogChange,
  LogWatch,
  SequencedGroup,
  SequencingState,
  SharedLogStorage,
} from '../shared-log-storage.js';
import { type CheckpointRow, type NamespaceRow, toCheckpoint, toNamespace } from '../log-rows.js';
import { joinHashes, plainView, splitHashes } from '../stored-hashes.js';
import { PgListener } from './pg-listener.js';
import { storageFailure } from '../storage-failure.js';
import type { PgDatabase, PgQueryable } from './pg-database.js';
import { PG_LOG_SCHEMA } from './pg-log-schema.js';
import { PgStoreHandle } from './pg-store-handle.js';
import type { WriteFence } from './write-fence.js';

/** Points inside the commit transaction where tests can inject a failure (as SqliteLogStorage's). */
export type PgCommitStage = 'entries' | 'tiles' | 'tree' | 'leaves';

export interface PgLogStorageOptions {
  /** The database; a URL opens a pool of its own (closed with the storage), a PgDatabase is shared and left open. */
  db: PgDatabase | string;
  /**
   * Who the database belongs to (the node's name and log key): recorded at the first open and
   * checked at every later one, so a database is never written by two different nodes.
   */
  owner: string;
  /** Checked in every write transaction (the sequencing lease); NO_FENCE for one front end alone. */
  fence?: WriteFence;
  /** Test hook, called inside the commit transaction after each stage; a throw aborts the commit. */
  faultInjector?: (stage: PgCommitStage) => void;
}

/** Channels a front end LISTENs on: each payload is the namespace key that changed. */
export const LOG_CHANNELS = {
  sequenced: 'remembrancer_log_sequenced',
  integrated: 'remembrancer_log_integrated',
  checkpoint: 'remembrancer_log_checkpoint',
  namespace: 'remembrancer_log_namespace',
} as const;

function noTreeState(ns: NamespaceKey): RemembrancerError {
  return new RemembrancerError('STORAGE_FAILURE', `namespace key ${ns} has no tree state`);
}

/**
 * LogStorage on PostgreSQL (issue 14): the same contract and the same bytes as SqliteLogStorage,
 * over a pool of connections, so several front ends of one node can share one database. A group
 * commit is one transaction of a handful of statements whatever its size: entries and tiles go in
 * as arrays (unnest), one round trip each. The tree-state row is the commit's compare-and-set
 * (stored size must be `previousSize`), and the write fence is checked first, so a front end that
 * lost the lease writes nothing.
 */
export class PgLogStorage implements SharedLogStorage {
  readonly #handle: PgStoreHandle;
  readonly #faultInjector: ((stage: PgCommitStage) => void) | undefined;

  private constructor(handle: PgStoreHandle, options: PgLogStorageOptions) {
    this.#handle = handle;
    this.#faultInjector = options.faultInjector;
  }

  /** Connects (if given a URL), brings the schema to the current version and checks the owner. */
  static async open(options: PgLogStorageOptions): Promise<PgLogStorage> {
    const handle = await PgStoreHandle.open(options, PG_LOG_SCHEMA);
    try {
      await claimOwner(handle.db, options.owner);
      return new PgLogStorage(handle, options);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw storageFailure('cannot open the PostgreSQL log database', error);
    }
  }

  /** The database, unless closed (SHUTTING_DOWN). */
  get #db(): PgDatabase {
    return this.#handle.db;
  }

  async loadNamespaces(): Promise<StoredNamespace[]> {
    const rows = await this.#db.rows<NamespaceRow>(
      'SELECT key, id, origin, log_vkey, created_at, policy FROM log_namespaces ORDER BY key',
    );
    return rows.map(toNamespace);
  }

  async createNamespace(ns: NewNamespace, initialCheckpoint: StoredCheckpoint): Promise<StoredNamespace> {
    const cp = initialCheckpoint;
    return this.#handle.write(async (tx) => {
      // ON CONFLICT: a concurrent creation by another front end is NAMESPACE_EXISTS, not a driver error.
      const r = await tx.row<{ key: number }>(
        `INSERT INTO log_namespaces (id, origin, log_vkey, created_at, policy) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO NOTHING RETURNING key`,
        [ns.id, ns.origin, ns.logVkey, ns.createdAt, ns.policy],
      );
      if (r === undefined) throw new RemembrancerError('NAMESPACE_EXISTS', `namespace ${ns.id} already exists`);
      await tx.run(`INSERT INTO log_tree_state (ns, size, sequenced, compact_range) VALUES ($1, 0, 0, '\\x')`, [r.key]);
      await tx.run('INSERT INTO log_checkpoints (ns, size, root, note, published_at) VALUES ($1, $2, $3, $4, $5)', [
        r.key,
        cp.size,
        cp.root,
        cp.note,
        cp.publishedAt,
      ]);
      await notify(tx, LOG_CHANNELS.namespace, r.key);
      return { key: r.key, ...ns };
    });
  }

  async loadTreeState(ns: NamespaceKey): Promise<StoredTreeState> {
    const row = await this.#db.row<{ size: number; compact_range: Uint8Array }>(
      'SELECT size, compact_range FROM log_tree_state WHERE ns = $1',
      [ns],
    );
    if (row === undefined) throw noTreeState(ns);
    return { size: row.size, compactRange: splitHashes(row.compact_range) };
  }

  async entryCount(ns: NamespaceKey): Promise<number> {
    const r = await this.#db.row<{ n: number | null }>('SELECT max(idx) AS n FROM log_entries WHERE ns = $1', [ns]);
    return r?.n == null ? 0 : r.n + 1;
  }

  async entryBytes(ns: NamespaceKey): Promise<number> {
    const r = await this.#db.row<{ n: number }>('SELECT entry_bytes AS n FROM log_tree_state WHERE ns = $1', [ns]);
    if (r === undefined) throw noTreeState(ns);
    return r.n;
  }

  async leafIndexedSize(ns: NamespaceKey): Promise<number> {
    const r = await this.#db.row<{ n: number }>('SELECT leaf_indexed AS n FROM log_tree_state WHERE ns = $1', [ns]);
    if (r === undefined) throw noTreeState(ns);
    return r.n;
  }

  async commitBatch(commits: readonly NamespaceCommit[]): Promise<void> {
    await this.#handle.write(async (tx) => {
      for (const c of commits) await insertEntries(tx, c);
      this.#faultInjector?.('entries');
      for (const c of commits) await upsertTiles(tx, c);
      this.#faultInjector?.('tiles');
      for (const c of commits) await advanceTree(tx, c);
      this.#faultInjector?.('tree');
      for (const c of commits)
        if (c.indexLeaves === true) {
          for (let chunk = Math.floor(c.previousSize / LEAF_CHUNK); (chunk + 1) * LEAF_CHUNK <= c.tree.size; chunk++) {
            await writeLeafRun(tx, c.namespace, chunk);
          }
        }
      this.#faultInjector?.('leaves');
      for (const c of commits) await notify(tx, LOG_CHANNELS.integrated, c.namespace);
    });
  }

  /**
   * Shared sequencing: stores each group's entries at the next indices of its namespace, given by
   * PostgreSQL, in one transaction, and resolves to each group's first index. Any front end may
   * call it at any time: the namespace's tree-state row is locked while its indices are taken (in
   * key order, so two front ends never deadlock), so indices have no gap and no duplicate and
   * follow commit order. Not fenced: appends are every front end's work. The entries are stored
   * (and counted in entryBytes) but not yet integrated: the lease holder integrates them.
   */
  async sequence(groups: readonly SequencedGroup[]): Promise<number[]> {
    const order = groups.map((g, i) => i).sort((x, y) => groups[x]!.namespace - groups[y]!.namespace);
    return this.#db.transaction(async (tx) => {
      const firsts = new Array<number>(groups.length);
      for (const i of order) {
        const g = groups[i]!;
        let bytes = 0;
        for (const e of g.entries) bytes += e.length;
        const r = await tx.row<{ first: number }>(
          `UPDATE log_tree_state SET sequenced = sequenced + $2, entry_bytes = entry_bytes + $3
           WHERE ns = $1 RETURNING sequenced - $2 AS first`,
          [g.namespace, g.entries.length, bytes],
        );
        if (r === undefined) throw noTreeState(g.namespace);
        firsts[i] = r.first;
        await insertEntries(tx, { namespace: g.namespace, previousSize: r.first, entries: g.entries });
        await notify(tx, LOG_CHANNELS.sequenced, g.namespace);
      }
      return firsts;
    });
  }

  /** Integrated and sequenced sizes of every namespace (one query). */
  async sequencingStates(): Promise<SequencingState[]> {
    const rows = await this.#db.rows<{ ns: number; size: number; sequenced: number }>(
      'SELECT ns, size, sequenced FROM log_tree_state ORDER BY ns',
    );
    return rows.map((r) => ({ namespace: r.ns, size: r.size, sequenced: r.sequenced }));
  }

  /**
   * The lease holder's integration: tiles, tree state and leaf runs of entries already sequenced,
   * in one fenced transaction; the stored tree must be at `previousSize` and the new size within
   * the sequenced entries (STORAGE_FAILURE otherwise, nothing written).
   */
  async integrate(commits: readonly IntegrationCommit[]): Promise<void> {
    await this.#handle.write(async (tx) => {
      for (const c of commits) await upsertTiles(tx, c);
      for (const c of commits) {
        const changed = await tx.run(
          `UPDATE log_tree_state SET size = $1, compact_range = $2
           WHERE ns = $3 AND size = $4 AND sequenced >= $1 AND $1 > $4`,
          [c.tree.size, joinHashes(c.tree.compactRange), c.namespace, c.previousSize],
        );
        if (changed !== 1) {
          throw new RemembrancerError(
            'STORAGE_FAILURE',
            `cannot integrate namespace key ${c.namespace} from ${c.previousSize} to ${c.tree.size}: the stored tree moved, or the entries are not all sequenced`,
          );
        }
        if (c.indexLeaves === true) {
          for (let chunk = Math.floor(c.previousSize / LEAF_CHUNK); (chunk + 1) * LEAF_CHUNK <= c.tree.size; chunk++) {
            await writeLeafRun(tx, c.namespace, chunk);
          }
        }
        await notify(tx, LOG_CHANNELS.integrated, c.namespace);
      }
    });
  }

  async indexChunk(ns: NamespaceKey, chunk: number): Promise<void> {
    await this.#handle.write(async (tx) => {
      await writeLeafRun(tx, ns, chunk);
    });
  }

  async leafCandidates(
    ns: NamespaceKey,
    leafHash: Uint8Array,
    fromChunk: number,
  ): Promise<{ chunk: number; indices: number[] } | undefined> {
    if (leafHash.length !== HASH_SIZE) {
      throw new RemembrancerError('INVALID_ARGUMENT', `a leaf hash is ${HASH_SIZE} bytes, got ${leafHash.length}`);
    }
    // Runs are read a few at a time: the first chunk with a candidate usually ends the search.
    const page = 16;
    for (let from = fromChunk; ;) {
      const rows = await this.#db.rows<{ chunk: number; records: Uint8Array }>(
        `SELECT chunk, records FROM log_leaf_runs WHERE ns = $1 AND bucket = $2 AND chunk >= $3
         ORDER BY chunk LIMIT ${page}`,
        [ns, leafHash[0]!, from],
      );
      for (const { chunk, records } of rows) {
        const offsets = runCandidates(records, leafHash);
        if (offsets.length > 0) return { chunk, indices: offsets.map((o) => chunk * LEAF_CHUNK + o) };
      }
      if (rows.length < page) return undefined;
      from = rows[rows.length - 1]!.chunk + 1;
    }
  }

  async readEntry(ns: NamespaceKey, index: number): Promise<Uint8Array | undefined> {
    const r = await this.#db.row<{ data: Uint8Array }>('SELECT data FROM log_entries WHERE ns = $1 AND idx = $2', [
      ns,
      index,
    ]);
    return r === undefined ? undefined : plainView(r.data);
  }

  async readEntries(ns: NamespaceKey, start: number, end: number): Promise<Uint8Array[]> {
    const rows = await this.#db.rows<{ data: Uint8Array }>(
      'SELECT data FROM log_entries WHERE ns = $1 AND idx >= $2 AND idx < $3 ORDER BY idx',
      [ns, start, end],
    );
    return rows.map((r) => plainView(r.data));
  }

  async readTile(ns: NamespaceKey, level: number, index: number): Promise<StoredTile | undefined> {
    const r = await this.#db.row<{ width: number; data: Uint8Array }>(
      'SELECT width, data FROM log_tiles WHERE ns = $1 AND level = $2 AND idx = $3',
      [ns, level, index],
    );
    return r === undefined ? undefined : { width: r.width, data: plainView(r.data) };
  }

  async appendCheckpoints(
    checkpoints: readonly { ns: NamespaceKey; checkpoint: StoredCheckpoint }[],
    retain: number,
  ): Promise<void> {
    this.#db.assertOpen();
    if (!Number.isSafeInteger(retain) || retain < 1) {
      throw new RemembrancerError('INVALID_ARGUMENT', 'checkpoint retention must be a positive integer');
    }
    if (checkpoints.length === 0) return;
    await this.#handle.write(async (tx) => {
      for (const { ns, checkpoint: cp } of checkpoints) {
        await tx.run('INSERT INTO log_checkpoints (ns, size, root, note, published_at) VALUES ($1, $2, $3, $4, $5)', [
          ns,
          cp.size,
          cp.root,
          cp.note,
          cp.publishedAt,
        ]);
        await tx.run(
          `DELETE FROM log_checkpoints WHERE ns = $1 AND size < (
             SELECT size FROM log_checkpoints WHERE ns = $1 ORDER BY size DESC LIMIT 1 OFFSET $2)`,
          [ns, retain - 1],
        );
        await notify(tx, LOG_CHANNELS.checkpoint, ns);
      }
    });
  }

  async latestCheckpoint(ns: NamespaceKey): Promise<StoredCheckpoint | undefined> {
    const r = await this.#db.row<CheckpointRow>(
      'SELECT size, root, note, published_at FROM log_checkpoints WHERE ns = $1 ORDER BY size DESC LIMIT 1',
      [ns],
    );
    return r === undefined ? undefined : toCheckpoint(r);
  }

  async checkpointHistory(ns: NamespaceKey, limit: number): Promise<StoredCheckpoint[]> {
    const rows = await this.#db.rows<CheckpointRow>(
      'SELECT size, root, note, published_at FROM log_checkpoints WHERE ns = $1 ORDER BY size DESC LIMIT $2',
      [ns, limit],
    );
    return rows.map(toCheckpoint).reverse();
  }

  async watch(watch: LogWatch): Promise<() => Promise<void>> {
    const byChannel = new Map<string, LogChange>(
      (Object.entries(LOG_CHANNELS) as [LogChange, string][]).map(([change, channel]) => [channel, change]),
    );
    const listener = await PgListener.start({
      url: this.#db.url,
      channels: Object.values(LOG_CHANNELS),
      onNotify: (channel, payload) => {
        const change = byChannel.get(channel);
        const ns = Number(payload);
        if (change !== undefined && Number.isSafeInteger(ns)) watch.onChange(change, ns);
      },
      onListening: watch.onResync,
      ...(watch.onError === undefined ? {} : { onError: watch.onError }),
    });
    return () => listener.close();
  }

  /** Idempotent; closes the pool if the storage opened it (a shared PgDatabase stays open for its other users). */
  close(): Promise<void> {
    return this.#handle.close();
  }
}

/** Records the owner on a fresh database; refuses a database recorded for another owner. */
async function claimOwner(db: PgDatabase, owner: string): Promise<void> {
  await db.run('INSERT INTO log_owner (owner) VALUES ($1) ON CONFLICT (singleton) DO NOTHING', [owner]);
  const r = await db.row<{ owner: string }>('SELECT owner FROM log_owner');
  if (r?.owner !== owner) {
    throw new RemembrancerError(
      'STORAGE_FAILURE',
      `this PostgreSQL database belongs to ${JSON.stringify(r?.owner)}, not ${JSON.stringify(owner)}; refusing to use it`,
    );
  }
}

/** Sent at commit (PostgreSQL holds notifications of a transaction until it commits, and drops them on rollback). */
async function notify(tx: PgQueryable, channel: string, ns: NamespaceKey): Promise<void> {
  await tx.run('SELECT pg_notify($1, $2)', [channel, String(ns)]);
}

/** The commit's entries in one statement: indices previousSize, previousSize+1, … */
async function insertEntries(
  tx: PgQueryable,
  c: Pick<NamespaceCommit, 'namespace' | 'previousSize' | 'entries'>,
): Promise<void> {
  if (c.entries.length === 0) return;
  await tx.run(
    `INSERT INTO log_entries (ns, idx, data)
     SELECT $1, $2::bigint + t.i - 1, t.d FROM unnest($3::bytea[]) WITH ORDINALITY AS t(d, i)`,
    [c.namespace, c.previousSize, c.entries],
  );
}

/** Every tile the commit changed, in its new complete form, in one statement. */
async function upsertTiles(tx: PgQueryable, c: Pick<NamespaceCommit, 'namespace' | 'tiles'>): Promise<void> {
  if (c.tiles.length === 0) return;
  for (const t of c.tiles) {
    if (t.data.length === 0 || t.width < 1 || t.width > 256) {
      throw new RemembrancerError('STORAGE_FAILURE', `refusing malformed tile ${t.level}/${t.index}`);
    }
  }
  await tx.run(
    `INSERT INTO log_tiles (ns, level, idx, width, data)
     SELECT $1, t.level, t.idx, t.width, t.data
     FROM unnest($2::smallint[], $3::bigint[], $4::smallint[], $5::bytea[]) AS t(level, idx, width, data)
     ON CONFLICT (ns, level, idx) DO UPDATE SET width = EXCLUDED.width, data = EXCLUDED.data`,
    [
      c.namespace,
      c.tiles.map((t) => t.level),
      c.tiles.map((t) => t.index),
      c.tiles.map((t) => t.width),
      c.tiles.map((t) => t.data),
    ],
  );
}

/** The compare-and-set of a commit: the stored tree must be the one the commit grew. */
async function advanceTree(tx: PgQueryable, c: NamespaceCommit): Promise<void> {
  if (c.tree.size !== c.previousSize + c.entries.length) {
    throw new RemembrancerError('STORAGE_FAILURE', 'tree size does not match the entries committed');
  }
  let bytes = 0;
  for (const e of c.entries) bytes += e.length;
  const changed = await tx.run(
    `UPDATE log_tree_state SET size = $1, sequenced = $1, compact_range = $2, entry_bytes = entry_bytes + $3
     WHERE ns = $4 AND size = $5 AND sequenced = $5`,
    [c.tree.size, joinHashes(c.tree.compactRange), bytes, c.namespace, c.previousSize],
  );
  if (changed !== 1) {
    throw new RemembrancerError(
      'STORAGE_FAILURE',
      `namespace key ${c.namespace} is no longer at size ${c.previousSize}; is another process writing this database?`,
    );
  }
}

/**
 * The run of one complete chunk from its level-0 tiles (those of this transaction included),
 * inside the caller's transaction; refuses a gap or a chunk not wholly stored (see leaf-runs.ts).
 */
async function writeLeafRun(tx: PgQueryable, ns: NamespaceKey, chunk: number): Promise<void> {
  const start = chunk * LEAF_CHUNK;
  const advanced = await tx.run(
    'UPDATE log_tree_state SET leaf_indexed = $1 WHERE ns = $2 AND leaf_indexed = $3 AND size >= $1',
    [start + LEAF_CHUNK, ns, start],
  );
  if (advanced !== 1) {
    throw new RemembrancerError(
      'STORAGE_FAILURE',
      `leaf index of namespace key ${ns} does not end at ${start}, or chunk ${chunk} is not wholly stored`,
    );
  }
  const first = chunk * LEAF_CHUNK_TILES;
  // The base row only (the leaf hashes): half of a full stored tile.
  const tiles = await tx.rows<{ idx: number; width: number; base: Uint8Array }>(
    `SELECT idx, width, substring(data FROM 1 FOR ${TILE_WIDTH * HASH_SIZE}) AS base FROM log_tiles
     WHERE ns = $1 AND level = 0 AND idx >= $2 AND idx < $3 ORDER BY idx`,
    [ns, first, first + LEAF_CHUNK_TILES],
  );
  if (tiles.length !== LEAF_CHUNK_TILES) {
    throw new RemembrancerError('STORAGE_FAILURE', `chunk ${chunk} of namespace key ${ns} lacks level-0 tiles`);
  }
  const hashes = new Uint8Array(LEAF_CHUNK * HASH_SIZE);
  tiles.forEach(({ idx, width, base }, i) => {
    if (idx !== first + i || width !== TILE_WIDTH || base.length < width * HASH_SIZE) {
      throw new RemembrancerError('STORAGE_FAILURE', `level-0 tile ${first + i} of namespace key ${ns} is not full`);
    }
    hashes.set(base.subarray(0, width * HASH_SIZE), i * TILE_WIDTH * HASH_SIZE);
  });
  const run = buildLeafRun(hashes);
  await tx.run(
    `INSERT INTO log_leaf_runs (ns, bucket, chunk, records)
     SELECT $1, t.bucket, $2, t.records FROM unnest($3::smallint[], $4::bytea[]) AS t(bucket, records)`,
    [ns, chunk, run.map((b) => b.bucket), run.map((b) => b.records)],
  );
}
