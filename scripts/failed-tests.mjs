#!/usr/bin/env node
// Lists the failed tests of a saved TAP log (node --test's output) with the first lines of each
// failure's details, then prints the runner's summary again so that it stays the log's last lines.
// CI shows only the end of a long log: without this, which test failed would be cut off.
//
//   node scripts/failed-tests.mjs LOG
import { readFileSync } from 'node:fs';

const DETAIL_LINES = 14;
const SUMMARY = /^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) /;

const path = process.argv[2];
if (path === undefined) {
  console.error('usage: failed-tests.mjs LOG');
  process.exit(2);
}
const lines = readFileSync(path, 'utf8').split('\n');

const out = [];
for (let i = 0; i < lines.length; i++) {
  const m = /^(\s*)not ok \d+ - (.*)$/.exec(lines[i]);
  if (m === null) continue;
  out.push(lines[i]);
  // The YAML block after a result: keep its error, location and the top of its stack.
  let shown = 0;
  for (let j = i + 1; j < lines.length && shown < DETAIL_LINES; j++) {
    const l = lines[j];
    if (l.trim() === '...') break;
    if (l.trim() === '---' || /duration_ms:|type: 'suite'/.test(l)) continue;
    out.push(l);
    shown++;
  }
}

console.log(`\n==== failed tests (${out.filter((l) => /not ok/.test(l)).length} results, nested ones first) ====`);
for (const l of out) console.log(l);
const summaryStart = lines.findLastIndex((l) => /^# tests /.test(l));
if (summaryStart >= 0) {
  console.log('');
  for (const l of lines.slice(summaryStart)) if (SUMMARY.test(l)) console.log(l);
}
