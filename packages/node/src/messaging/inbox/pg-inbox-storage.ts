import type { PgDatabase, PgQueryable, SqlScalar } from '../../storage/postgres/pg-database.js';
import type { WriteFence } from '../../storage/postgres/write-fence.js';
import { toColumns } from '../pg-columns.js';
import { PgStoreHandle } from '../../storage/postgres/pg-store-handle.js';
import { decideAdmission, type Admission } from './inbox-admission.js';
import {
  INBOX_COLUMNS,
  INBOX_COLUMNS_OF_M,
  notInState,
  toInboxRow,
  type InboxRecord,
  type InboxRow,
  type NewInboxRow,
  type StoredInboxItem,
} from './inbox-record.js';
import { TRANSITION_FROM, type InboxSettlement, type InboxStorage, type InboxTransition } from './inbox-storage.js';
import { PG_INBOX_SCHEMA } from './pg-inbox-schema.js';

export interface PgInboxStorageOptions {
  /** The database; a URL opens a pool of its own (closed with the storage), a PgDatabase is shared and left open. */
  db: PgDatabase | string;
  /** Checked in every write transaction (the sequencing lease); NO_FENCE for one front end alone. */
  fence?: WriteFence;
}

type Kind = InboxTransition['to'];
type Of<K extends Kind> = Extract<InboxTransition, { to: K }>;

/**
 * Each kind of transition as one UPDATE … FROM unnest over its rows ($1 origins, $2 indexes, then
 * the kind's values), a compare-and-set on the state it expects; RETURNING says which rows it found.
 */
const TRANSITIONS: { [K in Kind]: { set: string; extra?: string; values: Array<[string, string]> } } = {
  applying: { set: `state = 'applying', delivery = u.delivery`, values: [['delivery', 'text']] },
  recorded: {
    set: 'record_index = u.record_index, delivery = u.delivery',
    extra: 'm.record_index IS NULL',
    values: [
      ['record_index', 'bigint'],
      ['delivery', 'text'],
    ],
  },
  applied: {
    set: `state = 'applied', delivery = u.delivery, delivery_index = u.delivery_index, record_index = u.record_index`,
    values: [
      ['delivery', 'text'],
      ['delivery_index', 'bigint'],
      ['record_index', 'bigint'],
    ],
  },
  refused: {
    set: `state = 'refused', error_code = u.error_code, error_message = u.error_message`,
    values: [
      ['error_code', 'text'],
      ['error_message', 'text'],
    ],
  },
  // A record entry found meanwhile becomes known (as markRecorded, which needs none known yet).
  held: {
    set: `state = 'held', delivery = NULL, record_index = COALESCE(u.record_index, m.record_index)`,
    extra: '(u.record_index IS NULL OR m.record_index IS NULL)',
    values: [['record_index', 'bigint']],
  },
};

/** The kinds in the order a settlement applies them (a settlement touches each row once, so the order does not change its outcome). */
const KINDS: readonly Kind[] = ['applying', 'recorded', 'applied', 'refused', 'held'];

function transitionSql(kind: Kind): string {
  const t = TRANSITIONS[kind];
  const columns: Array<[string, string]> = [['source_origin', 'text'], ['source_index', 'bigint'], ...t.values];
  const args = columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ');
  return `
    UPDATE inbox_messages m SET ${t.set}
    FROM unnest(${args}) AS u(${columns.map(([n]) => n).join(', ')})
    WHERE m.source_origin = u.source_origin AND m.source_index = u.source_index
      AND m.state = '${TRANSITION_FROM[kind]}'${t.extra === undefined ? '' : ` AND ${t.extra}`}
    RETURNING m.source_origin, m.source_index`;
}

const TRANSITION_SQL = Object.fromEntries(KINDS.map((k) => [k, transitionSql(k)])) as Record<Kind, string>;

/** A transition's values after its key, in TRANSITIONS[kind].values order. */
function valuesOf(t: InboxTransition): SqlScalar[] {
  switch (t.to) {
    case 'applying':
      return [t.delivery ?? null];
    case 'recorded':
      return [t.recordIndex, t.delivery ?? null];
    case 'applied':
      return [t.delivery, t.deliveryIndex, t.recordIndex ?? null];
    case 'refused':
      return [t.code, t.message];
    case 'held':
      return [t.recordIndex ?? null];
  }
}

