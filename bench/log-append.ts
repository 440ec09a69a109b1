// Durable appends in process: the sequencer's group commit into SQLite (synchronous=FULL),
// integration into tiles included. Entries are canonicalized inside the timed loop, as the HTTP
// layer would.
import { appendMany, openBenchLog } from './bench-log.ts';
import type { BenchContext, BenchResults } from './measure.ts';

export default async function logAppendBench(ctx: BenchContext): Promise<BenchResults> {
  const total = ctx.quick ? 100_000 : 500_000;
  const log = await openBenchLog('append');
  try {
    await log.engine.createNamespace('bench:append');
    await appendMany(log.engine, 'bench:append', 20_000, 1000, 4); // warm-up: JIT, page cache
    ctx.log(`appending ${total.toLocaleString('en-US')} entries in calls of 1,000, 4 in flight`);
    const seconds = await appendMany(log.engine, 'bench:append', total, 1000, 4, 20_000);
    ctx.note('append_inprocess', `${total} entries, calls of 1000, 4 in flight, synchronous=FULL`);
    return { append_inprocess_eps: Math.round(total / seconds) };
  } finally {
    await log.close();
  }
}
