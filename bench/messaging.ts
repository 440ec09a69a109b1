// Messaging (issue 12, item 10): cross-namespace messages between two real node processes on
// loopback with the default checkpoint interval. Throughput: delivered messages per second at the
// target (first send → last arrival in the target application's inbox), many messages sent in
// batches of 1,000 from several source namespaces at once (one stream each). Latency: a steady,
// lighter rate of single-message sends from one more source, each timed from just before its
// POST to its arrival in the inbox's event stream, both on this process's clock; the source's
// signed and sealed checkpoint sizes are polled meanwhile to split the time into its stages.
import type { BenchContext, BenchResults } from './measure.ts';
import { InboxWatch } from './messaging-inbox-watch.ts';
import {
  checkpointSize,
  nodeCpuSeconds,
  sendMessages,
  startMessagingPair,
  TARGET_NS,
  type Accepted,
  type MessagingPair,
} from './messaging-setup.ts';
import { loadAverage, percentile, round } from './namespaces-load.ts';

/** Source namespaces of the throughput phase: one stream each, delivered side by side. */
const BULK_SOURCES = ['bench:bulk0', 'bench:bulk1', 'bench:bulk2', 'bench:bulk3'];
/** The latency phase's source: a stream of its own, idle until the phase starts. */
const STEADY_SOURCE = 'bench:steady';
/** Messages per send request in the throughput phase (POST …/messages takes at most 1,000). */
const SEND_BATCH = 1000;
/** The latency phase's rate, messages per second, each its own request. */
const STEADY_RATE = 200;
/** How often the latency phase reads the source's checkpoints, ms (the stage split's resolution). */
const POLL_MS = 25;
/** Bound on waiting for every message of a phase to reach the inbox, ms. */
const DELIVERY_TIMEOUT_MS = 120_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Throughput {
  messages: number;
  perSecond: number;
  sendSeconds: number;
  deliverSeconds: number;
  /** Delivered per second over the middle 80 % of arrivals (the pipeline full). */
  steadyPerSecond: number;
  /** CPU per delivered message over the phase, µs: each node process, and this one (sender client and inbox reader). */
  cpuUs: { sender?: number; receiver?: number; client: number };
  loadAverage: string;
}

/** CPU µs per message between two readings, or undefined when a reading is missing. */
function perMessageUs(before: number | undefined, after: number | undefined, messages: number): number | undefined {
  return before === undefined || after === undefined ? undefined : Math.round(((after - before) * 1e6) / messages);
}

async function throughput(ctx: BenchContext, pair: MessagingPair, watch: InboxWatch): Promise<Throughput> {
  const perSource = ctx.quick ? 1000 : 5000;
  const total = perSource * BULK_SOURCES.length;
  ctx.log(
    `throughput: ${total} messages, ${BULK_SOURCES.length} sources × ${perSource / SEND_BATCH} batches of ${SEND_BATCH}`,
  );
  const loadAtStart = loadAverage();
  const cpu0 = [nodeCpuSeconds(pair.sender), nodeCpuSeconds(pair.receiver)];
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  const sent = await Promise.all(
    BULK_SOURCES.map(async (src) => {
      const ids: Accepted[] = [];
      for (let first = 0; first < perSource; first += SEND_BATCH)
        ids.push(...(await sendMessages(pair, src, first, Math.min(SEND_BATCH, perSource - first))));
      return ids;
    }),
  );
  const sendDone = performance.now();
  const ids = sent.flat().map((m) => m.id);
  await watch.waitForAll(ids, DELIVERY_TIMEOUT_MS);
  const arrivals = ids.map((id) => watch.arrivals.get(id)!).sort((x, y) => x - y);
  const last = arrivals[arrivals.length - 1]!;
  // The rate while the pipeline is full: the middle 80 % of arrivals over the time they took. The
  // first-send-to-last-arrival rate also counts the fixed wait for the first sealed checkpoint
  // (about one checkpoint interval), which is latency, not throughput.
  const lo = arrivals[Math.floor(total * 0.1)]!;
  const hi = arrivals[Math.floor(total * 0.9)]!;
  const client = process.cpuUsage(client0);
  const senderUs = perMessageUs(cpu0[0], nodeCpuSeconds(pair.sender), total);
  const receiverUs = perMessageUs(cpu0[1], nodeCpuSeconds(pair.receiver), total);
  return {
    messages: total,
    perSecond: Math.round((total * 1000) / (last - t0)),
    steadyPerSecond: Math.round(((Math.floor(total * 0.9) - Math.floor(total * 0.1)) * 1000) / (hi - lo)),
    sendSeconds: round((sendDone - t0) / 1000, 2),
    deliverSeconds: round((last - t0) / 1000, 2),
    cpuUs: {
      ...(senderUs === undefined ? {} : { sender: senderUs }),
      ...(receiverUs === undefined ? {} : { receiver: receiverUs }),
      client: Math.round((client.user + client.system) / total),
    },
    loadAverage: loadAtStart,
  };
}

/** Polls the source's signed and sealed checkpoint sizes: when each first grew past a size. */
class CheckpointPoller {
  readonly signed: Array<{ at: number; size: number }> = [];
  readonly sealed: Array<{ at: number; size: number }> = [];
  #running = true;
  readonly #loop: Promise<void>;

  constructor(pair: MessagingPair, ns: string) {
    this.#loop = (async () => {
      while (this.#running) {
        const [signed, sealed] = await Promise.all([
          checkpointSize(pair.sender, ns, false),
          checkpointSize(pair.sender, ns, true),
        ]);
        const at = performance.now();
        if (signed > (this.signed.at(-1)?.size ?? 0)) this.signed.push({ at, size: signed });
        if (sealed > (this.sealed.at(-1)?.size ?? 0)) this.sealed.push({ at, size: sealed });
        await sleep(POLL_MS);
      }
    })();
  }

  /** When a checkpoint covering `index` was first seen. */
  static coveredAt(seen: ReadonlyArray<{ at: number; size: number }>, index: number): number | undefined {
    return seen.find((s) => s.size > index)?.at;
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }
}

