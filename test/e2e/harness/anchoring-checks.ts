import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { base64Decode, epochStatementDigest, toHex, type EpochStatement, type RegistrySet } from '@vaultmesh/core';
import { ANCHOR_DB_FILE, opensslVerifyToken, type DevTsa } from '../../../packages/node/src/anchoring/index.js';
import { runCli } from './cli-process.js';
import { anchoredReceipt, appendEntries, fetchJson, type AnchoredReceipt, type EpochJson } from './anchoring-client.js';
import { waitFor, type FederationNode, type LocalFederation } from './local-federation.js';

/*
 * Checks of what a federation anchored, for the anchoring tests at scale and per strategy: every
 * epoch a node knows (all pages of GET /v1/anchoring/epochs), the tokens as each node stored them
 * in its anchoring.sqlite (read after the node stopped), OpenSSL's verdict on each, the TSA
 * requests the nodes' own records account for, and the compiled CLI's `verify` of a receipt.
 */

/** Epochs `node` knows the outcome of at `target`, newest first: every page, not only the first 100. */
export async function allEpochs(node: FederationNode, target: string): Promise<EpochJson[]> {
  const out: EpochJson[] = [];
  for (let before = Number.MAX_SAFE_INTEGER; ;) {
    const r = await fetchJson<{ epochs: EpochJson[] }>(
      `${node.url}/v1/anchoring/epochs?target=${encodeURIComponent(target)}&limit=100&before=${before}`,
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    out.push(...r.body.epochs);
    if (r.body.epochs.length < 100) return out;
    before = r.body.epochs[r.body.epochs.length - 1]!.epoch;
  }
}

/** The finalized epochs of a list, keyed `mode|node|epoch` (node '' for collaborative ones). */
export function finalizedByKey(epochs: readonly EpochJson[]): Map<string, EpochJson> {
  const out = new Map<string, EpochJson>();
  for (const e of epochs) {
    if (e.status !== 'finalized') continue;
    const node = (e as EpochJson & { node: string | null }).node ?? '';
    out.set(`${e.mode}|${node}|${e.epoch}`, e);
  }
  return out;
}

/** One token as a node stored it: in a finalized epoch's evidence, or a duplicate anchor's. */
export interface StoredToken {
  node: string;
  source: 'epoch' | 'duplicate';
  statement: EpochStatement;
  tokenDer: Uint8Array;
}

/** What a node's anchoring.sqlite holds about one target, read directly from the file. */
export interface StoredAnchoring {
  /** The finalized epochs it holds, as `mode|node|epoch` (node '' for collaborative ones). */
  finalized: string[];
  tokens: StoredToken[];
  /** The node's counters for the target: target_requests, duplicates, failovers. */
  counters: { targetRequests: number; duplicates: number; failovers: number };
  /** TSA requests made by anchoring calls that failed (from the reasons in anchor_failures). */
  failedRequests: number;
  /** How many failure rows the file keeps and how many were counted (rows are trimmed to the newest). */
  failuresKept: number;
  failuresTotal: number;
}

/**
 * Reads a stopped node's anchoring.sqlite (read-only): every stored token with the statement it
 * time-stamps, its counters, and the TSA requests of its failed anchoring calls. A failed call's
 * reason lists each attempt as `<tsa url>: <CODE> <message>` (rfc3161-target.ts), so the requests
 * it made are the TSA URLs named after `attempts:`.
 */
export function readStoredAnchoring(node: FederationNode, target: string, tsaUrls: readonly string[]): StoredAnchoring {
  const db = new Database(join(node.dir, ANCHOR_DB_FILE), { readonly: true, fileMustExist: true });
  try {
    const tokens: StoredToken[] = [];
    const statements = new Map<string, EpochStatement>();
    const epochs = db
      .prepare("SELECT epoch, mode, node, finalization FROM anchor_epochs WHERE target = ? AND status = 'finalized'")
      .all(target) as { epoch: number; mode: string; node: string; finalization: string }[];
    const finalized: string[] = [];
    for (const row of epochs) {
      finalized.push(`${row.mode}|${row.node}|${row.epoch}`);
      const f = JSON.parse(row.finalization) as { statement: EpochStatement; evidence: { tokens: string[] } };
      statements.set(`${row.epoch}|${row.mode}|${row.node}`, f.statement);
      for (const t of f.evidence.tokens)
        tokens.push({ node: node.name, source: 'epoch', statement: f.statement, tokenDer: base64Decode(t) });
    }
    const duplicates = db
      .prepare('SELECT epoch, mode, node, evidence FROM anchor_duplicates WHERE target = ?')
      .all(target) as { epoch: number; mode: string; node: string; evidence: string }[];
    for (const row of duplicates) {
      // The duplicate's whole finalization, kept as evidence: another anchor of the same root.
      const f = JSON.parse(row.evidence) as { statement: EpochStatement; evidence: { tokens: string[] } };
      const held = statements.get(`${row.epoch}|${row.mode}|${row.node}`);
      assert.equal(f.statement.root, held?.root, `${node.name}: a duplicate of epoch ${row.epoch} anchors its root`);
      for (const t of f.evidence.tokens)
        tokens.push({ node: node.name, source: 'duplicate', statement: f.statement, tokenDer: base64Decode(t) });
    }
    const counter = (name: string): number =>
      (db.prepare('SELECT value FROM anchor_counters WHERE name = ? AND label = ?').pluck().get(name, target) as
        number | undefined) ?? 0;
    const reasons = db.prepare('SELECT reason FROM anchor_failures WHERE target = ?').pluck().all(target) as string[];
    let failedRequests = 0;
    for (const reason of reasons) {
      if (!reason.startsWith(`anchoring at ${target} failed`)) continue;
      const attempts = reason.slice(reason.indexOf('attempts:'));
      for (const url of tsaUrls) failedRequests += attempts.split(`${url}: `).length - 1;
    }
    return {
      finalized,
      tokens,
      counters: {
        targetRequests: counter('target_requests'),
        duplicates: counter('duplicates'),
        failovers: counter('failovers'),
      },
      failedRequests,
      failuresKept: reasons.length,
      failuresTotal: counter('failures'),
    };
  } finally {
    db.close();
  }
}

/**
 * The TSA requests the nodes' records account for, checked against the requests the TSAs
 * counted: each distinct stored token is one request that succeeded (an epoch's anchor or a
 * duplicate one), each attempt of a failed anchoring call one more. Exact, not a bound. Returns
 * the distinct tokens (one stored copy of each).
 */
export function accountTsaRequests(
  stored: readonly StoredAnchoring[],
  tsas: readonly DevTsa[],
): { distinct: Map<string, StoredToken>; failedRequests: number; targetRequests: number } {
  const distinct = new Map<string, StoredToken>();
  // Keyed by the token and the statement it is stored with: a copy stored with another statement
  // would count as one more token (and fail the count), not hide behind the first.
  for (const s of stored)
    for (const t of s.tokens) distinct.set(`${toHex(t.tokenDer)}|${toHex(epochStatementDigest(t.statement))}`, t);
  const failedRequests = stored.reduce((n, s) => n + s.failedRequests, 0);
  const targetRequests = stored.reduce((n, s) => n + s.counters.targetRequests, 0);
  const seen = tsas.reduce((n, t) => n + t.requests(), 0);
  // Failure rows are trimmed to the newest (the startup's refusals by peers not yet in the
  // federation count too): a failed anchoring call in a dropped row would be missing here.
  const trimmed = stored.reduce((n, s) => n + s.failuresTotal - s.failuresKept, 0);
  const figures = `TSAs saw ${seen}; stored tokens ${distinct.size}; failed-call requests ${failedRequests}; target_requests ${targetRequests}; failure rows dropped ${trimmed}`;
  // Every request a node made is in its target_requests (a failed call's retries too): exact.
  assert.equal(seen, targetRequests, `every TSA request is counted by the node that made it (${figures})`);
  // And each is a stored token or an attempt of a failed call, as far as the kept failure rows tell.
  if (trimmed === 0)
    assert.equal(
      seen,
      distinct.size + failedRequests,
      `every TSA request is a stored token or a failed call's (${figures})`,
    );
  else
    assert.ok(
      distinct.size + failedRequests <= seen,
      `stored tokens and kept failures within the requests (${figures})`,
    );
  return { distinct, failedRequests, targetRequests };
}

/** `openssl ts -verify` of every distinct stored token against its TSA's CA and its statement's digest. */
export async function assertOpensslAccepts(
  tokens: Iterable<StoredToken>,
  tsa: DevTsa,
  scratchDir: string,
): Promise<number> {
  mkdirSync(scratchDir, { recursive: true });
  let n = 0;
  for (const t of tokens) {
    const r = await opensslVerifyToken({
      tokenDer: t.tokenDer,
      digest: epochStatementDigest(t.statement),
      caCertPem: tsa.caCertPem,
      tsaCertPem: tsa.tsaCertPem,
      dir: scratchDir,
    });
    assert.ok(
      r.ok,
      `openssl ts -verify of the ${t.source} token of epoch ${t.statement.epoch} on ${t.node}: ${r.output}`,
    );
    n++;
  }
  return n;
}

/**
 * `remembrancer verify RECEIPT --policy P --registry R --tsa-ca CA --require-anchor` (the compiled
 * CLI) of an entry's anchored receipt, as a user would run it offline: exit 0, every check ok.
 */
export async function assertCliVerifiesAnchored(input: {
  node: FederationNode;
  ns: string;
  receipt: AnchoredReceipt;
  registry: RegistrySet;
  tsa: DevTsa;
  dir: string;
}): Promise<void> {
  const { node, ns, dir } = input;
  mkdirSync(dir, { recursive: true });
  const policy = await fetch(`${node.url}/v1/ns/${encodeURIComponent(ns)}/policy`, {
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(policy.status, 200);
  const base = join(dir, ns.replace(/[^a-z0-9]/gi, '_'));
  const files = {
    receipt: `${base}.receipt.json`,
    policy: `${base}.policy.txt`,
    registry: `${base}.registry.json`,
    ca: `${base}.ca.pem`,
  };
  writeFileSync(files.policy, await policy.text());
  writeFileSync(files.receipt, JSON.stringify(input.receipt));
  writeFileSync(files.registry, JSON.stringify(input.registry));
  writeFileSync(files.ca, input.tsa.caCertPem);
  const r = await runCli([
    'verify',
    files.receipt,
    '--policy',
    files.policy,
    '--registry',
    files.registry,
    '--tsa-ca',
    files.ca,
    '--require-anchor',
  ]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout, /FAIL/);
  assert.match(r.stdout, /receipt verified to [1-9]\d* anchor\(s\)/);
}

/** A namespace of the test and the index of the node it lives on. */
export interface PlacedNamespace {
  ns: string;
  node: number;
}

/** `anchoring` of config.json: one RFC 3161 target at one dev TSA (`any`), short epochs, fast ticks. */
export function singleTsaAnchoring(
  target: string,
  tsa: DevTsa,
  timing: { epochMs: number; leaderTimeoutMs: number; fallbackAfterMs?: number },
): Record<string, unknown> {
  return {
    targets: {
      [target]: { tsas: [{ url: tsa.url, trustAnchors: [tsa.caCertPem] }], require: 'any', epochMs: timing.epochMs },
    },
    leaderTimeoutMs: timing.leaderTimeoutMs,
    ...(timing.fallbackAfterMs === undefined ? {} : { fallbackAfterMs: timing.fallbackAfterMs }),
    maxClockSkewMs: 500,
    tickMs: 100,
  };
}

/**
 * `rounds` rounds of two entries on every namespace, one epoch apart, so entries flow over
 * several epochs; `sizes` keeps each namespace's size.
 */
export async function appendRounds(
  fed: LocalFederation,
  namespaces: readonly PlacedNamespace[],
  sizes: Map<string, number>,
  rounds: number,
  epochMs: number,
): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    await Promise.all(
      namespaces.map(async ({ ns, node }) => {
        const from = sizes.get(ns) ?? 0;
        await appendEntries(fed.nodes[node]!, ns, from, 2);
        sizes.set(ns, from + 2);
      }),
    );
    await delay(epochMs);
  }
}

/**
 * Waits until every namespace's last entry has an anchored receipt, kept in `into`. One pass over
 * the namespaces not anchored yet per poll, a breath between passes: a poller per namespace at
 * once would load the nodes it waits for.
 */
export async function waitAllAnchored(
  fed: LocalFederation,
  namespaces: readonly PlacedNamespace[],
  sizes: ReadonlyMap<string, number>,
  into: Map<string, AnchoredReceipt>,
  timeoutMs: number,
): Promise<void> {
  await waitFor(
    'an anchored receipt of every namespace’s last entry',
    async () => {
      for (const { ns, node } of namespaces) {
        if (into.has(ns)) continue;
        const r = await anchoredReceipt(fed.nodes[node]!, ns, sizes.get(ns)! - 1);
        if (r) into.set(ns, r);
      }
      if (into.size === namespaces.length) return true;
      await delay(250);
      return undefined;
    },
    timeoutMs,
  );
}