/** NewInboxRow columns as admit() inserts them (state 'held'), with their types for unnest. */
const NEW_COLUMNS: Array<[string, string]> = [
  ['source_origin', 'text'],
  ['source_index', 'bigint'],
  ['message_id', 'text'],
  ['namespace', 'text'],
  ['seq', 'bigint'],
  ['action', 'text'],
  ['message', 'text'],
  ['reply_linked', 'integer'],
  ['received_ms', 'bigint'],
];

const INSERT_HELD = `
  INSERT INTO inbox_messages (${NEW_COLUMNS.map(([n]) => n).join(', ')}, state)
  SELECT ${NEW_COLUMNS.map(([n]) => n).join(', ')}, 'held'
  FROM unnest(${NEW_COLUMNS.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ')})
    AS r(${NEW_COLUMNS.map(([n]) => n).join(', ')})`;

function newValues(r: NewInboxRow): SqlScalar[] {
  return [
    r.sourceOrigin,
    r.sourceIndex,
    r.messageId,
    r.namespace,
    r.seq,
    r.action,
    r.message,
    r.replyLinked ? 1 : 0,
    r.receivedMs,
  ];
}

/** How many rows a stream walk reads at a time (as inbox-rows.ts's advanceStream). */
const WALK_CHUNK = 256;

/** The advisory lock of a stream: admit() and settle() of one stream take turns across front ends. */
const streamLock = (namespace: string, origin: string) => `inbox:stream:${namespace}\n${origin}`;
/** The lock under which a namespace's item cursors are assigned, so they commit in cursor order. */
const itemsLock = (namespace: string) => `inbox:items:${namespace}`;

/**
 * InboxStorage on PostgreSQL (issue 14): the same rows and answers as the SQLite InboxStore, in a
 * database several front ends share. admit() and settle() hold their streams' advisory locks for
 * the transaction (SQLite's IMMEDIATE), and each writes a batch with one statement per kind of
 * write (unnest), so a run of a thousand messages costs a handful of round trips. Every write
 * transaction checks the write fence first.
 */
export class PgInboxStorage implements InboxStorage {
  readonly #handle: PgStoreHandle;

  private constructor(handle: PgStoreHandle) {
    this.#handle = handle;
  }

  /** Connects (if given a URL) and brings the inbox's tables to the current version. */
  static async open(options: PgInboxStorageOptions): Promise<PgInboxStorage> {
    return new PgInboxStorage(await PgStoreHandle.open(options, PG_INBOX_SCHEMA));
  }

