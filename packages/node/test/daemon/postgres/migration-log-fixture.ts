import { leafHash } from '@vaultmesh/core';
import type { NodeIdentity } from '../../../src/config/node-config.js';
import { postgresOwner } from '../../../src/daemon/postgres-owner.js';
import { openLogEngine } from '../../../src/log/open-log-engine.js';
import { createLogEngine } from '../../../src/log/tiled-log-engine.js';
import { LEAF_CHUNK } from '../../../src/storage/leaf-runs.js';
import type { LogStorage } from '../../../src/storage/log-storage.js';
import { PgLogStorage } from '../../../src/storage/postgres/pg-log-storage.js';
import { SqliteLogStorage } from '../../../src/storage/sqlite/sqlite-log-storage.js';

/**
 * A node's log for `remembrancer migrate` tests, written by the real engine (real tiles, trees
 * and signed checkpoints): one namespace past a whole leaf-index chunk (so level-1 tiles and leaf
 * runs exist), and small ones with unicode text and raw bytes (NUL, 0xff) as entries.
 */
export const BIG = 'dao:big';
export const SMALL = ['dao:small', 'fin:clearing'];
const BIG_SIZE = LEAF_CHUNK + 300;
const BATCH = 4_096;

const encoder = new TextEncoder();
const smallEntry = (i: number): Uint8Array =>
  i % 3 === 2 ? Uint8Array.from([0, 0xff, i, 0, 0x80]) : encoder.encode(JSON.stringify({ i, note: 'é ✓ 🌍' }));
const bigEntry = (i: number): Uint8Array => encoder.encode(`entry ${i}`);

const engineConfig = (identity: NodeIdentity) => ({
  nodeName: identity.config.name,
  logSeed: identity.logSeed,
  checkpointIntervalMs: 0,
  leafIndex: true,
  tileMirrorDir: false as const,
});

export async function fillLog(identity: NodeIdentity): Promise<void> {
  const engine = await openLogEngine({ dbPath: identity.dbPath, synchronous: 'NORMAL', ...engineConfig(identity) });
  try {
    for (const id of [BIG, ...SMALL]) await engine.createNamespace(id, { note: 'é ✓', id });
    for (const [n, id] of SMALL.entries()) {
      for (let i = 0; i < 5 + n; i++) await engine.append(id, [smallEntry(i), smallEntry(i + 100)]);
      await engine.publishCheckpoint(id);
      await engine.append(id, [smallEntry(200)]);
      await engine.publishCheckpoint(id);
    }
    for (let from = 0; from < BIG_SIZE; from += BATCH) {
      const n = Math.min(BATCH, BIG_SIZE - from);
      await engine.append(
        BIG,
        Array.from({ length: n }, (_, i) => bigEntry(from + i)),
      );
      if (from === 0) await engine.publishCheckpoint(BIG);
    }
    await engine.publishCheckpoint(BIG);
  } finally {
    await engine.close();
  }
}

export function sqliteLog(identity: NodeIdentity): LogStorage {
  return new SqliteLogStorage({ path: identity.dbPath });
}

export function postgresLog(identity: NodeIdentity, url: string): Promise<LogStorage> {
  return PgLogStorage.open({ db: url, owner: postgresOwner(identity) });
}

/** Everything the log storage answers: namespaces, trees, every entry and tile, checkpoints, leaf search. */
export async function logAnswers(s: LogStorage): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const namespaces = await s.loadNamespaces();
  out.namespaces = namespaces;
  for (const ns of namespaces) {
    const tree = await s.loadTreeState(ns.key);
    const size = tree.size;
    out[`${ns.id} tree`] = tree;
    out[`${ns.id} count`] = await s.entryCount(ns.key);
    out[`${ns.id} bytes`] = await s.entryBytes(ns.key);
    out[`${ns.id} leafIndexed`] = await s.leafIndexedSize(ns.key);
    out[`${ns.id} latest`] = await s.latestCheckpoint(ns.key);
    out[`${ns.id} history`] = await s.checkpointHistory(ns.key, 100);
    out[`${ns.id} entries`] = await s.readEntries(ns.key, 0, size);
    out[`${ns.id} entry past the end`] = await s.readEntry(ns.key, size);
    for (let level = 0, width = size; width > 0; level++, width = Math.floor(width / 256))
      for (let index = 0; index <= Math.floor(width / 256); index++)
        out[`${ns.id} tile ${level}/${index}`] = await s.readTile(ns.key, level, index);
    const first = await s.readEntry(ns.key, 0);
    if (first !== undefined) out[`${ns.id} leaf 0`] = await s.leafCandidates(ns.key, leafHash(first), 0);
  }
  return out;
}

/**
 * What a node serving from the storage answers for receipts and proofs: roots, inclusion and
 * consistency proofs, the latest signed checkpoint, an entry found by its leaf hash. The engine
 * takes the storage and closes it.
 */
export async function servedAnswers(identity: NodeIdentity, s: LogStorage): Promise<Record<string, unknown>> {
  const engine = await createLogEngine(s, engineConfig(identity));
  try {
    const out: Record<string, unknown> = {};
    for (const id of [BIG, ...SMALL]) {
      const size = engine.integratedSize(id);
      out[`${id} size`] = size;
      out[`${id} root`] = await engine.rootAt(id, size);
      out[`${id} checkpoint`] = engine.latestCheckpoint(id);
      for (const i of [0, 1, Math.floor(size / 2), size - 1])
        out[`${id} inclusion ${i}`] = await engine.inclusionProof(id, i, size);
      out[`${id} consistency`] = await engine.consistencyProof(id, 3, size);
      const last = await engine.getEntry(id, size - 1);
      out[`${id} find last`] = last === undefined ? undefined : await engine.findLeaf(id, leafHash(last));
    }
    return out;
  } finally {
    await engine.close();
  }
}
