// Latency of sealed reads on a single node: GET /v1/ns/{ns}/checkpoint?sealed=1 and a receipt with
// ?sealed=1, beside the same reads without it. The namespace's witness policy is min_required 0 (a
// single node has no witnesses), so the latest checkpoint is the sealed one; the figures are the
// cost of the sealing lookup on the read path, not of waiting for cosignatures.
import type { BenchContext, BenchResults } from './measure.ts';
import { sequentialLatency, summarize, type Latency } from './namespaces-load.ts';
import { NS_OPEN, type RulesNode } from './namespaces-node.ts';

/** Waits (bounded) for a sealed checkpoint covering everything appended so far; returns its size. */
async function settledSealedSize(url: string): Promise<number> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ns = (await (await fetch(`${url}/v1/ns/${NS_OPEN}`)).json()) as { size?: number };
    const res = await fetch(`${url}/v1/ns/${NS_OPEN}/checkpoint?sealed=1`);
    const text = await res.text();
    const size = res.status === 200 ? Number(text.split('\n')[1]) : 0;
    if (size > 0 && size >= (ns.size ?? 0)) return size;
    if (Date.now() > deadline)
      throw new Error(
        `no sealed checkpoint of ${NS_OPEN} covers its ${ns.size} entries (status ${res.status}, size ${size})`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Deterministic indices spread over the log (xorshift32), so runs compare. */
function indices(size: number): (i: number) => number {
  let x = 0x9e3779b9;
  const list: number[] = [];
  return (i) => {
    while (list.length <= i) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      list.push((x >>> 0) % size);
    }
    return list[i]!;
  };
}

export async function sealedReadBenchmarks(ctx: BenchContext, node: RulesNode): Promise<BenchResults> {
  const count = ctx.quick ? 300 : 2000;
  const warmup = ctx.quick ? 50 : 200;
  const size = await settledSealedSize(node.url);
  const at = indices(size);
  const base = `${node.url}/v1/ns/${NS_OPEN}`;
  ctx.log(
    `sealed reads: ${count} sequential requests each over one connection, ${size.toLocaleString('en-US')}-entry log`,
  );
  const runs: Array<[string, (i: number) => string]> = [
    ['checkpoint', () => `${base}/checkpoint`],
    ['sealed_checkpoint', () => `${base}/checkpoint?sealed=1`],
    ['receipt', (i) => `${base}/receipt/${at(i)}`],
    ['sealed_receipt', (i) => `${base}/receipt/${at(i)}?sealed=1`],
  ];
  // Warm every path first, then interleave the kinds in rounds so drift (JIT, other load on the
  // machine) spreads over all four instead of favouring whichever ran last.
  for (const [, url] of runs) await sequentialLatency(url, warmup, 0);
  const rounds = 10;
  const samples = new Map<string, number[]>(runs.map(([key]) => [key, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [key, url] of runs) {
      const offset = r * (count / rounds);
      samples.get(key)!.push(...(await sequentialLatency((i) => url(offset + i), count / rounds, 0)).all);
    }
  }
  const out: BenchResults = {};
  for (const [key] of runs) {
    const l: Latency = summarize(samples.get(key)!);
    out[`${key}_p50_ms`] = l.p50;
    out[`${key}_p99_ms`] = l.p99;
  }
  ctx.note(
    'sealed_reads',
    `single node, witness policy min_required 0 (the latest checkpoint is sealed); ${count} sequential GETs per kind (${warmup} warm-up each, then ${rounds} interleaved rounds), one keep-alive connection, client-side timing; receipts at pseudo-random indices of a ${size}-entry log; node idle`,
  );
  return out;
}
