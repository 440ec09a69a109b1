// Chain anchors (issue 11, item 9): 5 node processes × 20 namespaces each (100 namespaces), every
// namespace due once a 5 s epoch at a real anvil (`eip155:31337`, a block a second) and a real
// bcoin regtest node (`btc:regtest`, a block a second, mined here), with its cadence aligned with
// the epochs and an entry written to it half a second into every epoch. Measured over whole
// epochs, under the collaborative and the independent strategy (a federation each, on fresh
// chains):
// - what anchoring costs, as the chains say: gas and wei (EVM), vbytes and sats (Bitcoin) of every
//   anchor transaction in the blocks (scanned after the run; each placed in its epoch by its
//   calldata (EVM), by the journal of the node that sent it, or by the root it commits), per
//   anchored namespace checkpoint and per epoch; independent vs collaborative is the ratio of the
//   two windows' costs (same epochs, same demand); and the per-namespace baseline — each due
//   namespace checkpoint anchored alone, one transaction each — COMPUTED as the measured mean cost
//   of a collaborative anchor transaction × the due times the collaborative run anchored (the same
//   transaction layout would commit one namespace checkpoint instead of an epoch root);
// - due → N confirmations, p50/p99: from each namespace's cadence due time to the moment the block
//   that gives the anchor of the first epoch holding that namespace after it its N-th confirmation
//   appeared (anvil polled every 50 ms; bcoin blocks timed as mined), N the target's
//   `confirmations`; and due → finalized_at (when the node made the epoch final);
// - proof sizes: the eip155 and btc evidence of federation receipts (JSON bytes, and the raw bytes
//   of header, trie proof or Merkle branch, and transaction), a whole federation receipt, an
//   entry's receipt with both chain anchors, and the OpenTimestamps export if the node serves it.
// Run with CHAIN_ANCHORS_KEEP=1 to keep the nodes' data directories (their anchoring.sqlite).
import { epochEndMs, epochNumber, type AnchorStrategy } from '@vaultmesh/core';
import Database from 'better-sqlite3';
import os from 'node:os';
import { join } from 'node:path';
import {
  BLOCK_MS,
  BTC,
  CHAIN_LEADER_TIMEOUT_MS,
  CONFIRMATIONS,
  EPOCH_MS,
  EVM,
  LEADER_TIMEOUT_MS,
  NAMESPACES_PER_NODE,
  NODES,
  TICK_MS,
  WRITE_AT_MS,
  startChainFederation,
  startChains,
  startWriting,
  type ChainFederation,
} from './chain-anchors-setup.ts';
import {
  epochKey,
  evidenceSizes,
  getJson,
  listEpochRange,
  scanBitcoinAnchors,
  scanEvmAnchors,
  type ChainAnchorTx,
  type EvidenceSizes,
  type ListedEpoch,
} from './chain-anchors-scan.ts';
import type { BenchContext, BenchResults } from './measure.ts';

