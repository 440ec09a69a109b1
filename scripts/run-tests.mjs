#!/usr/bin/env node
// Runs every *.test.ts under packages/*/test and test/ with Node's own test runner. Node 20's
// `--test` takes no globs, so the files are listed here; sources run through tsx with the
// `vaultmesh-src` export condition, so tests never depend on a stale dist/.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

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

const filters = process.argv.slice(2);
const roots = [...readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p, 'test')), join(root, 'test')];
let files = roots.flatMap((d) => collect(d, []));
if (filters.length > 0) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const args = [
  '--conditions=vaultmesh-src',
  '--import', 'tsx',
  '--test',
  '--test-concurrency=2',
  '--test-timeout=300000',
  ...files,
];
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } });
process.exit(r.status ?? 1);
