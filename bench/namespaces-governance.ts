// Governance at scale: replayGovernance (core, pure) over a 10,000-document log, the time a node
// takes to open with that log in sys:governance (a `remembrancer serve` process, against an empty
// node), the in-process part of that open, and what one more POST /v1/governance costs there.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GOVERNANCE_NAMESPACE,
  buildCadenceSet,
  buildNamespaceCreate,
  buildNamespacePolicySet,
  canonicalBytes,
  crypto,
  publicKeyBase64,
  replayGovernance,
  signGovernanceDocument,
  specInForce,
  toHex,
  type CadenceSet,
  type GovernanceDocument,
  type GovernanceEntry,
  type NamespaceCreate,
  type NamespacePolicySet,
  type NamespaceSpec,
} from '@vaultmesh/core';
import { initNode, type NodeIdentity } from '../packages/node/src/config/node-config.ts';
import { openLogEngine } from '../packages/node/src/log/index.ts';
import { openNamespaceServices } from '../packages/node/src/namespaces/namespace-services.ts';
import { startServe } from '../test/e2e/harness/cli-process.ts';
import { time, type BenchContext, type BenchResults } from './measure.ts';
import { loadAverage, round } from './namespaces-load.ts';

const NODE_NAME = 'bench.vaultmesh.local';

/** xorshift32: the same log every run. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const pick = <T>(rand: () => number, list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;

const CADENCES = [
  { fast: { target: 'rfc3161:local-tsa', every: '89s', confirmations: 0 } },
  {
    fast: { target: 'rfc3161:local-tsa', every: '30s', confirmations: 0 },
    strong: { target: 'eip155:31337', every: '12*fast', confirmations: 2 },
  },
  {
    fast: { target: 'rfc3161:local-tsa', every: '89s', confirmations: 0 },
    strong: { target: 'eip155:1', every: '10*fast', confirmations: 12 },
    cold: { target: 'btc:mainnet', every: '1d', confirmations: 6 },
  },
  {
    strong: { target: 'eip155:11155111', every: '5m', confirmations: 3 },
    cold: { target: 'btc:regtest', every: '24*strong', confirmations: 1 },
  },
];

/** A partial spec change of the kinds operators make: rules, writers, limits, witnesses. */
function policyChange(rand: () => number, n: number): Record<string, unknown> {
  switch (Math.floor(rand() * 5)) {
    case 0:
      return { description: `tenant rules revision ${n}` };
    case 1:
      return {
        limits: {
          max_entry_bytes: pick(rand, [4096, 16384, 65535]),
          rate_per_second: pick(rand, [50, 200, 1000]),
          burst: pick(rand, [200, 1000, 5000]),
          quota_entries: 1_000_000 + n,
        },
      };
    case 2:
      return {
        schema_policy: {
          allow: pick(rand, [
            ['*'],
            ['settlement@^1.0.0'],
            ['settlement@~1.2.0', 'memo@1.0.x'],
            ['registry.set@^1.0.0'],
          ]),
        },
      };
    case 3:
      return {
        writers: [
          {
            id: `bot-${n}`,
            token_sha256: toHex(crypto.sha256(new TextEncoder().encode(`token-${n}`))),
            scopes: ['write'],
          },
          { id: `signer-${n}`, ed25519: publicKeyBase64(crypto.sha256(new TextEncoder().encode(`seed-${n}`))) },
        ],
      };
    default: {
      const allowlist = ['alpha.vaultmesh.local', 'beta.vaultmesh.local', 'gamma.vaultmesh.local'].slice(
        0,
        1 + Math.floor(rand() * 3),
      );
      return {
        witness_policy: { min_required: Math.floor(rand() * (allowlist.length + 1)), allowlist },
        visibility: pick(rand, ['public', 'private']),
      };
    }
  }
}

interface GeneratedLog {
  entries: GovernanceEntry[];
  /** Version and spec of every namespace after the whole log, for building further documents. */
  heads: Map<string, { version: number; spec: NamespaceSpec }>;
  counts: Record<string, number>;
}

/**
 * `count` operator-signed documents: a tenth namespace.create, then policy changes and cadence
 * changes (2:1) on namespaces created earlier, interleaved as a live node would record them; every
 * effective_after is in the past, one second apart, so all of them are in force.
 */
