// Benchmark harness: `npm run bench` (= node --import tsx bench/run.ts) [--quick] [area ...].
// Runs the areas below in order, prints a table, and merges the figures into bench/results.json
// (keys from areas not run this time are kept).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Benchmark, BenchResults } from './measure.ts';

// One line per benchmark area: bench/<name>.ts, whose default export is a Benchmark.
const AREAS = [
  'tree-build',
  'sha256-floor',
  'log-append',
  'proofs',
  'http',
  'scale',
  'federation',
  'namespaces',
  'anchoring',
  'chain-anchors',
  'messaging',
  'postgres',
] as const;

const RESULTS_PATH = fileURLToPath(new URL('./results.json', import.meta.url));

interface AreaRun {
  date: string;
  mode: 'quick' | 'full';
  node: string;
  seconds: number;
  keys: string[];
  notes?: Record<string, string>;
}

function machine(): Record<string, string | number> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: os.platform(),
    release: os.release(),
    arch: os.arch(),
  };
}

function readResults(): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(RESULTS_PATH, 'utf8'));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

function format(key: string, value: number): string {
  if (key.endsWith('_ratio')) return `${value.toFixed(2)}×`;
  if (key.endsWith('_per_s')) return `${value.toLocaleString('en-US')} /s`;
  return String(value);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const unknownFlags = args.filter((a) => a.startsWith('-') && a !== '--quick');
  const wanted = args.filter((a) => !a.startsWith('-'));
  const unknownAreas = wanted.filter((a) => !(AREAS as readonly string[]).includes(a));
  if (unknownFlags.length > 0 || unknownAreas.length > 0) {
    console.error(`usage: node --import tsx bench/run.ts [--quick] [${AREAS.join('|')} ...]`);
    process.exit(2);
  }
  const areas = wanted.length > 0 ? AREAS.filter((a) => wanted.includes(a)) : AREAS;
  const mode = quick ? 'quick' : 'full';

  const results: BenchResults = {};
  const runs: Record<string, AreaRun> = {};
  const rows: Array<[string, string, string]> = [];
  for (const area of areas) {
    const mod = (await import(`./${area}.ts`)) as { default: Benchmark };
    const notes: Record<string, string> = {};
    const t0 = process.hrtime.bigint();
    const got = await mod.default({
      quick,
      results,
      log: (m) => console.error(`  … ${m}`),
      note: (k, v) => void (notes[k] = v),
    });
    const seconds = Math.round((Number(process.hrtime.bigint() - t0) / 1e9) * 10) / 10;
    Object.assign(results, got);
    runs[area] = {
      date: new Date().toISOString(),
      mode,
      node: process.version,
      seconds,
      keys: Object.keys(got),
      ...(Object.keys(notes).length > 0 ? { notes } : {}),
    };
    for (const [k, v] of Object.entries(got)) rows.push([area, k, format(k, v)]);
    console.error(`  ✓ ${area} (${seconds} s)`);
  }

  const widths = [0, 1, 2].map((c) =>
    Math.max(...rows.map((r) => r[c]!.length), ['area', 'metric', 'value'][c]!.length),
  );
  const line = (r: readonly string[]): string =>
    `${r[0]!.padEnd(widths[0]!)}  ${r[1]!.padEnd(widths[1]!)}  ${r[2]!.padStart(widths[2]!)}`;
  console.log(line(['area', 'metric', 'value']));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(r));

  const previous = readResults();
  const previousRuns =
    previous['runs'] !== null && typeof previous['runs'] === 'object'
      ? (previous['runs'] as Record<string, AreaRun>)
      : {};
  const merged = {
    ...previous,
    ...results,
    machine: machine(),
    node: process.version,
    date: new Date().toISOString(),
    mode,
    runs: { ...previousRuns, ...runs },
  };
  // Write then rename: an interrupted run never leaves a truncated results.json.
  writeFileSync(`${RESULTS_PATH}.tmp`, `${JSON.stringify(merged, null, 2)}\n`);
  renameSync(`${RESULTS_PATH}.tmp`, RESULTS_PATH);
  console.error(`results merged into ${RESULTS_PATH}`);
}

await main();
