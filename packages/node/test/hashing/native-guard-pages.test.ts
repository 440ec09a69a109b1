import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The SIMD drivers read message bodies with wide and byte-masked loads; this compiles the C
// guard-page check (packages/node/native/test/guard_pages.c) and runs it, so a read one byte past
// a body (or before it, for the prefix) faults here instead of in production.
const nativeDir = fileURLToPath(new URL('../../native/', import.meta.url));
const cc = process.env['CC'] ?? 'cc';
const hasCompiler = process.platform !== 'win32' && spawnSync(cc, ['--version'], { stdio: 'ignore' }).status === 0;

test('batch drivers never read outside message bodies', { skip: hasCompiler ? false : 'no C compiler' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sha256-guard-'));
  try {
    const exe = join(dir, 'guard');
    const sources = ['test/guard_pages.c', 'src/sha256_batch.c', 'src/sha256_scalar.c', 'src/sha256_x86.c'];
    const build = spawnSync(cc, ['-O2', '-std=c11', '-D_DEFAULT_SOURCE', '-Isrc', ...sources, '-o', exe], {
      cwd: nativeDir,
      encoding: 'utf8',
    });
    assert.equal(build.status, 0, build.stderr);
    const run = spawnSync(exe, [], { encoding: 'utf8' });
    assert.equal(run.signal, null, `guard check died with ${run.signal}`);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, / 0 mismatches/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