const TARGETS = [EVM, BTC] as const;
type Target = (typeof TARGETS)[number];
/** Listed epochs around the window: neighbours' anchors are told apart, late leaves are found. */
const LIST_BEFORE = 2;
const LIST_AFTER = 3;
/** How long the last epoch of the window gets to be final everywhere after it closed. */
const SETTLE_TIMEOUT_MS = 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const median = (xs: readonly number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

interface StatusTarget {
  target: string;
  failovers: number;
  duplicates: number;
  abandoned: number;
  failures: { total: number; recent: { epoch: number | null; reason: string }[] };
  chain?: {
    costs: { anchors: number; checkpoints: number; gas_used?: string; vbytes?: number; fee_total: string };
  };
}

interface TargetRun {
  /** Anchor transactions on the chain for the window's epochs (duplicates included: each was paid). */
  anchors: ChainAnchorTx[];
  /** Anchor transactions on the chain for other epochs (warm-up, after the window). */
  outside: number;
  /** Anchor transactions of the whole run committing a root another one already commits (each paid). */
  sameRoot: number;
  /** Those transactions with each one of their root: txid, height, epoch and how the nodes journaled it. */
  sameRootTxs: string[];
  /** Finalized epoch rows of the window (one per epoch, or per node and epoch with leaves). */
  finalizedRows: number;
  /**
   * Distinct namespace checkpoints (origin and size) the window's finalized epochs committed; a
   * leaf committed again by a later epoch counts once.
   */
  leaves: number;
  /** Leaves of the window's finalized epochs, repeats included. */
  leafRows: number;
  /** Namespace due times in the window at this target (from the persisted schedules). */
  due: number;
  dueToConfirmedMs: number[];
  dueToFinalizedMs: number[];
  /** Due times with no finalized epoch holding the namespace after them. */
  unsatisfied: number;
  /** One per distinct anchor of the window's epochs. */
  evidence: EvidenceSizes[];
  federationReceiptBytes: number[];
  /**
   * Summed over the nodes' status at the end: their own cost accounting (whole run), and the
   * counters from the window's start on; lastFailure is the newest failure of any node.
   */
  status: {
    anchors: number;
    checkpoints: number;
    units: bigint;
    fee: bigint;
    failovers: number;
    duplicates: number;
    abandoned: number;
    failures: number;
    lastFailure?: string;
  };
  /** Chain journal events by name, summed over the nodes' anchoring.sqlite (read after they stopped). */
  events: Record<string, number>;
}

interface PhaseRun {
  strategy: AnchorStrategy;
  first: number;
  last: number;
  settled: boolean;
  targets: Record<Target, TargetRun>;
  writes: number;
  failedWrites: number;
  /** GET /healthz latencies over the window and until it was final, every node once a second, sorted. */
  healthMs: number[];
  entryReceiptBytes: number[];
  ots?: { epoch: number; status: number; bytes: number; body: string };
  /** Median time between consecutive blocks over the window, ms. */
  blockMs: Record<Target, number>;
  chainErrors: number;
}

/**
 * Waits until epoch `epoch` has its rows at every target: collaborative, node 0 lists it;
 * independent, every node lists its own. Asked every 2 s (each answer carries up to 100
 * receipts: asking more often would load the nodes it waits for). False after SETTLE_TIMEOUT_MS.
 */
async function waitSettled(run: ChainFederation, strategy: AnchorStrategy, epoch: number): Promise<boolean> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  const nodes = strategy === 'independent' ? run.fed.nodes : [run.fed.nodes[0]!];
  // The newest rows up to `epoch`: one collaborative row, or up to one per node (each ~100 receipts).
  const limit = strategy === 'independent' ? NODES : 1;
  const settled = async () => {
    for (const target of TARGETS)
      for (const node of nodes) {
        const { epochs } = await getJson<{ epochs: ListedEpoch[] }>(
          `${node.url}/v1/anchoring/epochs?target=${encodeURIComponent(target)}&before=${epoch + 1}&limit=${limit}`,
        );
        const own = (e: ListedEpoch) => (strategy === 'independent' ? e.node === node.name : e.node === null);
        if (!epochs.some((e) => e.epoch === epoch && own(e))) return false;
      }
    return true;
  };
  while (Date.now() < deadline) {
    try {
      if (await settled()) return true;
    } catch {
      // A node too busy to answer now (a loaded machine): asked again until the deadline.
    }
    await sleep(2_000);
  }
  return false;
}

/**
 * Asks every node's `GET /healthz` once a second until stopped: how long a node's event loop
 * kept a trivial request waiting (a peer exchange waits as long). Gives the latencies, sorted.
 */
