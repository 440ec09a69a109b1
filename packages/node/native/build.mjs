#!/usr/bin/env node
// Builds the sha256_batch addon with node-gyp, offline: node-gyp is taken from npm's own
// install and the headers from the local Node installation, so nothing is downloaded.
//
//   node packages/node/native/build.mjs              build; exit 1 if it fails
//   node packages/node/native/build.mjs --optional   build; on failure warn and exit 0
//                                                    (the node:crypto fallback takes over)
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const optional = process.argv.includes('--optional');
const require = createRequire(import.meta.url);

function fail(message) {
  if (optional) {
    console.warn(`sha256_batch: ${message}; hashing falls back to node:crypto (correct, ~20x slower)`);
    process.exit(0);
  }
  console.error(`sha256_batch: ${message}`);
  process.exit(1);
}

// The node-gyp bundled with npm: npm exports its path to scripts; otherwise look beside npm.
function findNodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  if (process.env.npm_execpath)
    candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // Not installed beside us: the other candidates may still have it.
  }
  const prefix = dirname(dirname(process.execPath));
  candidates.push(join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(join(prefix, 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((p) => p && existsSync(p));
}

// Headers of exactly this Node version (node_api.h, and openssl/ should the addon ever need it):
// npm's nodedir setting if given, else <prefix>/include/node when its version matches.
function findNodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = dirname(dirname(process.execPath));
  try {
    const h = readFileSync(join(prefix, 'include', 'node', 'node_version.h'), 'utf8');
    const v = ['MAJOR', 'MINOR', 'PATCH']
      .map((k) => h.match(new RegExp(`#define NODE_${k}_VERSION (\\d+)`))?.[1])
      .join('.');
    if (`v${v}` === process.version && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) return prefix;
  } catch {
    // No headers installed with this Node.
  }
  return undefined; // node-gyp then uses its header cache, or downloads
}

const gyp = findNodeGyp();
if (!gyp) fail('node-gyp not found (it ships with npm)');
const nodedir = findNodeDir();
const args = [gyp, 'rebuild', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
const r = spawnSync(process.execPath, args, { cwd: here, stdio: ['ignore', 'inherit', 'inherit'] });
if (r.status !== 0) fail(`node-gyp rebuild failed (exit ${r.status ?? r.signal})`);

// Load it once here so a broken build is reported at build time rather than silently bypassed.
try {
  const addon = require(join(here, 'build', 'Release', 'sha256_batch.node'));
  const h = Buffer.from(addon.leafHashes(new Uint8Array(0), Uint32Array.of(0, 0))).toString('hex');
  if (h !== '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d')
    fail('built addon gives a wrong RFC 6962 leaf hash');
  console.log(`sha256_batch: built (${addon.implementation()}; this CPU runs ${addon.implementations().join(', ')})`);
} catch (e) {
  fail(`built addon does not load: ${e instanceof Error ? e.message : e}`);
}
