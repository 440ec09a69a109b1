// Inclusion proofs served from the tile store at 1,000,000 entries, and offline receipt
// verification (core's verifier with the node crypto provider).
import {
  CosignatureVerifier,
  NoteVerifier,
  buildReceipt,
  utf8Decode,
  verifyReceiptWith,
  type Receipt,
} from '@vaultmesh/core';
import { appendMany, openBenchLog } from './bench-log.ts';
import type { BenchContext, BenchResults } from './measure.ts';

const NS = 'bench:proofs';

/** Runs fn for about `seconds`, returns calls per second. */
function perSecond(fn: (i: number) => void, seconds: number): number {
  let n = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    for (let k = 0; k < 100; k++) fn(n++);
  }
  return Math.round(n / ((performance.now() - t0) / 1000));
}

/** perSecond for an async call, awaited one at a time (as a client waits for each answer). */
async function perSecondAwaited(fn: (i: number) => Promise<unknown>, seconds: number): Promise<number> {
  let n = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    for (let k = 0; k < 100; k++) await fn(n++);
  }
  return Math.round(n / ((performance.now() - t0) / 1000));
}

export default async function proofsBench(ctx: BenchContext): Promise<BenchResults> {
  const size = ctx.quick ? 200_000 : 1_000_000;
  const log = await openBenchLog('proofs', { synchronous: 'NORMAL' });
  try {
    const ns = await log.engine.createNamespace(NS);
    ctx.log(`building a ${size.toLocaleString('en-US')}-entry log`);
    await appendMany(log.engine, NS, size, 4096, 2);
    const cp = (await log.engine.publishCheckpoint(NS))!;
    let seed = 12345;
    const randomIndex = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % size;
    };
    ctx.log('inclusion proofs at random indices');
    const proofsPerSecond = await perSecondAwaited(
      () => log.engine.inclusionProof(NS, randomIndex(), size),
      ctx.quick ? 2 : 5,
    );

    const receipts: Receipt[] = [];
    for (let i = 0; i < 2000; i++) {
      const index = randomIndex();
      receipts.push(
        buildReceipt({
          namespace: NS,
          origin: ns.origin,
          index,
          entry: JSON.parse(utf8Decode((await log.engine.getEntry(NS, index))!)) as unknown,
          proof: await log.engine.inclusionProof(NS, index, cp.size),
          checkpointNote: cp.note,
        }),
      );
    }
    const logVerifiers = [NoteVerifier.fromVkey(ns.logVkey)];
    const witnessVerifiers: CosignatureVerifier[] = [];
    ctx.log('receipt verification (receipts of one checkpoint, as a client checking a batch)');
    const verifyPerSecond = perSecond(
      (i) => {
        const r = verifyReceiptWith(receipts[i % receipts.length]!, { logVerifiers, witnessVerifiers });
        if (!r.ok) throw new Error('receipt did not verify');
      },
      ctx.quick ? 2 : 5,
    );
    ctx.log('receipt verification with a fresh verifier each time (every signature checked)');
    const uncachedPerSecond = perSecond(
      (i) => {
        const r = verifyReceiptWith(receipts[i % receipts.length]!, {
          logVerifiers: [NoteVerifier.fromVkey(ns.logVkey)],
          witnessVerifiers,
        });
        if (!r.ok) throw new Error('receipt did not verify');
      },
      ctx.quick ? 2 : 5,
    );
    ctx.note('proofs', `tree of ${size} entries; receipts verified against one checkpoint`);
    return {
      inclusion_proofs_per_s: proofsPerSecond,
      inclusion_proofs_tree_size: size,
      receipt_verify_per_s: verifyPerSecond,
      receipt_verify_uncached_per_s: uncachedPerSecond,
    };
  } finally {
    await log.close();
  }
}
