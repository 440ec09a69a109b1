#!/usr/bin/env node
// Measures what a first visit loads: the entry script and the chunks index.html preloads, each
// gzipped (level 9, as a server would send it), plus the CSS. Writes dist/bundle-size.json (the
// node does not serve it specially; docs/benchmarks.md reports it) and fails the build when the
// initial JavaScript passes the budget of issue 13: 150 KB gzipped.
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BUDGET_BYTES = 150 * 1024;
const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const html = readFileSync(join(dist, 'index.html'), 'utf8');

const scripts = [...html.matchAll(/<script[^>]+src="\/explorer\/([^"]+)"/g)].map((m) => m[1]);
const preloads = [...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="\/explorer\/([^"]+)"/g)].map((m) => m[1]);
const styles = [...html.matchAll(/<link[^>]+rel="stylesheet"[^>]+href="\/explorer\/([^"]+)"/g)].map((m) => m[1]);
if (scripts.length === 0) {
  console.error('bundle-size: no entry script found in dist/index.html');
  process.exit(1);
}
const size = (file) => {
  const bytes = readFileSync(join(dist, file));
  return { file, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
};
const js = [...new Set([...scripts, ...preloads])].map(size);
const css = styles.map(size);
const initialJsGzip = js.reduce((a, f) => a + f.gzip, 0);
const report = { budget_gzip_bytes: BUDGET_BYTES, initial_js_gzip_bytes: initialJsGzip, js, css };
writeFileSync(join(dist, 'bundle-size.json'), `${JSON.stringify(report, null, 2)}\n`);
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(
  `explorer initial JS: ${kb(initialJsGzip)} gzipped (budget ${kb(BUDGET_BYTES)}); CSS ${kb(css.reduce((a, f) => a + f.gzip, 0))} gzipped`,
);
if (initialJsGzip > BUDGET_BYTES) {
  console.error(`bundle-size: initial JS ${kb(initialJsGzip)} gzipped is over the budget of ${kb(BUDGET_BYTES)}`);
  process.exit(1);
}
