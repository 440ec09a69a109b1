import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { startDevTsa, type DevTsa } from '../../../packages/node/src/anchoring/index.js';
import {
  createAnchoredNamespace,
  targetStatus,
  verifyReceiptOffline,
  type AnchoredReceipt,
  type EpochJson,
  type FederationReceiptJson,
  type TargetStatusJson,
} from './anchoring-client.js';
import {
  accountTsaRequests,
  allEpochs,
  appendRounds,
  assertCliVerifiesAnchored,
  assertOpensslAccepts,
  finalizedByKey,
  readStoredAnchoring,
  singleTsaAnchoring,
  waitAllAnchored,
} from './anchoring-checks.js';
import { startLocalFederation, waitFor, type LocalFederation } from './local-federation.js';

/*
 * Collaborative anchoring of a real N-node federation (compiled CLI `serve` processes) with 20
 * namespaces spread across the nodes, at one real openssl TSA, for the scale tests (one test file
 * per federation size, so the sizes run in parallel). Entries flow on every namespace for several
 * epochs; then the federation must have paid one TSA request per finalized epoch, hold the same
 * epochs on every node, and every receipt and token must verify.
 */

const TARGET = 'rfc3161:scale';
const NAMESPACES = 20;
/** Rounds of appends, one epoch apart: entries flow for several epochs. */
const ROUNDS = 4;
const EPOCH_MS = 1000;
/**
 * Generous for a loaded machine: a slow leader is not replaced (a failover anchor is a duplicate),
 * and each peer exchange gets a third of it.
 */
const LEADER_TIMEOUT_MS = 6000;
/** Namespaces the compiled CLI verifies (each run is a process start). */
const CLI_SAMPLE = 3;

/** A federation receipt less what one anchor of its root gathered: signatures, token, times. */
function statementPart(r: FederationReceiptJson): unknown {
  const {
    anchor: _a,
    evidence: _e,
    signatures: _s,
    finalized_at: _f,
    ...rest
  } = r as FederationReceiptJson & {
    anchor?: unknown;
    finalized_at?: unknown;
  };
  return rest;
}

/** A node's anchoring figures, for the test's diagnostics (what a loaded machine made happen). */
function statusFigures(st: TargetStatusJson): string {
  const last = st.failures.recent[0]?.reason.slice(0, 160);
  return `failovers ${st.failovers}, duplicates ${st.duplicates}, abandoned ${st.abandoned}, failures ${st.failures.total}${last ? ` (last: ${last})` : ''}`;
}