interface Latency {
  messages: number;
  p50: number;
  p99: number;
  max: number;
  /** Medians and p99s of the stages, ms: send → signed checkpoint → sealed → inbox. */
  stages: Record<string, { p50: number; p99: number }>;
}

async function latency(ctx: BenchContext, pair: MessagingPair, watch: InboxWatch): Promise<Latency> {
  const seconds = ctx.quick ? 4 : 10;
  const count = seconds * STEADY_RATE;
  ctx.log(`latency: ${count} single-message sends, ${STEADY_RATE}/s for ${seconds} s`);
  const poller = new CheckpointPoller(pair, STEADY_SOURCE);
  const sends: Array<Promise<{ at: number; m: Accepted }>> = [];
  const start = performance.now();
  try {
    for (let i = 0; i < count; i++) {
      const due = start + (i * 1000) / STEADY_RATE;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const at = performance.now();
      sends.push(sendMessages(pair, STEADY_SOURCE, i, 1).then(([m]) => ({ at, m: m! })));
    }
    const sent = await Promise.all(sends);
    await watch.waitForAll(
      sent.map((s) => s.m.id),
      DELIVERY_TIMEOUT_MS,
    );
    await poller.stop();
    const total: number[] = [];
    const stage: Record<string, number[]> = { send_to_signed: [], signed_to_sealed: [], sealed_to_inbox: [] };
    for (const { at, m } of sent) {
      const arrived = watch.arrivals.get(m.id)!;
      total.push(arrived - at);
      const signed = CheckpointPoller.coveredAt(poller.signed, m.index);
      const sealed = CheckpointPoller.coveredAt(poller.sealed, m.index);
      if (signed === undefined || sealed === undefined) continue;
      stage['send_to_signed']!.push(signed - at);
      stage['signed_to_sealed']!.push(sealed - signed);
      stage['sealed_to_inbox']!.push(arrived - sealed);
    }
    const sorted = total.sort((a, b) => a - b);
    const stages: Latency['stages'] = {};
    for (const [k, v] of Object.entries(stage)) {
      const s = v.sort((a, b) => a - b);
      stages[k] = { p50: Math.round(percentile(s, 50)), p99: Math.round(percentile(s, 99)) };
    }
    return {
      messages: count,
      p50: Math.round(percentile(sorted, 50)),
      p99: Math.round(percentile(sorted, 99)),
      max: Math.round(sorted.at(-1)!),
      stages,
    };
  } finally {
    await poller.stop();
    await Promise.allSettled(sends);
  }
}

export default async function messagingBench(ctx: BenchContext): Promise<BenchResults> {
  ctx.log('starting two node processes (default checkpoint interval)');
  const pair = await startMessagingPair([...BULK_SOURCES, STEADY_SOURCE]);
  let watch: InboxWatch | undefined;
  try {
    watch = await InboxWatch.open(pair.receiver.url, TARGET_NS, pair.receiver.token);
    const t = await throughput(ctx, pair, watch);
    ctx.log(
      `throughput: ${t.perSecond}/s first send to last arrival, ${t.steadyPerSecond}/s steady (middle 80 % of arrivals) (sends accepted in ${t.sendSeconds} s, all delivered in ${t.deliverSeconds} s; ` +
        `CPU µs/message ${JSON.stringify(t.cpuUs)}; load average at start ${t.loadAverage})`,
    );
    // The lighter phase starts once the bulk streams are delivered: its p99 is the path's, not a queue's.
    await sleep(2000);
    const l = await latency(ctx, pair, watch);
    ctx.log(`latency: p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms; stages ${JSON.stringify(l.stages)}`);
    ctx.note(
      'messaging_setup',
      `2 node processes (compiled CLI serve), default checkpoint interval; sources witnessed by the receiver (witness_policy k=1), target min_witnesses 1; SSE arrival at ${TARGET_NS}`,
    );
    ctx.note(
      'messaging_throughput',
      `${t.messages} messages from ${BULK_SOURCES.length} sources in batches of ${SEND_BATCH}; sends accepted in ${t.sendSeconds} s, last delivered at ${t.deliverSeconds} s; load average at start ${t.loadAverage}`,
    );
    ctx.note(
      'messaging_latency',
      `${l.messages} single sends at ${STEADY_RATE}/s; max ${l.max} ms; stages (checkpoints polled every ${POLL_MS} ms) ${Object.entries(
        l.stages,
      )
        .map(([k, v]) => `${k} p50 ${v.p50} / p99 ${v.p99} ms`)
        .join(', ')}`,
    );
    ctx.note('messaging_load_average', loadAverage());
    const out: BenchResults = {
      messaging_delivered_per_s: t.perSecond,
      messaging_delivered_steady_per_s: t.steadyPerSecond,
      messaging_latency_p50_ms: l.p50,
      messaging_latency_p99_ms: l.p99,
    };
    if (t.cpuUs.sender !== undefined) out.messaging_sender_cpu_us_per_message = t.cpuUs.sender;
    if (t.cpuUs.receiver !== undefined) out.messaging_receiver_cpu_us_per_message = t.cpuUs.receiver;
    out.messaging_client_cpu_us_per_message = t.cpuUs.client;
    for (const [k, v] of Object.entries(l.stages)) {
      out[`messaging_${k}_p50_ms`] = v.p50;
      out[`messaging_${k}_p99_ms`] = v.p99;
    }
    return out;
  } finally {
    await watch?.close();
    await pair.stop();
  }
}