  async messageIdAt(sourceOrigin: string, sourceIndex: number): Promise<string | undefined> {
    const r = await this.#handle.db.row<{ message_id: string }>(
      'SELECT message_id FROM inbox_messages WHERE source_origin = $1 AND source_index = $2',
      [sourceOrigin, sourceIndex],
    );
    return r?.message_id;
  }

  async get(sourceOrigin: string, sourceIndex: number): Promise<InboxRow | undefined> {
    const r = await this.#handle.db.row<InboxRecord>(
      `SELECT ${INBOX_COLUMNS} FROM inbox_messages WHERE source_origin = $1 AND source_index = $2`,
      [sourceOrigin, sourceIndex],
    );
    return r && toInboxRow(r);
  }

  async bySeq(namespace: string, sourceOrigin: string, seq: number): Promise<InboxRow | undefined> {
    const r = await this.#handle.db.row<InboxRecord>(
      `SELECT ${INBOX_COLUMNS} FROM inbox_messages WHERE namespace = $1 AND source_origin = $2 AND seq = $3`,
      [namespace, sourceOrigin, seq],
    );
    return r && toInboxRow(r);
  }

  async streamFrom(namespace: string, sourceOrigin: string, seq: number, limit: number): Promise<InboxRow[]> {
    const rows = await this.#handle.db.rows<InboxRecord>(
      `SELECT ${INBOX_COLUMNS} FROM inbox_messages WHERE namespace = $1 AND source_origin = $2 AND seq >= $3
       ORDER BY seq LIMIT $4`,
      [namespace, sourceOrigin, seq, limit],
    );
    return rows.map(toInboxRow);
  }

  async nextSeq(namespace: string, sourceOrigin: string): Promise<number> {
    return nextSeqIn(this.#handle.db, namespace, sourceOrigin);
  }

  /** Under the stream's lock: three reads (ids, seq holders, next seq), the decision, one INSERT for every held row. */
  async admit(namespace: string, sourceOrigin: string, messages: readonly NewInboxRow[]): Promise<Admission[]> {
    if (messages.length === 0) return [];
    return this.#handle.db.transaction(
      async (tx) => {
        await this.#handle.fence.check(tx);
        const ids = await tx.rows<{ source_index: number; message_id: string }>(
          `SELECT source_index, message_id FROM inbox_messages
           WHERE source_origin = $1 AND source_index = ANY($2::bigint[])`,
          [sourceOrigin, messages.map((m) => m.sourceIndex)],
        );
        const holders = await tx.rows<{ seq: number; source_index: number }>(
          `SELECT seq, source_index FROM inbox_messages
           WHERE namespace = $1 AND source_origin = $2 AND seq = ANY($3::bigint[])`,
          [namespace, sourceOrigin, messages.map((m) => m.seq)],
        );
        const { admissions, inserts } = decideAdmission(messages, {
          nextSeq: await nextSeqIn(tx, namespace, sourceOrigin),
          idsByIndex: new Map(ids.map((r) => [r.source_index, r.message_id])),
          indexBySeq: new Map(holders.map((r) => [r.seq, r.source_index])),
        });
        if (inserts.length > 0) await tx.run(INSERT_HELD, toColumns(inserts.map(newValues), NEW_COLUMNS.length));
        return admissions;
      },
      { lock: streamLock(namespace, sourceOrigin) },
    );
  }

  async settle(settlement: InboxSettlement): Promise<void> {
    const { namespace, transitions } = settlement;
    const listed = transitions.filter((t): t is Of<'applied'> => t.to === 'applied' && t.listed);
    const locks = [
      ...new Set([
        ...transitions.map((t) => streamLock(namespace, t.sourceOrigin)),
        ...settlement.advance.map((origin) => streamLock(namespace, origin)),
        ...(listed.length > 0 ? [itemsLock(namespace)] : []),
      ]),
    ].sort();
    await this.#handle.db.transaction(async (tx) => {
      await this.#handle.fence.check(tx);
      // In one order everywhere, so two settlements never wait for each other's locks.
      for (const lock of locks) await tx.run('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [lock]);
      if (settlement.initialScanMark !== undefined) {
        await tx.run(
          'INSERT INTO inbox_scan_marks (namespace, next_index) VALUES ($1, $2) ON CONFLICT (namespace) DO NOTHING',
          [namespace, settlement.initialScanMark],
        );
      }
      for (const kind of KINDS) await transition(tx, kind, transitions);
      if (listed.length > 0) {
        await tx.run(
          `INSERT INTO inbox_items (namespace, source_origin, source_index)
           SELECT $1, o, i FROM unnest($2::text[], $3::bigint[]) WITH ORDINALITY AS u(o, i, ord) ORDER BY ord
           ON CONFLICT DO NOTHING`,
          [namespace, listed.map((t) => t.sourceOrigin), listed.map((t) => t.sourceIndex)],
        );
      }
      for (const origin of settlement.advance) await advance(tx, namespace, origin);
      if (settlement.raiseScanMark !== undefined) await raiseScanMark(tx, namespace, settlement.raiseScanMark);
    });
  }

  async items(namespace: string, after: number, limit: number): Promise<StoredInboxItem[]> {
    const rows = await this.#handle.db.rows<InboxRecord & { cursor: number }>(
      `SELECT i.cursor AS cursor, ${INBOX_COLUMNS_OF_M}
       FROM inbox_items i JOIN inbox_messages m
         ON m.source_origin = i.source_origin AND m.source_index = i.source_index
       WHERE i.namespace = $1 AND i.cursor > $2 ORDER BY i.cursor LIMIT $3`,
      [namespace, after, limit],
    );
    return rows.map((r) => ({ cursor: r.cursor, row: toInboxRow(r) }));
  }

  async lastCursor(namespace: string): Promise<number> {
    const r = await this.#handle.db.row<{ c: number | null }>(
      'SELECT max(cursor) AS c FROM inbox_items WHERE namespace = $1',
      [namespace],
    );
    return r?.c ?? 0;
  }

  async scanMark(namespace: string): Promise<number | undefined> {
    const r = await this.#handle.db.row<{ next_index: number }>(
      'SELECT next_index FROM inbox_scan_marks WHERE namespace = $1',
      [namespace],
    );
    return r?.next_index;
  }

  async recordIndexesFrom(namespace: string, from: number): Promise<number[]> {
    const rows = await this.#handle.db.rows<{ record_index: number }>(
      `SELECT record_index FROM inbox_messages WHERE namespace = $1 AND record_index >= $2 ORDER BY record_index`,
      [namespace, from],
    );
    return rows.map((r) => r.record_index);
  }

  async applyingRows(): Promise<InboxRow[]> {
    const rows = await this.#handle.db.rows<InboxRecord>(
      `SELECT ${INBOX_COLUMNS} FROM inbox_messages WHERE state = 'applying' ORDER BY namespace, source_origin, seq`,
    );
    return rows.map(toInboxRow);
  }

  /** Closes the pool if the storage opened it; a shared PgDatabase is left open. Idempotent. */
  async close(): Promise<void> {
    await this.#handle.close();
  }
}