export function generateGovernanceLog(count: number, operatorId: string, seed: Uint8Array): GeneratedLog {
  const rand = prng(0x5eed);
  const creates = Math.ceil(count / 10);
  const heads = new Map<string, { version: number; spec: NamespaceSpec }>();
  const ids: string[] = [];
  const entries: GovernanceEntry[] = [];
  const counts: Record<string, number> = {};
  const start = Date.now() - (count + 60) * 1000;
  let createsLeft = creates;
  for (let i = 0; i < count; i++) {
    const times = { issued_at: new Date(start + i * 1000).toISOString() };
    let doc: NamespaceCreate | NamespacePolicySet | CadenceSet;
    if (createsLeft > 0 && (ids.length === 0 || rand() < createsLeft / (count - i))) {
      const ns = `tenant-${ids.length}:log-${ids.length % 7}`;
      doc = buildNamespaceCreate({
        namespace: ns,
        spec: { description: `tenant ${ids.length}`, ...policyChange(rand, i) },
        ...times,
      });
      ids.push(ns);
      createsLeft--;
    } else {
      const ns = pick(rand, ids);
      const head = heads.get(ns)!;
      doc =
        rand() < 2 / 3
          ? buildNamespacePolicySet({
              namespace: ns,
              version: head.version + 1,
              spec: policyChange(rand, i),
              base: head.spec,
              ...times,
            })
          : buildCadenceSet({ namespace: ns, version: head.version + 1, cadence: pick(rand, CADENCES), ...times });
    }
    doc = signGovernanceDocument(doc, operatorId, seed);
    const spec =
      doc.schema === 'governance.cadence.set@1.0.0'
        ? { ...heads.get(doc.namespace)!.spec, cadence: doc.cadence }
        : specInForce(doc.spec);
    heads.set(doc.namespace, { version: doc.version, spec });
    counts[doc.schema] = (counts[doc.schema] ?? 0) + 1;
    entries.push({ index: i, doc });
  }
  return { entries, heads, counts };
}

/**
 * Appends documents to sys:governance of a stopped node's data dir, as the node would have
 * (submissions are checked by the node; these are valid by construction).
 */
