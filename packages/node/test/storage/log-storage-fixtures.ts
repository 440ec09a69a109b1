import type { NamespaceCommit, StoredCheckpoint } from '../../src/storage/index.js';
import { LEAF_CHUNK } from '../../src/storage/leaf-runs.js';

/** Rows for log storage tests of any backend: namespaces, checkpoints and commits with made-up hashes. */
export const bytes = (...xs: number[]): Uint8Array => Uint8Array.from(xs);
export const hash = (fill: number): Uint8Array => new Uint8Array(32).fill(fill);
export const cp = (size: number, fill = size): StoredCheckpoint => ({
  size,
  root: hash(fill),
  note: `origin\n${size}\nroot\n\n— sig\n`,
  publishedAt: new Date(1_700_000_000_000 + size).toISOString(),
});
export const ns = (id: string) => ({
  id,
  origin: `node/${id}`,
  logVkey: `node/${id}+01234567+AQ==`,
  createdAt: '2026-01-01T00:00:00.000Z',
  policy: '{"a":1}',
});

/** Leaf hash of index i (no real tree: storage does not check tiles against entries). */
export function leafOf(i: number): Uint8Array {
  const h = new Uint8Array(32).fill(0x5a);
  h[0] = i & 0xff;
  h[1] = (i >>> 8) & 0xff;
  h[2] = i >>> 16;
  return h;
}

/** One whole chunk of entries with its 256 full level-0 tiles, whose base rows are leafOf(i). */
export function chunkCommit(key: number, chunk: number, indexLeaves: boolean): NamespaceCommit {
  const start = chunk * LEAF_CHUNK;
  const tiles = Array.from({ length: 256 }, (_, t) => {
    const data = new Uint8Array(511 * 32);
    for (let i = 0; i < 256; i++) data.set(leafOf(start + t * 256 + i), i * 32);
    return { level: 0, index: chunk * 256 + t, width: 256, data };
  });
  return {
    namespace: key,
    previousSize: start,
    entries: Array.from({ length: LEAF_CHUNK }, (_, i) => bytes(i & 0xff, i >>> 8)),
    tiles,
    tree: { size: start + LEAF_CHUNK, compactRange: [hash(chunk + 1)] },
    ...(indexLeaves ? { indexLeaves: true } : {}),
  };
}

export function commitOf(key: number, previousSize: number, n: number, fill = 1): NamespaceCommit {
  const entries = Array.from({ length: n }, (_, i) => bytes(fill, previousSize + i));
  return {
    namespace: key,
    previousSize,
    entries,
    tiles: [{ level: 0, index: 0, width: previousSize + n, data: new Uint8Array((previousSize + n) * 32).fill(fill) }],
    tree: { size: previousSize + n, compactRange: Array.from({ length: 1 }, () => hash(fill)) },
  };
}