function probeHealth(run: ChainFederation): { stop: () => Promise<number[]> } {
  let running = true;
  const latencies: number[] = [];
  const loop = (async () => {
    while (running) {
      await Promise.all(
        run.fed.nodes.map(async (node) => {
          const t = performance.now();
          try {
            const r = await fetch(`${node.url}/healthz`, { signal: AbortSignal.timeout(30_000) });
            await r.arrayBuffer();
          } catch {
            // Counted at its timeout: the node did not answer.
          }
          latencies.push(Math.round(performance.now() - t));
        }),
      );
      await sleep(1_000);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return latencies.sort((a, b) => a - b);
    },
  };
}

/** Each target's anchoring status summed over the nodes: their own cost accounting and counters. */
async function nodeStatus(run: ChainFederation): Promise<Record<Target, TargetRun['status']>> {
  const out = {} as Record<Target, TargetRun['status']>;
  for (const target of TARGETS)
    out[target] = {
      anchors: 0,
      checkpoints: 0,
      units: 0n,
      fee: 0n,
      failovers: 0,
      duplicates: 0,
      abandoned: 0,
      failures: 0,
    };
  for (const node of run.fed.nodes) {
    const { targets } = await getJson<{ targets: StatusTarget[] }>(`${node.url}/v1/anchoring/status`);
    for (const st of targets) {
      const s = out[st.target as Target];
      if (s === undefined) continue;
      const c = st.chain?.costs;
      s.anchors += c?.anchors ?? 0;
      s.checkpoints += c?.checkpoints ?? 0;
      s.units += BigInt(c?.gas_used ?? c?.vbytes ?? 0);
      s.fee += BigInt(c?.fee_total ?? 0);
      s.failovers += st.failovers;
      s.duplicates += st.duplicates;
      s.abandoned += st.abandoned;
      s.failures += st.failures.total;
      s.lastFailure ??= st.failures.recent[0]?.reason.slice(0, 200);
    }
  }
  return out;
}

/** The window's rows: collaborative from node 0; independent, each node's own rows from itself. */
async function windowRows(
  run: ChainFederation,
  strategy: AnchorStrategy,
  target: Target,
  from: number,
  to: number,
): Promise<ListedEpoch[]> {
  if (strategy !== 'independent') {
    const rows = await listEpochRange(run.fed.nodes[0]!, target, from, to);
    return rows.filter((e) => e.mode === 'collaborative');
  }
  const out = new Map<string, ListedEpoch>();
  for (const node of run.fed.nodes)
    for (const e of await listEpochRange(node, target, from, to))
      if (e.mode === 'independent' && e.node === node.name) out.set(epochKey(e), e);
  return [...out.values()];
}

/** Each namespace's due times at `target` in (fromMs, toMs], from its persisted schedule (next_due − k·period). */
async function dueTimes(run: ChainFederation, target: Target, fromMs: number, toMs: number) {
  const out: { ns: string; node: string; t: number }[] = [];
  for (const { node, ns } of run.namespaces) {
    const view = await getJson<{
      cadence_schedule: Record<string, { target: string; next_due: string; period_ms: number }>;
    }>(`${node.url}/v1/ns/${ns}`);
    for (const level of Object.values(view.cadence_schedule)) {
      if (level.target !== target) continue;
      for (let t = Date.parse(level.next_due) - level.period_ms; t > fromMs; t -= level.period_ms)
        if (t <= toMs) out.push({ ns, node: node.name, t });
    }
  }
  return out;
}

interface JournaledTx {
  epoch: number;
  /** `node:state` per node that journaled it (the anchoring node; others learn outcomes, not attempts). */
  seen: string[];
}

interface Journals {
  /** Chain journal events by name at each target, summed over the nodes. */
  events: Record<Target, Record<string, number>>;
  /** Every journaled attempt's txid → the epoch it anchors, and each node that journaled it with its state there. */
  attempts: Map<string, JournaledTx>;
}

/**
 * What the stopped nodes' anchoring.sqlite files journaled (tables anchor_chain_events and
 * anchor_chain_attempts); a file that cannot be read is counted as `unreadable`.
 */
function readJournals(run: ChainFederation): Journals {
  const out = { [EVM]: {}, [BTC]: {} } as Record<Target, Record<string, number>>;
  const attempts = new Map<string, JournaledTx>();
  for (const node of run.fed.nodes) {
    let db: Database.Database | undefined;
    try {
      db = new Database(join(node.dir, 'anchoring.sqlite'), { readonly: true, fileMustExist: true });
      const rows = db
        .prepare('SELECT target, event, count(*) AS n FROM anchor_chain_events GROUP BY target, event')
        .all() as { target: string; event: string; n: number }[];
      for (const r of rows) {
        const m = out[r.target as Target];
        if (m !== undefined) m[r.event] = (m[r.event] ?? 0) + r.n;
      }
      const journaled = db.prepare('SELECT txid, epoch, state FROM anchor_chain_attempts').all() as {
        txid: string;
        epoch: number;
        state: string;
      }[];
      for (const a of journaled) {
        const key = a.txid.toLowerCase();
        const seen = `${node.name.split('.')[0]}:${a.state}`;
        const known = attempts.get(key);
        if (known === undefined) attempts.set(key, { epoch: a.epoch, seen: [seen] });
        else known.seen.push(seen);
      }
    } catch {
      for (const m of Object.values(out)) m['unreadable'] = (m['unreadable'] ?? 0) + 1;
    } finally {
      db?.close();
    }
  }
  return { events: out, attempts };
}

function blockIntervalMs(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  return median(sorted.slice(1).map((t, k) => t - sorted[k]!));
}

async function runPhase(ctx: BenchContext, strategy: AnchorStrategy, epochs: number): Promise<PhaseRun> {
  const t0 = Date.now();
  const at = () => `${Math.round((Date.now() - t0) / 1000)} s`;
  const chains = await startChains();
  // An interrupted bench stops what it started: the harness kills anvil and bcoin on exit, and
  // startChainFederation the nodes; a signal only needs to become an exit.
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`chain-anchors: ${signal}, stopping`);
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const run = await startChainFederation(strategy, chains);
    ctx.log(
      `chain-anchors ${strategy}: ${NODES} node processes × ${NAMESPACES_PER_NODE} namespaces, ` +
        `anvil ${chains.anvil.url}, bcoin ${chains.btc.rpcUrl}; ${epochs} epochs (set up in ${at()})`,
    );
    let measured: Omit<PhaseRun, 'targets' | 'blockMs' | 'chainErrors'> & {
      rows: Record<Target, ListedEpoch[]>;
      due: Record<Target, { ns: string; node: string; t: number }[]>;
      status: Record<Target, TargetRun['status']>;
    };
    let journals: Journals;
    try {
      const writing = startWriting(run.namespaces);
      try {
        // Two epochs of writes after the cadences took effect: every namespace is due with something sealed.
        await sleep(Math.max(run.alignedAtMs + EPOCH_MS, Date.now() + 2 * EPOCH_MS) - Date.now());
        const first = epochNumber(Date.now(), EPOCH_MS) + 1;
        const last = first + epochs - 1;
        await sleep(epochEndMs(first - 1, EPOCH_MS) - Date.now());
        const statusAtStart = await nodeStatus(run);
        const health = probeHealth(run);
        await sleep(epochEndMs(last, EPOCH_MS) - Date.now());
        const w = await writing.stop();
        // The last epoch's anchors take blocks; a leaf that slipped takes an epoch or two more.
        await sleep(epochEndMs(last + 2, EPOCH_MS) + 3 * BLOCK_MS - Date.now());
        const settled = await waitSettled(run, strategy, last);
        const healthMs = await health.stop();
        // Blocks for any second anchor of an epoch (a failover leader's) to be mined.
        await sleep(3 * BLOCK_MS);
        ctx.log(
          `chain-anchors ${strategy}: epochs ${first}–${last} ${settled ? 'final everywhere' : 'NOT all final'}; ` +
            `${w.writes} writes, ${w.failed} failed (at ${at()})`,
        );
        const rows = {} as Record<Target, ListedEpoch[]>;
        const due = {} as Record<Target, { ns: string; node: string; t: number }[]>;
        const status = {} as Record<Target, TargetRun['status']>;
        for (const target of TARGETS) {
          rows[target] = await windowRows(run, strategy, target, first - LIST_BEFORE, last + LIST_AFTER);
          due[target] = await dueTimes(run, target, epochEndMs(first - 1, EPOCH_MS), epochEndMs(last, EPOCH_MS));
        }
        const statusAskedAt = performance.now();
        const statusEnd = await nodeStatus(run);
        ctx.log(
          `chain-anchors ${strategy}: GET /v1/anchoring/status of the ${NODES} nodes took ` +
            `${Math.round(performance.now() - statusAskedAt)} ms together`,
        );
        for (const target of TARGETS) {
          const [a, b] = [statusAtStart[target], statusEnd[target]];
          // Counters from the window's start on (founding the federation makes failures of its own).
          status[target] = {
            ...b,
            failovers: b.failovers - a.failovers,
            duplicates: b.duplicates - a.duplicates,
            abandoned: b.abandoned - a.abandoned,
            failures: b.failures - a.failures,
          };
        }
        // An entry's receipt with its anchors: entry 0 of each node's first namespace.
        const entryReceiptBytes: number[] = [];
        for (const { node, ns } of run.namespaces.filter((_, k) => k % NAMESPACES_PER_NODE === 0)) {
          const r = await fetch(`${node.url}/v1/ns/${ns}/receipt/0?anchored=1`, {
            signal: AbortSignal.timeout(30_000),
          });
          const text = await r.text();
          if (r.status !== 200) continue;
          const body = JSON.parse(text) as { anchors: { federation_receipt: { statement: { target: string } } }[] };
          const targets = new Set(body.anchors.map((a) => a.federation_receipt.statement.target));
          if (targets.has(EVM) && targets.has(BTC)) entryReceiptBytes.push(Buffer.byteLength(text));
        }
        // The OpenTimestamps export, if this build serves it (another change adds the route).
        let ots: PhaseRun['ots'];
        const otsEpoch = rows[BTC].find((e) => e.status === 'finalized' && e.epoch >= first && e.epoch <= last);
        if (strategy === 'collaborative' && otsEpoch !== undefined) {
          const r = await fetch(
            `${run.fed.nodes[0]!.url}/v1/anchoring/epochs/${encodeURIComponent(BTC)}/${otsEpoch.epoch}.ots`,
            { signal: AbortSignal.timeout(30_000) },
          );
          const bytes = new Uint8Array(await r.arrayBuffer());
          ots = {
            epoch: otsEpoch.epoch,
            status: r.status,
            bytes: bytes.length,
            body: r.status === 200 ? '' : Buffer.from(bytes.slice(0, 200)).toString('utf8'),
          };
        }
        measured = {
          strategy,
          first,
          last,
          settled,
          writes: w.writes,
          failedWrites: w.failed,
          healthMs,
          entryReceiptBytes,
          ...(ots === undefined ? {} : { ots }),
          rows,
          due,
          status,
        };
      } finally {
        await writing.stop();
      }
      // Stopped (SIGTERM) before the chains are scanned: the nodes' databases are closed and read as left.
      await run.stopNodes();
      journals = readJournals(run);
    } finally {
      await run.stop();
    }

    ctx.log(`chain-anchors ${strategy}: listed, nodes stopped (at ${at()})`);
    const evm = await scanEvmAnchors(chains.anvil);
    const btc = await scanBitcoinAnchors(chains.btc, chains.btcFundedHeight);
    ctx.log(`chain-anchors ${strategy}: chains scanned (at ${at()})`);
    const onChain: Record<Target, ChainAnchorTx[]> = { [EVM]: evm, [BTC]: btc.anchors };
    const windowStart = epochEndMs(measured.first - 1, EPOCH_MS);
    const windowEnd = epochEndMs(measured.last, EPOCH_MS);
    const blockMs: Record<Target, number> = {
      [EVM]: blockIntervalMs([...chains.evmSeenAt.values()].filter((t) => t > windowStart && t <= windowEnd)),
      [BTC]: blockIntervalMs([...chains.btcMinedAt.values()].filter((t) => t > windowStart && t <= windowEnd)),
    };
    /** When the block at `height` appeared. */
    const seenAt: Record<Target, (height: number) => number | undefined> = {
      [EVM]: (h) => chains.evmSeenAt.get(h),
      [BTC]: (h) => {
        const hash = btc.hashAt.get(h);
        return hash === undefined ? undefined : chains.btcMinedAt.get(hash);
      },
    };
    const targets = {} as Record<Target, TargetRun>;
    for (const target of TARGETS)
      targets[target] = measureTarget(
        target,
        measured.rows[target],
        measured.due[target],
        onChain[target],
        journals.attempts,
        seenAt[target],
        measured.first,
        measured.last,
        strategy,
      );
    for (const target of TARGETS) {
      targets[target].status = measured.status[target];
      targets[target].events = journals.events[target];
    }
    const { rows: _r, due: _d, status: _s, ...rest } = measured;
    return { ...rest, targets, blockMs, chainErrors: chains.errors() };
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await chains.stop();
  }
}

