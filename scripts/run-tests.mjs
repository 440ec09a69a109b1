#!/usr/bin/env node
// Runs the test suites with Node's own test runner; test files run through tsx with the
// `vaultmesh-src` export condition. The processes e2e tests start run the compiled CLI, built here
// first (tsc -b), so no test depends on a stale dist/.
//
//   node scripts/run-tests.mjs            every test: the fast suite and the slow suite, one summary
//   node scripts/run-tests.mjs --fast     unit, property and route tests (packages/*/test), < 60 s
//   node scripts/run-tests.mjs --slow     e2e (test/e2e) and the crash suites: real processes
//   node scripts/run-tests.mjs FILTER...  only the test files whose path contains a FILTER, each in
//                                         its own process (e.g. `run-tests.mjs peer-auth`)
//
// Why shards: starting a process with the TypeScript loader costs ~1.5 s here, more than most test
// files take, so the fast suite runs its files in SHARDS processes (each file a suite of its own,
// its hooks scoped to it). The slow suite's files start real node processes and run each in its
// own process, several at once: they mostly wait on their children. All of it is one `node --test`
// run, so the summary at the end counts everything.
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Test files of the fast suite that start processes, kill them or wait on disks: they are
 * slow-suite. So is everything that starts a PostgreSQL cluster (under a postgres/ directory, or a
 * conformance suite that runs each test on SQLite and on PostgreSQL).
 */
const SLOW_IN_PACKAGES = [
  'crash-safety',
  'witness-persistence',
  'native-guard-pages',
  'anchoring-federation',
  '/postgres/',
  '-conformance.test.',
];
/**
 * End-to-end files that run a second time with every node on PostgreSQL (issue 14): each in a
 * wrapper that starts a cluster of its own, points the harness at it (test/e2e/harness/e2e-storage.ts)
 * and stops it after. Files that read or copy a node's SQLite files, time the host, or only drive a
 * browser are not in it.
 */
const POSTGRES_PASS = [
  'test/e2e/serve-cli.test.ts',
  'test/e2e/crash-recovery.test.ts',
  'test/e2e/entry-receipts-property.test.ts',
  'test/e2e/witness-protocol.test.ts',
  'test/e2e/namespace-governance-cli.test.ts',
  'test/e2e/message-cli.test.ts',
  'test/e2e/verify-policy.test.ts',
];
/** In-process shards of the fast suite (this machine has two cores). */
const SHARDS = 2;
/** Test processes at once: shards are CPU-bound, e2e files mostly wait on the nodes they start. */
const CONCURRENCY = 3;

function collect(dir, out) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    if (name === 'node_modules' || name === 'dist' || name === 'fixtures') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) collect(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

const args = process.argv.slice(2);
const suite = args.includes('--fast') ? 'fast' : args.includes('--slow') ? 'slow' : 'all';
const filters = args.filter((a) => !a.startsWith('--'));

const packageFiles = readdirSync(join(root, 'packages')).flatMap((p) => collect(join(root, 'packages', p, 'test'), []));
const isSlowInPackages = (f) => SLOW_IN_PACKAGES.some((s) => f.includes(s));
const fast = packageFiles.filter((f) => !isSlowInPackages(f));
const slow = [...packageFiles.filter(isSlowInPackages), ...collect(join(root, 'test'), [])];

let tmp;
let files;
if (filters.length > 0) {
  files = [...fast, ...slow].filter((f) => filters.some((x) => f.includes(x)));
  if (files.length === 0) {
    console.error('no test files matched');
    process.exit(1);
  }
} else {
  files = [];
  if (suite !== 'slow') {
    tmp = mkdtempSync(join(tmpdir(), 'remembrancer-test-shards-'));
    files.push(...shards(fast, tmp));
  }
  if (suite !== 'fast') files.push(...slow);
}
// The PostgreSQL pass: with the whole or slow suite, or alone with --postgres-pass.
if (args.includes('--postgres-pass') || (filters.length === 0 && suite !== 'fast')) {
  tmp ??= mkdtempSync(join(tmpdir(), 'remembrancer-test-shards-'));
  if (args.includes('--postgres-pass') && filters.length === 0 && !args.includes('--slow')) files = [];
  const pass = postgresPass(tmp);
  files.push(...pass);
  slow.push(...pass);
}

/** Writes the PostgreSQL pass's wrappers (see POSTGRES_PASS). */
function postgresPass(dir) {
  const cluster = pathToFileURL(join(root, 'packages/node/test/storage/postgres/postgres-cluster.ts')).href;
  return POSTGRES_PASS.map((f) => {
    const name = f
      .split('/')
      .pop()
      .replace(/\.test\.ts$/, '');
    const file = join(dir, `postgres-${name}.test.mjs`);
    writeFileSync(
      file,
      [
        "import { after, before } from 'node:test';",
        `const { startPostgresCluster } = await import(${JSON.stringify(cluster)});`,
        'let cluster;',
        'before(async () => {',
        '  cluster = await startPostgresCluster({ fsync: false });',
        '  process.env.REMEMBRANCER_E2E_POSTGRES = cluster.url;',
        '});',
        'after(async () => { await cluster?.stop(); });',
        `await import(${JSON.stringify(pathToFileURL(join(root, f)).href)});`,
      ].join('\n') + '\n',
    );
    return file;
  });
}

/** Writes SHARDS entry files, each importing its share of `testFiles` inside a suite per file. */
function shards(testFiles, dir) {
  const out = [];
  for (let s = 0; s < SHARDS; s++) {
    const mine = testFiles.filter((_, i) => i % SHARDS === s);
    const lines = [
      "import { describe, test } from 'node:test';",
      // A file that fails to load counts as a failed test, not only as a failed suite.
      'const load = (url) => async () => { try { await import(url); } catch (e) { test("the test file loads", () => { throw e; }); } };',
      ...mine.map((f) => `describe(${JSON.stringify(f)}, load(${JSON.stringify(pathToFileURL(join(root, f)).href)}));`),
    ];
    const file = join(dir, `fast-shard-${s + 1}.test.mjs`);
    writeFileSync(file, lines.join('\n') + '\n');
    out.push(file);
  }
  return out;
}

// The slow suite's processes run the compiled CLI (test/e2e/harness/compiled-cli.ts): build it
// first. Incremental, so ~1 s when dist/ is current (as after `npm run typecheck`).
if (files.some((f) => slow.includes(f))) {
  const build = spawnSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'packages/core', 'packages/node', 'packages/cli'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  if (build.status !== 0) {
    console.error('tsc -b failed: the slow suite runs the compiled CLI');
    process.exit(build.status ?? 1);
  }
}

// The explorer's browser tests (test/e2e/explorer*.test.ts) open the explorer the nodes serve from
// packages/explorer/dist: build it once here (vite, ~1 s), before test files run in parallel.
if (files.some((f) => /^test\/e2e\/explorer[^/]*\.test\.ts$/.test(f))) {
  const build = spawnSync('npm', ['run', 'build', '-w', 'packages/explorer'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) {
    console.error('the explorer build failed: its browser tests open the built explorer');
    process.exit(build.status ?? 1);
  }
}

const r = spawnSync(
  process.execPath,
  [
    '--conditions=vaultmesh-src',
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${CONCURRENCY}`,
    '--test-timeout=300000',
    ...files,
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
if (tmp) rmSync(tmp, { recursive: true, force: true });
process.exit(r.status ?? 1);
