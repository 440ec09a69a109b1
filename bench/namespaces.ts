// Namespaces (issue 4): what the namespace rules cost. Appends through a real node's HTTP API in an
// open namespace, one with a schema policy and a token writer, and one whose Ed25519 key writer
// signs every entry; the admission layer alone, in process; sealed checkpoint and receipt reads;
// governance replay, node open and submission over a 10,000-document sys:governance. Server and
// load generator share this 2-core machine.
import type { BenchContext, BenchResults } from './measure.ts';
import { admissionBenchmarks } from './namespaces-admission.ts';
import { appendBenchmarks } from './namespaces-appends.ts';
import { governanceBenchmarks } from './namespaces-governance.ts';
import { loadAverage } from './namespaces-load.ts';
import { startRulesNode } from './namespaces-node.ts';
import { sealedReadBenchmarks } from './namespaces-sealed.ts';

export default async function namespacesBench(ctx: BenchContext): Promise<BenchResults> {
  ctx.note('load_at_start', `1/5/15-min load average ${loadAverage()}`);
  const node = await startRulesNode();
  let results: BenchResults;
  try {
    results = { ...(await appendBenchmarks(ctx, node)), ...(await sealedReadBenchmarks(ctx, node)) };
  } finally {
    await node.stop();
  }
  results = { ...results, ...(await admissionBenchmarks(ctx)), ...(await governanceBenchmarks(ctx)) };
  ctx.note('load_at_end', `1/5/15-min load average ${loadAverage()}`);
  return results;
}