/** Costs, latencies and proof sizes at one target, from the listed rows and the chain's transactions. */
function measureTarget(
  target: Target,
  listed: readonly ListedEpoch[],
  due: readonly { ns: string; node: string; t: number }[],
  onChain: readonly ChainAnchorTx[],
  journaled: ReadonlyMap<string, JournaledTx>,
  seenAt: (height: number) => number | undefined,
  first: number,
  last: number,
  strategy: AnchorStrategy,
): TargetRun {
  const inWindow = (e: number) => e >= first && e <= last;
  const finalized = listed.filter((e) => e.status === 'finalized');
  const windowRows = finalized.filter((e) => inWindow(e.epoch));
  // A root names its epoch (and, independent, its node): every listed row's root, window or not.
  const byRoot = new Map<string, ListedEpoch>();
  for (const e of listed) if (e.root !== null) byRoot.set(e.root, e);
  const anchors: ChainAnchorTx[] = [];
  for (const tx of onChain) {
    // EVM calldata names the epoch; a Bitcoin anchor is placed by the journal of the node that
    // sent it, or else by the root it commits (a root no listed row has is of an epoch before the
    // listed range, so outside the window too).
    const epoch = tx.epoch ?? journaled.get(tx.txid)?.epoch ?? byRoot.get(tx.root)?.epoch;
    if (epoch !== undefined && inWindow(epoch)) anchors.push(tx);
  }
  const txByHash = new Map(onChain.map((tx) => [tx.txid, tx]));
  const anchorOf = (e: ListedEpoch) => e.anchor?.tx_hash ?? e.federation_receipts[0]?.anchor.tx_hash;

  // Due → N confirmations and due → finalized_at.
  const confirmations = CONFIRMATIONS[target]!;
  const holding = finalized
    .map((e) => ({
      e,
      closes: epochEndMs(e.epoch, EPOCH_MS),
      ns: new Set(e.federation_receipts.map((r) => r.namespace)),
    }))
    .sort((a, b) => a.closes - b.closes);
  const dueToConfirmedMs: number[] = [];
  const dueToFinalizedMs: number[] = [];
  let unsatisfied = 0;
  for (const d of due) {
    const hit = holding.find(
      (h) => h.closes >= d.t && h.ns.has(d.ns) && (strategy !== 'independent' || h.e.node === d.node),
    );
    if (hit === undefined) {
      unsatisfied++;
      continue;
    }
    if (hit.e.finalized_at !== null) dueToFinalizedMs.push(Date.parse(hit.e.finalized_at) - d.t);
    const hash = anchorOf(hit.e);
    const tx = hash === undefined ? undefined : txByHash.get(hash.toLowerCase());
    const at = tx === undefined ? undefined : seenAt(tx.height + confirmations - 1);
    if (at !== undefined) dueToConfirmedMs.push(at - d.t);
  }

  const evidence: EvidenceSizes[] = [];
  const federationReceiptBytes: number[] = [];
  const seen = new Set<string>();
  for (const e of windowRows) {
    const r = e.federation_receipts[0];
    if (r === undefined) continue;
    federationReceiptBytes.push(Buffer.byteLength(JSON.stringify(r)));
    if (seen.has(r.anchor.tx_hash)) continue;
    seen.add(r.anchor.tx_hash);
    const sizes = evidenceSizes(r.evidence);
    if (sizes !== undefined) evidence.push(sizes);
  }
  return {
    anchors,
    outside: onChain.length - anchors.length,
    sameRoot: onChain.length - new Set(onChain.map((a) => a.root)).size,
    sameRootTxs: sameRootTxs(onChain, journaled),
    finalizedRows: windowRows.length,
    leaves: new Set(windowRows.flatMap((e) => e.federation_receipts.map((r) => `${r.leaf.origin}|${r.leaf.size}`)))
      .size,
    leafRows: windowRows.reduce((s, e) => s + e.federation_receipts.length, 0),
    due: due.length,
    dueToConfirmedMs: dueToConfirmedMs.sort((a, b) => a - b),
    dueToFinalizedMs: dueToFinalizedMs.sort((a, b) => a - b),
    unsatisfied,
    evidence,
    federationReceiptBytes,
    status: { anchors: 0, checkpoints: 0, units: 0n, fee: 0n, failovers: 0, duplicates: 0, abandoned: 0, failures: 0 },
    events: {},
  };
}

