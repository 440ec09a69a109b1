// Tree building from entry bytes to RFC 6962 root: our batch hasher (native addon and its
// node:crypto fallback) against the npm merkletreejs package on the same leaves.
import * as crypto from 'node:crypto';
import { MerkleTree } from 'merkletreejs';
import {
  JsBatchHasher,
  loadBatchHasher,
  packEntries,
  treeRootPacked,
  type BatchHasher,
} from '../packages/node/src/hashing/index.ts';
import { rate, ratio, time, type BenchContext, type BenchResults } from './measure.ts';

const ENTRY_BYTES = 64;

/** Entries as the sequencer holds them: separate byte arrays (here views of one random buffer). */
function makeEntries(n: number): Uint8Array[] {
  const all = crypto.randomBytes(n * ENTRY_BYTES);
  return Array.from({ length: n }, (_, i) => all.subarray(i * ENTRY_BYTES, (i + 1) * ENTRY_BYTES));
}

/** The measured path: pack the entries, hash all leaves in one call, then one call per level. */
function buildRoot(entries: readonly Uint8Array[], hasher: BatchHasher): Uint8Array {
  const { data, offsets } = packEntries(entries);
  return treeRootPacked(hasher.leafHashesPacked(data, offsets), hasher);
}

function sha256(data: Uint8Array): Buffer {
  return crypto.hash('sha256', data, 'buffer');
}

/**
 * merkletreejs set up as close to RFC 6962 as it allows:
 * - leaves are hashed by us as SHA-256(0x00 ‖ entry) (inside the timed build) and passed with
 *   hashLeaves: false, because merkletreejs would hash leaves with the same function as nodes;
 * - the node hash function prepends 0x01 to the left ‖ right concatenation it is given;
 * - an odd last node is promoted unhashed (its default; no duplicateOdd, sort or complete),
 *   which yields exactly MTH's ragged right edge, so its root must equal ours (checked).
 * What still differs: the empty tree has no root there (ours: SHA-256("")); proofs are
 * {position, data} objects rather than RFC 9162 audit paths, and they carry no tree size;
 * leaves are looked up by value unless the index is passed (we pass it).
 */
function merkletreejsBuild(entries: readonly Uint8Array[]): MerkleTree {
  const scratch = Buffer.alloc(1 + 2 * 32);
  const leaves = entries.map((e) => {
    const m = Buffer.allocUnsafe(1 + e.length);
    m[0] = 0x00;
    m.set(e, 1);
    return sha256(m);
  });
  return new MerkleTree(
    leaves,
    (pair: Buffer) => {
      scratch[0] = 0x01;
      scratch.set(pair, 1);
      return sha256(scratch);
    },
    { hashLeaves: false },
  );
}

export default async function treeBuild(ctx: BenchContext): Promise<BenchResults> {
  const n = ctx.quick ? 200_000 : 1_000_000;
  const out: BenchResults = {};
  ctx.log(`tree-build: ${n} random ${ENTRY_BYTES}-byte entries`);
  const entries = makeEntries(n);

  const hasher = loadBatchHasher();
  const js = new JsBatchHasher();
  ctx.note('tree_build_hasher', `${hasher.kind}/${hasher.implementation}`);
  ctx.note('tree_build_entries', `${n} × ${ENTRY_BYTES} B`);
  if (hasher.kind !== 'native') {
    console.error('tree-build: native addon not built (npm run build:native); measuring the node:crypto fallback');
  }

  let root: Uint8Array = new Uint8Array(0);
  const native = time(() => (root = buildRoot(entries, hasher)), { repeats: ctx.quick ? 5 : 7, warmup: 1 });
  out['tree_build_leaves_per_s'] = rate(n, native.median);

  // Without packing: what a caller that already holds entries contiguously (a tile, a batch
  // read from storage) gets.
  const { data, offsets } = packEntries(entries);
  const packed = time(() => treeRootPacked(hasher.leafHashesPacked(data, offsets), hasher), {
    repeats: ctx.quick ? 5 : 7,
  });
  out['tree_build_packed_leaves_per_s'] = rate(n, packed.median);

  let jsRoot: Uint8Array = new Uint8Array(0);
  const jsTime = time(() => (jsRoot = buildRoot(entries, js)), { repeats: 1, warmup: 0 });
  out['tree_build_js_leaves_per_s'] = rate(n, jsTime.median);
  if (Buffer.compare(root, jsRoot) !== 0) throw new Error('tree-build: native and JS roots differ');

  ctx.log('tree-build: merkletreejs build');
  let tree: MerkleTree | undefined;
  const mtBuild = time(() => (tree = merkletreejsBuild(entries)), { repeats: 1, warmup: 0 });
  out['merkletreejs_tree_build_leaves_per_s'] = rate(n, mtBuild.median);
  if (Buffer.compare(tree!.getRoot(), root) !== 0)
    throw new Error('tree-build: merkletreejs root differs from RFC 6962 root');

  ctx.log('tree-build: merkletreejs one proof per leaf');
  const mt = tree!;
  const leaves = mt.getLeaves();
  let steps = 0;
  const mtProofs = time(
    () => {
      for (let i = 0; i < n; i++) steps += mt.getProof(leaves[i]!, i).length;
    },
    { repeats: 1, warmup: 0 },
  );
  if (steps === 0) throw new Error('tree-build: merkletreejs returned empty proofs');
  out['merkletreejs_proofs_per_s'] = rate(n, mtProofs.median);

  const vs = ratio(out['tree_build_leaves_per_s'], out['merkletreejs_tree_build_leaves_per_s']);
  if (vs !== undefined) out['tree_build_vs_merkletreejs_ratio'] = vs;
  return out;
}
