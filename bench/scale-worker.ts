// Runs in its own process (so its peak RSS is its own): fills one namespace to N entries and
// measures inclusion-proof latency at 10,000 entries and at N. Prints one JSON line.
import { appendMany, openBenchLog } from './bench-log.ts';

const total = Number(process.argv[2]);
const SMALL = 10_000;
const NS = 'bench:scale';

function proofLatencyMs(engine: ReturnType<typeof openBenchLog>['engine'], size: number): number {
  let seed = 777;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % size;
  };
  for (let i = 0; i < 500; i++) engine.inclusionProof(NS, next(), size);
  const n = 5000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) engine.inclusionProof(NS, next(), size);
  return (performance.now() - t0) / n;
}

const log = openBenchLog('scale');
try {
  log.engine.createNamespace(NS);
  await appendMany(log.engine, NS, SMALL, 1000, 2);
  const small = proofLatencyMs(log.engine, SMALL);
  const t0 = performance.now();
  let done = SMALL;
  const step = 500_000;
  while (done < total) {
    const n = Math.min(step, total - done);
    await appendMany(log.engine, NS, n, 4096, 2, done);
    done += n;
    process.stderr.write(`  … scale: ${done.toLocaleString('en-US')} entries, rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB\n`);
  }
  const fillSeconds = (performance.now() - t0) / 1000;
  const large = proofLatencyMs(log.engine, total);
  process.stdout.write(
    JSON.stringify({
      scale_entries: total,
      scale_peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      scale_proof_ms_small: Math.round(small * 10000) / 10000,
      scale_proof_ms_large: Math.round(large * 10000) / 10000,
      scale_fill_eps: Math.round((total - SMALL) / fillSeconds),
    }) + '\n',
  );
} finally {
  await log.close();
}