async function seedGovernanceLog(identity: NodeIdentity, docs: readonly GovernanceDocument[]): Promise<void> {
  const engine = await openLogEngine({
    dbPath: identity.dbPath,
    nodeName: identity.config.name,
    logSeed: identity.logSeed,
    checkpointIntervalMs: 3_600_000,
    synchronous: 'NORMAL',
  });
  try {
    if (!engine.getNamespace(GOVERNANCE_NAMESPACE))
      await engine.createNamespace(GOVERNANCE_NAMESPACE, { system: true });
    for (let i = 0; i < docs.length; i += 1000) {
      await engine.append(
        GOVERNANCE_NAMESPACE,
        docs.slice(i, i + 1000).map((d) => canonicalBytes(d)),
      );
    }
    await engine.publishCheckpoint(GOVERNANCE_NAMESPACE);
  } finally {
    await engine.close();
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Milliseconds from spawning `remembrancer serve` to its ready line, for each of `runs` starts. */
async function serveStartMs(dataDir: string, runs: number): Promise<number[]> {
  const out: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const node = await startServe(dataDir, { timeoutMs: 180_000 });
    out.push(performance.now() - t0);
    await node.stop();
  }
  return out;
}

/** The namespace layer of a node's open, in process: replay (twice: projected and now), logs, schedules, schemas. */
async function inProcessOpenMs(identity: NodeIdentity, runs: number): Promise<number> {
  const samples: number[] = [];
  for (let r = 0; r < runs; r++) {
    const engine = await openLogEngine({
      dbPath: identity.dbPath,
      nodeName: identity.config.name,
      logSeed: identity.logSeed,
      checkpointIntervalMs: 3_600_000,
      synchronous: 'FULL',
    });
    try {
      const t0 = performance.now();
      const services = await openNamespaceServices({
        engine,
        dataDir: identity.dataDir,
        adminToken: identity.adminToken,
        operators: identity.governance,
        localOperator: { id: identity.operatorId, seed: identity.operatorSeed },
      });
      await services.directory.adoptLegacyNamespaces();
      samples.push(performance.now() - t0);
      await services.close();
    } finally {
      await engine.close();
    }
  }
  return median(samples);
}

/**
 * `n` sequential POST /v1/governance policy changes of `ns` (from `head`) on a running node: the
 * median time of one, and the slowest GET /healthz answered meanwhile (polled every 20 ms): how
 * long the node stops serving anything else while it takes a governance document.
 */
async function submitMs(
  identity: NodeIdentity,
  ns: string,
  head: { version: number; spec: NamespaceSpec },
  n: number,
): Promise<{ median: number; stall: number }> {
  const node = await startServe(identity.dataDir, { timeoutMs: 180_000 });
  let done = false;
  let stall = 0;
  const poller = (async () => {
    while (!done) {
      const t0 = performance.now();
      await (await fetch(`${node.url}/healthz`, { signal: AbortSignal.timeout(60_000) })).arrayBuffer();
      stall = Math.max(stall, performance.now() - t0);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    const samples: number[] = [];
    let { version, spec } = head;
    for (let i = 0; i < n; i++) {
      const doc = signGovernanceDocument(
        buildNamespacePolicySet({
          namespace: ns,
          version: version + 1,
          spec: { description: `submitted change ${i}` },
          base: spec,
        }),
        identity.operatorId,
        identity.operatorSeed,
      );
      const body = JSON.stringify(doc);
      const t0 = performance.now();
      const res = await fetch(`${node.url}/v1/governance`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(60_000),
      });
      const text = await res.text();
      samples.push(performance.now() - t0);
      if (res.status !== 201) throw new Error(`POST /v1/governance answered ${res.status}: ${text.slice(0, 300)}`);
      version = doc.version;
      spec = doc.spec;
    }
    done = true;
    await poller;
    return { median: median(samples), stall };
  } finally {
    done = true;
    await poller.catch(() => undefined);
    await node.stop();
  }
}

export async function governanceBenchmarks(ctx: BenchContext): Promise<BenchResults> {
  const count = 10_000;
  const runs = ctx.quick ? 1 : 3;
  const dir = mkdtempSync(join(tmpdir(), 'remembrancer-bench-gov-'));
  try {
    const big = initNode(join(dir, 'big'), NODE_NAME, { listen: '127.0.0.1:0' });
    const empty = initNode(join(dir, 'empty'), NODE_NAME, { listen: '127.0.0.1:0' });
    ctx.log(`governance: signing ${count.toLocaleString('en-US')} documents`);
    const log = generateGovernanceLog(count, big.operatorId, big.operatorSeed);
    ctx.note(
      'governance_log',
      `${count} operator-signed documents: ${Object.entries(log.counts)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ')}; ${log.heads.size} namespaces; all effective`,
    );

    // Pure replay, as the node runs it: at the current time, and the projection (now = null).
    const now = new Date().toISOString();
    const check = replayGovernance(log.entries, now);
    if (check.applied !== count || check.skipped.length > 0)
      throw new Error(
        `replay applied ${check.applied} of ${count}; first skipped: ${JSON.stringify(check.skipped[0])}`,
      );
    ctx.log(`governance: replayGovernance over ${count} documents (load ${loadAverage()})`);
    const replay = time(() => void replayGovernance(log.entries, now), { repeats: ctx.quick ? 3 : 7, warmup: 1 });
    const projection = time(() => void replayGovernance(log.entries, null), { repeats: ctx.quick ? 3 : 7, warmup: 1 });

    await seedGovernanceLog(
      big,
      log.entries.map((e) => e.doc),
    );
    ctx.log(
      `governance: node opens (first open creates ${log.heads.size} logs), then ${runs} reopen(s) and ${runs} empty-node start(s)`,
    );
    const [first] = await serveStartMs(big.dataDir, 1);
    const reopen = await serveStartMs(big.dataDir, runs);
    await serveStartMs(empty.dataDir, 1); // the empty node's own first start: keys, sys:governance
    const emptyStart = await serveStartMs(empty.dataDir, runs);
    const inProcess = await inProcessOpenMs(big, runs);
    const inProcessEmpty = await inProcessOpenMs(empty, runs);

    // One more document on top of the 10,000, and on a near-empty log for comparison.
    const target = log.entries.at(-1)!.doc as GovernanceDocument & { namespace: string };
    const submits = ctx.quick ? 5 : 20;
    ctx.log(`governance: ${submits} POST /v1/governance on the 10,000-document node and on a near-empty one`);
    const submitBig = await submitMs(big, target.namespace, log.heads.get(target.namespace)!, submits);
    const seedDoc = signGovernanceDocument(
      buildNamespaceCreate({ namespace: 'bench:gov-small', spec: {} }),
      empty.operatorId,
      empty.operatorSeed,
    );
    await seedGovernanceLog(empty, [seedDoc]);
    const submitSmall = await submitMs(empty, 'bench:gov-small', { version: 1, spec: seedDoc.spec }, submits);
    ctx.note(
      'governance_open',
      `serve start to ready line (tsx from source, process spawn included), median of ${runs}; first open ${Math.round(first!)} ms`,
    );

    return {
      governance_replay_ms_10k: round(replay.median * 1000, 1),
      governance_projection_ms_10k: round(projection.median * 1000, 1),
      governance_replay_docs_per_s: Math.round(count / replay.median),
      governance_first_open_ms_10k: Math.round(first!),
      governance_open_ms_10k: Math.round(median(reopen)),
      governance_open_ms_empty: Math.round(median(emptyStart)),
      governance_open_inprocess_ms_10k: round(inProcess, 1),
      governance_open_inprocess_ms_empty: round(inProcessEmpty, 1),
      governance_submit_ms_10k: round(submitBig.median, 1),
      governance_submit_ms_small: round(submitSmall.median, 1),
      governance_submit_stall_ms_10k: round(submitBig.stall, 1),
      governance_submit_stall_ms_small: round(submitSmall.stall, 1),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
