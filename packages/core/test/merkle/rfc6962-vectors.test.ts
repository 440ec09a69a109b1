import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  RemembrancerError,
  isConsistencyValid,
  isInclusionValid,
  verifyConsistency,
  verifyInclusion,
} from '../../src/index.js';

/*
 * Conformance with the transparency-dev/merkle proof vectors (vectors/rfc6962/, see SOURCE.md
 * there). Every file found is a case, so new vectors are picked up without touching this test.
 * Located through $VAULTMESH_VECTORS, else the repository's copy in test/vectors/ (or a `vectors/`
 * or `shared/vectors/` directory next to any ancestor of this file).
 */
function vectorsRoot(): string {
  const fromEnv = process.env['VAULTMESH_VECTORS'];
  if (fromEnv !== undefined && fromEnv !== '') return join(fromEnv, 'rfc6962');
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    for (const candidate of [
      join(dir, 'test', 'vectors', 'rfc6962'),
      join(dir, 'vectors', 'rfc6962'),
      join(dir, 'shared', 'vectors', 'rfc6962'),
    ]) {
      if (existsSync(candidate)) return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('vectors/rfc6962 not found; set VAULTMESH_VECTORS');
    dir = parent;
  }
}

function jsonFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? jsonFiles(p) : name.endsWith('.json') ? [p] : [];
    });
}

// Lenient decoding on purpose: the negative cases carry values such as "" that are not hashes,
// and the verifier, not the test, has to reject them.
const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
const proofOf = (p: string[] | null): Uint8Array[] => (p ?? []).map(b64);

interface InclusionCase {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}
interface ConsistencyCase {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

const root = vectorsRoot();
const inclusionFiles = jsonFiles(join(root, 'inclusion'));
const consistencyFiles = jsonFiles(join(root, 'consistency'));

function expectVerdict(wantErr: boolean, verify: () => void, predicate: () => boolean): void {
  if (wantErr) {
    // Rejection must be a typed verification error, never a crash.
    assert.throws(verify, (e: unknown) => e instanceof RemembrancerError);
    assert.equal(predicate(), false);
  } else {
    verify();
    assert.equal(predicate(), true);
  }
}

test('the vector set is present and complete', () => {
  assert.ok(inclusionFiles.length >= 98, `${inclusionFiles.length} inclusion vectors`);
  assert.ok(consistencyFiles.length >= 98, `${consistencyFiles.length} consistency vectors`);
});

test('inclusion vectors', async (t) => {
  for (const file of inclusionFiles) {
    const v = JSON.parse(readFileSync(file, 'utf8')) as InclusionCase;
    await t.test(relative(root, file), () => {
      const leaf = b64(v.leafHash);
      const proof = proofOf(v.proof);
      const r = b64(v.root);
      expectVerdict(
        v.wantErr,
        () => verifyInclusion(v.leafIdx, v.treeSize, leaf, proof, r),
        () => isInclusionValid(v.leafIdx, v.treeSize, leaf, proof, r),
      );
    });
  }
});

test('consistency vectors', async (t) => {
  for (const file of consistencyFiles) {
    const v = JSON.parse(readFileSync(file, 'utf8')) as ConsistencyCase;
    await t.test(relative(root, file), () => {
      const proof = proofOf(v.proof);
      const r1 = b64(v.root1);
      const r2 = b64(v.root2);
      expectVerdict(
        v.wantErr,
        () => verifyConsistency(v.size1, v.size2, proof, r1, r2),
        () => isConsistencyValid(v.size1, v.size2, proof, r1, r2),
      );
    });
  }
});
