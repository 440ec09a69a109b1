import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// E2e tests start the CLI compiled (packages/cli/bin → dist), not from source through tsx: a
// process start under the TypeScript loader costs ~1.7 s of CPU here against ~0.6 s compiled, and
// the slow suite starts a few hundred of them. scripts/run-tests.mjs runs `tsc -b` first, and this
// module refuses to run against a dist/ older than its sources, so a test never exercises stale code.

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The compiled CLI entry, as `npm install` leaves it on PATH. */
export const CLI_BIN = join(REPO_ROOT, 'packages/cli/bin/remembrancer.js');

/** The packages the CLI runs, in build order. */
const PACKAGES = ['core', 'node', 'cli'];

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) newest = Math.max(newest, newestSourceMtime(p));
    else if (name.endsWith('.ts')) newest = Math.max(newest, st.mtimeMs);
  }
  return newest;
}

/** Throws if any package's compiled output is missing or older than one of its source files. */
export function assertCompiledCliFresh(): void {
  for (const pkg of PACKAGES) {
    const dir = join(REPO_ROOT, 'packages', pkg);
    let built: number;
    try {
      built = statSync(join(dir, 'tsconfig.tsbuildinfo')).mtimeMs;
    } catch {
      throw new Error(`packages/${pkg} is not built: run \`npm run build\` (scripts/run-tests.mjs builds first)`);
    }
    if (newestSourceMtime(join(dir, 'src')) > built) {
      throw new Error(
        `packages/${pkg}/dist is older than its sources: run \`npm run build\` (scripts/run-tests.mjs builds first)`,
      );
    }
  }
}