/** Every anchor transaction whose root another one also commits, described. */
function sameRootTxs(anchors: readonly ChainAnchorTx[], attempts: ReadonlyMap<string, JournaledTx>): string[] {
  const byRoot = new Map<string, ChainAnchorTx[]>();
  for (const a of anchors) byRoot.set(a.root, [...(byRoot.get(a.root) ?? []), a]);
  const describe = (t: ChainAnchorTx) => {
    const j = attempts.get(t.txid);
    const journal = j === undefined ? 'journaled nowhere' : `epoch ${j.epoch}, ${j.seen.join(' ')}`;
    return `${t.txid.slice(0, 12)}… at ${t.height} (${journal})`;
  };
  return [...byRoot.values()].filter((txs) => txs.length > 1).map((txs) => txs.map(describe).join(' and '));
}

const round = (x: number, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits;
const sum = (xs: readonly bigint[]) => xs.reduce((s, x) => s + x, 0n);

interface Costs {
  txs: number;
  units: bigint;
  fee: bigint;
}

function costsOf(t: TargetRun): Costs {
  return { txs: t.anchors.length, units: sum(t.anchors.map((a) => a.units)), fee: sum(t.anchors.map((a) => a.fee)) };
}

function describePhase(p: PhaseRun): string {
  return TARGETS.map((target) => {
    const t = p.targets[target];
    const c = costsOf(t);
    const ev = Object.entries(t.events)
      .sort()
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    return (
      `${target}: ${c.txs} anchor txs for epochs ${p.first}–${p.last} (${t.outside} more for epochs outside them; ` +
      `${t.sameRoot} in the whole run commit a root another one commits), ` +
      `${t.finalizedRows} rows finalized, ${t.leaves} checkpoints (${t.leafRows} leaves), ${t.due} due times ` +
      `(${t.unsatisfied} with no anchor); status costs (whole run, all nodes): ${t.status.anchors} anchors, ` +
      `${t.status.checkpoints} checkpoints, ${t.status.units} ${target === EVM ? 'gas' : 'vbytes'}, ` +
      `${t.status.fee} ${target === EVM ? 'wei' : 'sats'}; from the window's start: failovers ${t.status.failovers}, duplicates ` +
      `${t.status.duplicates}, abandoned ${t.status.abandoned}, failures ${t.status.failures}` +
      `${t.status.lastFailure === undefined ? '' : ` (last: ${t.status.lastFailure})`}; journal events: ${ev}` +
      (t.sameRootTxs.length === 0 ? '' : `; same root anchored twice: ${t.sameRootTxs.join('; ')}`)
    );
  }).join('; ');
}

export default async function chainAnchors(ctx: BenchContext): Promise<BenchResults> {
  const epochs = ctx.quick ? 3 : 20;
  const collaborative = await runPhase(ctx, 'collaborative', epochs);
  ctx.log(`chain-anchors collaborative: ${describePhase(collaborative)}`);
  const independent = await runPhase(ctx, 'independent', epochs);
  ctx.log(`chain-anchors independent: ${describePhase(independent)}`);

  const out: BenchResults = {};
  for (const target of TARGETS) {
    const p = target === EVM ? 'chain_anchors_evm' : 'chain_anchors_btc';
    const u = target === EVM ? 'gas' : 'vbytes';
    const f = target === EVM ? 'wei' : 'sats';
    const c = collaborative.targets[target];
    const i = independent.targets[target];
    const cc = costsOf(c);
    const ic = costsOf(i);
    const E = epochs;
    if (cc.txs > 0 && c.leaves > 0 && c.due > c.unsatisfied) {
      const perTxUnits = Number(cc.units) / cc.txs;
      const perTxFee = Number(cc.fee) / cc.txs;
      out[`${p}_${u}_per_tx`] = round(perTxUnits, 1);
      out[`${p}_${f}_per_tx`] = round(perTxFee);
      out[`${p}_collaborative_anchors_per_epoch`] = round(cc.txs / E, 3);
      out[`${p}_collaborative_checkpoints_per_epoch`] = round(c.leaves / E, 2);
      out[`${p}_collaborative_${u}_per_checkpoint`] = round(Number(cc.units) / c.leaves, 2);
      out[`${p}_collaborative_${f}_per_checkpoint`] = round(Number(cc.fee) / c.leaves);
      out[`${p}_collaborative_${u}_per_epoch`] = round(Number(cc.units) / E, 1);
      out[`${p}_collaborative_${f}_per_epoch`] = round(Number(cc.fee) / E);
      // Computed, not run: each due namespace checkpoint anchored alone, at the measured cost of one
      // transaction. Only the due times the collaborative run did anchor count, so both sides pay
      // for the same work (all of them when nothing went wrong).
      const dueCount = c.due - c.unsatisfied;
      out[`${p}_per_namespace_due_per_epoch`] = round(dueCount / E, 2);
      out[`${p}_per_namespace_${u}_per_checkpoint`] = round(perTxUnits, 1);
      out[`${p}_per_namespace_${f}_per_checkpoint`] = round(perTxFee);
      out[`${p}_per_namespace_${u}_per_epoch`] = round((perTxUnits * dueCount) / E);
      out[`${p}_per_namespace_${f}_per_epoch`] = round((perTxFee * dueCount) / E);
      out[`${p}_per_namespace_vs_collaborative_ratio`] = round((perTxFee * dueCount) / Number(cc.fee), 2);
      out[`${p}_per_namespace_vs_collaborative_${u}_ratio`] = round((perTxUnits * dueCount) / Number(cc.units), 2);
    }
    if (ic.txs > 0 && i.leaves > 0) {
      out[`${p}_independent_anchors_per_epoch`] = round(ic.txs / E, 3);
      out[`${p}_independent_checkpoints_per_epoch`] = round(i.leaves / E, 2);
      out[`${p}_independent_${u}_per_checkpoint`] = round(Number(ic.units) / i.leaves, 2);
      out[`${p}_independent_${f}_per_checkpoint`] = round(Number(ic.fee) / i.leaves);
      out[`${p}_independent_${u}_per_epoch`] = round(Number(ic.units) / E, 1);
      out[`${p}_independent_${f}_per_epoch`] = round(Number(ic.fee) / E);
      // The same epochs and the same demand (every namespace due once an epoch): the window's costs compare.
      if (cc.txs > 0) out[`${p}_independent_vs_collaborative_ratio`] = round(Number(ic.fee) / Number(cc.fee), 2);
    }
    out[`${p}_due_unsatisfied`] = c.unsatisfied;
    if (c.dueToConfirmedMs.length > 0) {
      out[`${p}_due_to_confirmed_p50_ms`] = percentile(c.dueToConfirmedMs, 50);
      out[`${p}_due_to_confirmed_p99_ms`] = percentile(c.dueToConfirmedMs, 99);
    }
    if (c.dueToFinalizedMs.length > 0) {
      out[`${p}_due_to_finalized_p50_ms`] = percentile(c.dueToFinalizedMs, 50);
      out[`${p}_due_to_finalized_p99_ms`] = percentile(c.dueToFinalizedMs, 99);
    }
    if (i.dueToConfirmedMs.length > 0) {
      out[`${p}_independent_due_to_confirmed_p50_ms`] = percentile(i.dueToConfirmedMs, 50);
      out[`${p}_independent_due_to_confirmed_p99_ms`] = percentile(i.dueToConfirmedMs, 99);
    }
    const sizes = (xs: readonly EvidenceSizes[], k: keyof Omit<EvidenceSizes, 'type'>) => median(xs.map((x) => x[k]));
    if (c.evidence.length > 0) {
      out[`${p}_evidence_json_bytes`] = sizes(c.evidence, 'json');
      out[`${p}_header_bytes`] = sizes(c.evidence, 'header');
      out[`${p}_tx_bytes`] = sizes(c.evidence, 'tx');
      out[`${p}_proof_bytes`] = sizes(c.evidence, 'proof');
      out[`${p}_proof_parts`] = sizes(c.evidence, 'proofParts');
      out[`${p}_federation_receipt_bytes`] = median(c.federationReceiptBytes);
    }
    if (i.evidence.length > 0) {
      out[`${p}_independent_evidence_json_bytes`] = sizes(i.evidence, 'json');
      out[`${p}_independent_proof_bytes`] = sizes(i.evidence, 'proof');
      out[`${p}_independent_proof_parts`] = sizes(i.evidence, 'proofParts');
    }
  }
  if (collaborative.entryReceiptBytes.length > 0)
    out.chain_anchors_entry_receipt_bytes = median(collaborative.entryReceiptBytes);
  if (collaborative.ots?.status === 200) out.chain_anchors_btc_ots_bytes = collaborative.ots.bytes;

  ctx.note(
    'chain_anchors',
    `${NODES} node processes (compiled CLI serve) × ${NAMESPACES_PER_NODE} namespaces each, ${EPOCH_MS / 1000} s epochs, ` +
      `cadence strong → ${EVM} and cold → ${BTC} every ${EPOCH_MS / 1000} s effective at an epoch boundary, an entry per ` +
      `namespace per epoch ${WRITE_AT_MS} ms into it; anvil --block-time ${BLOCK_MS / 1000}, bcoin regtest mined every ${BLOCK_MS} ms ` +
      `(measured median intervals: collaborative ${collaborative.blockMs[EVM]} / ${collaborative.blockMs[BTC]} ms, ` +
      `independent ${independent.blockMs[EVM]} / ${independent.blockMs[BTC]} ms); confirmations ${CONFIRMATIONS[EVM]} (EVM), ` +
      `${CONFIRMATIONS[BTC]} (Bitcoin); tick ${TICK_MS} ms, leader timeout ${LEADER_TIMEOUT_MS} ms (chain targets ` +
      `${CHAIN_LEADER_TIMEOUT_MS} ms), each node its own anvil account, one shared bcoin wallet; ${epochs} whole epochs ` +
      `per strategy; costs = every anchor transaction of the window's epochs in the blocks (gas used × effective gas ` +
      `price; inputs − outputs, vsize); per_namespace = COMPUTED: mean collaborative transaction cost × due namespace ` +
      `checkpoints (one transaction each); due_to_confirmed = due time → appearance of the block giving the anchor ` +
      `its N-th confirmation (anvil polled every 50 ms, bcoin timed as mined)`,
  );
  ctx.note('chain_anchors_collaborative', describePhase(collaborative));
  ctx.note('chain_anchors_independent', describePhase(independent));
  const health = (h: readonly number[]) =>
    `GET /healthz p50 ${percentile(h, 50)} ms, p99 ${percentile(h, 99)} ms, max ${h.at(-1) ?? NaN} ms (${h.length} asked)`;
  ctx.note(
    'chain_anchors_writes',
    `collaborative ${collaborative.writes} writes (${collaborative.failedWrites} failed), independent ` +
      `${independent.writes} (${independent.failedWrites} failed); chain watcher/miner errors ` +
      `${collaborative.chainErrors} / ${independent.chainErrors}; window final everywhere: ` +
      `${collaborative.settled} / ${independent.settled}; node event loops (every node once a second, window until ` +
      `final): collaborative ${health(collaborative.healthMs)}, independent ${health(independent.healthMs)}`,
  );
  ctx.note(
    'chain_anchors_ots',
    collaborative.ots === undefined
      ? 'no finalized Bitcoin epoch to ask for its .ots'
      : `GET /v1/anchoring/epochs/${BTC}/${collaborative.ots.epoch}.ots: ${collaborative.ots.status}, ` +
          `${collaborative.ots.bytes} bytes${collaborative.ots.status === 200 ? '' : ` (${collaborative.ots.body})`}`,
  );
  ctx.note(
    'chain_anchors_load',
    `load average at the end: ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} (2 cores shared)`,
  );
  return out;
}