async function nextSeqIn(q: PgQueryable, namespace: string, sourceOrigin: string): Promise<number> {
  const r = await q.row<{ next_seq: number }>(
    'SELECT next_seq FROM inbox_streams WHERE namespace = $1 AND source_origin = $2',
    [namespace, sourceOrigin],
  );
  return r?.next_seq ?? 1;
}

/** The settlement's transitions of one kind, in one statement; any row not found in the expected state fails it all. */
async function transition(tx: PgQueryable, kind: Kind, all: readonly InboxTransition[]): Promise<void> {
  const mine = all.filter((t) => t.to === kind);
  if (mine.length === 0) return;
  const width = 2 + TRANSITIONS[kind].values.length;
  const values = mine.map((t) => [t.sourceOrigin, t.sourceIndex, ...valuesOf(t)]);
  const found = await tx.rows<{ source_origin: string; source_index: number }>(
    TRANSITION_SQL[kind],
    toColumns(values, width),
  );
  if (found.length === mine.length) return;
  const done = new Set(found.map((r) => `${r.source_origin}\n${r.source_index}`));
  const missed = mine.find((t) => !done.has(`${t.sourceOrigin}\n${t.sourceIndex}`)) ?? mine[0]!;
  throw notInState(TRANSITION_FROM[kind], missed.sourceOrigin, missed.sourceIndex);
}

/** Moves the stream's next seq past every settled row from where it stands (as advanceStream on SQLite). */
async function advance(tx: PgQueryable, namespace: string, origin: string): Promise<void> {
  const start = await nextSeqIn(tx, namespace, origin);
  let next = start;
  for (;;) {
    const rows = await tx.rows<{ seq: number; state: string }>(
      `SELECT seq, state FROM inbox_messages WHERE namespace = $1 AND source_origin = $2 AND seq >= $3
       ORDER BY seq LIMIT $4`,
      [namespace, origin, next, WALK_CHUNK],
    );
    let i = 0;
    while (i < rows.length && rows[i]!.seq === next && (rows[i]!.state === 'applied' || rows[i]!.state === 'refused')) {
      next++;
      i++;
    }
    if (i < WALK_CHUNK) break;
  }
  if (next === start) return;
  await tx.run(
    `INSERT INTO inbox_streams (namespace, source_origin, next_seq) VALUES ($1, $2, $3)
     ON CONFLICT (namespace, source_origin) DO UPDATE SET next_seq = GREATEST(inbox_streams.next_seq, EXCLUDED.next_seq)`,
    [namespace, origin, next],
  );
}

async function raiseScanMark(tx: PgQueryable, namespace: string, nextIndex: number): Promise<void> {
  await tx.run(
    `INSERT INTO inbox_scan_marks (namespace, next_index) VALUES ($1, $2)
     ON CONFLICT (namespace) DO UPDATE SET next_index = GREATEST(inbox_scan_marks.next_index, EXCLUDED.next_index)`,
    [namespace, nextIndex],
  );
}