export function anchoringAtScale(n: number): void {
  const dir = mkdtempSync(join(tmpdir(), `remembrancer-e2e-anchoring-scale-${n}-`));
  let tsa: DevTsa | undefined;
  let fed: LocalFederation | undefined;
  /** Namespace k lives on node k mod n. */
  const namespaces = Array.from({ length: NAMESPACES }, (_, k) => ({ ns: `scale:ns${k}`, node: k % n }));
  const sizes = new Map<string, number>();
  /** Finalized collaborative epochs, as every node lists them (after convergence). */
  let finalized: EpochJson[] = [];
  /** Each node's finalized epochs by key (finalizedByKey). */
  let epochsOf: Map<string, EpochJson>[] = [];
  /** The last entry's anchored receipt per namespace. */
  const lastAnchored = new Map<string, AnchoredReceipt>();

  before(async () => {
    tsa = await startDevTsa({ dir: join(dir, 'tsa'), name: `scale-${n}` });
    fed = await startLocalFederation(dir, n, {
      checkpointIntervalMs: 100,
      anchoring: singleTsaAnchoring(TARGET, tsa, { epochMs: EPOCH_MS, leaderTimeoutMs: LEADER_TIMEOUT_MS }),
    });
    const f = fed;
    for (const { ns, node } of namespaces) {
      const witnesses = f.nodes.filter((_, j) => j !== node).map((x) => x.name);
      await createAnchoredNamespace(f.nodes[node]!, ns, witnesses, TARGET);
    }
  });

  after(async () => {
    await fed?.stopAll();
    await tsa?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe(`collaborative anchoring, ${n} nodes × ${NAMESPACES} namespaces (real processes, real TSA)`, () => {
    test('entries on every namespace for several epochs are all anchored', { timeout: 150_000 }, async (t) => {
      const f = fed!;
      const started = Date.now();
      await appendRounds(f, namespaces, sizes, ROUNDS, EPOCH_MS);
      const written = Date.now();
      try {
        await waitAllAnchored(f, namespaces, sizes, lastAnchored, 100_000);
      } finally {
        // What a slow run did (a loaded machine): no assertion on it, a record for the reader.
        const statuses = await Promise.allSettled(f.nodes.map((x) => targetStatus(x, TARGET)));
        t.diagnostic(
          `appends ${written - started} ms, then ${Date.now() - written} ms to ${lastAnchored.size}/${NAMESPACES} anchored; ` +
            statuses
              .map(
                (st, i) => `${f.nodes[i]!.name}: ${st.status === 'fulfilled' ? statusFigures(st.value) : 'no status'}`,
              )
              .join('; '),
        );
      }
    });

    test(
      'every node holds the same finalized epochs: same roots, same federation receipts',
      { timeout: 60_000 },
      async () => {
        const f = fed!;
        assert.equal(lastAnchored.size, NAMESPACES, 'the previous test anchored every namespace');
        // Pushes of the last finalized epochs may still be on their way: wait until nothing is
        // pending anywhere and every node lists the same finalized epochs.
        const lists = await waitFor(
          'every node with no pending leaves and the same finalized epochs',
          async () => {
            const pending = await Promise.all(f.nodes.map(async (x) => (await targetStatus(x, TARGET)).pending_leaves));
            const lists = await Promise.all(f.nodes.map((x) => allEpochs(x, TARGET)));
            const keys = lists.map((l) => [...finalizedByKey(l).keys()].sort().join(','));
            if (pending.every((p) => p === 0) && keys.every((k) => k === keys[0])) return lists;
            await delay(500);
            return undefined;
          },
          45_000,
        );
        epochsOf = lists.map(finalizedByKey);
        finalized = [...epochsOf[0]!.values()];
        assert.ok(finalized.length >= 2, `entries over ${ROUNDS} epochs were anchored in ${finalized.length} epochs`);
        for (const e of finalized) assert.equal(e.mode, 'collaborative', `epoch ${e.epoch} is collaborative`);
        const statuses = await Promise.all(f.nodes.map((x) => targetStatus(x, TARGET)));
        const duplicates = statuses.reduce((s, st) => s + st.duplicates, 0);
        for (const [i, m] of epochsOf.entries()) {
          const name = f.nodes[i]!.name;
          for (const [key, e] of m) {
            const first = epochsOf[0]!.get(key)!;
            assert.equal(e.root, first.root, `${name}: root of ${key}`);
            const ev = (x: EpochJson): string => JSON.stringify(x.federation_receipts[0]?.evidence);
            if (ev(e) === ev(first)) {
              assert.deepEqual(e.federation_receipts, first.federation_receipts, `${name}: receipts of ${key}`);
              continue;
            }
            // Another anchor of the same root (a failover leader's, taken first by one node): the
            // receipts differ only in what that anchor's leader gathered: signatures, token, time.
            assert.ok(duplicates > 0, `${name}: receipts of ${key} differ in their anchor, and a duplicate is counted`);
            assert.deepEqual(
              e.federation_receipts.map(statementPart),
              first.federation_receipts.map(statementPart),
              `${name}: receipts of ${key} beyond their anchor`,
            );
          }
        }
      },
    );

    test(
      'every federation receipt and every anchored receipt verifies offline; the CLI verifies a sample',
      { timeout: 60_000 },
      async (t) => {
        const f = fed!;
        assert.ok(finalized.length > 0, 'the previous test listed the finalized epochs');
        // Every receipt every node lists (those equal to one already verified are skipped).
        const verified = new Set<string>();
        /** Namespaces with a receipt in a listed epoch (a receipt's `namespace` is the name after the origin's node). */
        const anchoredNamespaces = new Set<string>();
        for (const m of epochsOf)
          for (const e of m.values()) {
            assert.ok(e.federation_receipts.length > 0, `epoch ${e.epoch} has receipts`);
            for (const r of e.federation_receipts) {
              assert.equal(r.statement.epoch, e.epoch);
              anchoredNamespaces.add((r as { namespace?: string }).namespace ?? '');
              const text = JSON.stringify(r);
              if (verified.has(text)) continue;
              await verifyReceiptOffline(r, f.registry, [[tsa!.caCertPem]]);
              verified.add(text);
            }
          }
        t.diagnostic(`${verified.size} distinct federation receipts in ${finalized.length} epochs verified`);
        for (const { ns } of namespaces) assert.ok(anchoredNamespaces.has(ns), `${ns} is anchored in a listed epoch`);
        // Every namespace's last entry: its anchors are receipts its node lists, verified above.
        for (const { ns, node } of namespaces) {
          const listed = new Set(
            [...epochsOf[node]!.values()].flatMap((e) => e.federation_receipts.map((r) => JSON.stringify(r))),
          );
          for (const a of lastAnchored.get(ns)!.anchors)
            assert.ok(listed.has(JSON.stringify(a.federation_receipt)), `${ns}'s anchor is a receipt its node lists`);
        }
        // The compiled CLI, offline, as a user runs it: namespaces of the first nodes.
        for (const { ns, node } of namespaces.slice(0, CLI_SAMPLE))
          await assertCliVerifiesAnchored({
            node: f.nodes[node]!,
            ns,
            receipt: lastAnchored.get(ns)!,
            registry: f.registry,
            tsa: tsa!,
            dir: join(dir, 'cli'),
          });
      },
    );

    test(
      'one TSA request per finalized epoch, accounted by the nodes; openssl ts -verify accepts every stored token',
      { timeout: 60_000 },
      async (t) => {
        const f = fed!;
        assert.ok(finalized.length > 0, 'an earlier test listed the finalized epochs');
        // Stopped first: no anchoring call is in flight while the TSA's count is compared, and each
        // node's anchoring.sqlite is read as it was left.
        await f.stopAll();
        const stored = f.nodes.map((x) => readStoredAnchoring(x, TARGET, [tsa!.url]));
        const { distinct, failedRequests } = accountTsaRequests(stored, [tsa!]);
        // An epoch's tokens beyond its first are duplicate anchors, each by a failover leader.
        const extra = distinct.size - finalized.length;
        const failovers = stored.reduce((s, x) => s + x.counters.failovers, 0);
        t.diagnostic(
          `${tsa!.requests()} TSA requests: ${finalized.length} epochs, ${extra} duplicate anchors (${failovers} failovers), ${failedRequests} failed`,
        );
        assert.ok(extra >= 0 && extra <= failovers, `${extra} duplicate anchors, ${failovers} failovers`);
        assert.equal(tsa!.requests(), finalized.length + extra + failedRequests);
        // Every epoch's own token is among the stored ones, on every node.
        const epochsWithTokens = new Set([...distinct.values()].map((x) => x.statement.epoch));
        for (const e of finalized) assert.ok(epochsWithTokens.has(e.epoch), `a stored token of epoch ${e.epoch}`);
        const checked = await assertOpensslAccepts(distinct.values(), tsa!, join(dir, 'openssl'));
        t.diagnostic(
          `openssl ts -verify accepted ${checked} distinct tokens (${stored.reduce((s, x) => s + x.tokens.length, 0)} stored copies)`,
        );
      },
    );
  });
}
