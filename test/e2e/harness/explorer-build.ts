import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The nodes of an e2e test serve packages/explorer/dist (the node's default explorerDir), so a
// browser test must not run against a build older than the explorer's sources or the core code it
// bundles. scripts/run-tests.mjs builds it before the slow suite when an explorer test is among
// the files (once, so parallel test files never build into one dist/ at the same time); this
// module builds it only when it is still stale: a test file run on its own with `node --test`.

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const EXPLORER_DIR = join(REPO_ROOT, 'packages/explorer');

/** The inputs of the explorer's build: its sources and config, and the core package it bundles. */
const INPUTS = [
  'packages/explorer/src',
  'packages/explorer/index.html',
  'packages/explorer/vite.config.ts',
  'packages/core/src',
];

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

function builtAt(): number | undefined {
  try {
    return statSync(join(EXPLORER_DIR, 'dist/index.html')).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Builds the explorer (`npm run build -w packages/explorer`, ~1 s) unless dist/ is newer than every input. */
export function ensureExplorerBuilt(): void {
  const built = builtAt();
  const newest = Math.max(...INPUTS.map((p) => newestMtime(join(REPO_ROOT, p))));
  if (built !== undefined && built >= newest) return;
  const r = spawnSync('npm', ['run', 'build', '-w', 'packages/explorer'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`the explorer build failed (${r.status}): ${r.stdout}${r.stderr}`);
}
