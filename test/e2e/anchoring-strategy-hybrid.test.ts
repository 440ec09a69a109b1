import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { anchorQuorum, epochNumber } from '@vaultmesh/core';
import { startDevTsa, type DevTsa } from '../../packages/node/src/anchoring/index.js';
import {
  anchoredReceipt,
  appendEntries,
  createAnchoredNamespace,
  targetStatus,
  verifyReceiptOffline,
  type AnchoredReceipt,
  type FederationReceiptJson,
} from './harness/anchoring-client.js';
import {
  accountTsaRequests,
  allEpochs,
  assertCliVerifiesAnchored,
  assertOpensslAccepts,
  finalizedByKey,
  readStoredAnchoring,
  singleTsaAnchoring,
} from './harness/anchoring-checks.js';
import { startLocalFederation, waitFor, type LocalFederation } from './harness/local-federation.js';

// Issue 10 item 3: "`hybrid` (collaborative; a node falls back to independent for an epoch that
// does not finalize within a deadline)", and item 12: "Tests with real processes [...] each
// strategy; `openssl ts -verify` accepts every stored token." A real 5-node federation with
// `anchor_strategy: hybrid`: collaborative while all run; with three of five killed (a majority,
// so no quorum of 3 remains), the two survivors — each the other's witness, so their entries still
// seal — anchor alone the epochs that did not finalize within `fallbackAfterMs`.
const TARGET = 'rfc3161:hybrid';
const EPOCH_MS = 1000;
const FALLBACK_MS = 6000;
const SURVIVORS = [0, 1];
const KILLED = [2, 3, 4];

interface Receipt extends FederationReceiptJson {
  statement: FederationReceiptJson['statement'] & { mode: string; node: string | null };
  finalized_at: string;
}

const dir = mkdtempSync(join(tmpdir(), 'remembrancer-e2e-anchoring-hybrid-'));
let tsa: DevTsa | undefined;
let fed: LocalFederation;
const nsOf = (i: number): string => `hybrid:n${i}`;
const sizes = new Map<number, number>();
let killedAt = 0;

async function append(i: number, count: number): Promise<number> {
  const from = sizes.get(i) ?? 0;
  await appendEntries(fed.nodes[i]!, nsOf(i), from, count);
  sizes.set(i, from + count);
  return from + count - 1;
}

/** The anchored receipt of entry `index` of survivor i's namespace once one of its anchors passes `ok`. */
function anchoredWhere(i: number, index: number, ok: (r: Receipt) => boolean, what: string): Promise<AnchoredReceipt> {
  return waitFor(
    `${what} of entry ${index} of ${nsOf(i)}`,
    async () => {
      const r = await anchoredReceipt(fed.nodes[i]!, nsOf(i), index);
      if (r?.anchors.some((a) => ok(a.federation_receipt as Receipt))) return r;
      await delay(250);
      return undefined;
    },
    45_000,
  );
}

before(async () => {
  tsa = await startDevTsa({ dir: join(dir, 'tsa'), name: 'hybrid' });
  fed = await startLocalFederation(
    dir,
    5,
    {
      checkpointIntervalMs: 100,
      anchoring: singleTsaAnchoring(TARGET, tsa, {
        epochMs: EPOCH_MS,
        // Peer exchanges get a third of it: 1.5 s, for a loaded machine.
        leaderTimeoutMs: 4500,
        // Long enough that a slow collaborative epoch on a loaded machine still finalizes first.
        fallbackAfterMs: FALLBACK_MS,
      }),
    },
    { anchorStrategy: 'hybrid' },
  );
  // Each survivor's namespace is witnessed by the other survivor alone.
  for (const i of SURVIVORS) await createAnchoredNamespace(fed.nodes[i]!, nsOf(i), [fed.nodes[1 - i]!.name], TARGET);
});

after(async () => {
  await fed?.stopAll();
  await tsa?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('hybrid anchoring (real processes, real TSA)', () => {
  test('all nodes up: collaborative, signed by a quorum of the federation', { timeout: 60_000 }, async () => {
    assert.equal(fed.registry.anchor_strategy, 'hybrid');
    for (const i of SURVIVORS) {
      const last = await append(i, 2);
      const r = await anchoredWhere(i, last, (fr) => fr.statement.mode === 'collaborative', 'a collaborative anchor');
      const fr = r.anchors.find((a) => (a.federation_receipt as Receipt).statement.mode === 'collaborative')!
        .federation_receipt as Receipt;
      assert.equal(fr.statement.node, null);
      assert.ok(fr.signatures.length >= anchorQuorum(fed.registry), `${fr.signatures.length} signatures`);
      await verifyReceiptOffline(fr, fed.registry, [[tsa!.caCertPem]]);
    }
  });

  test(
    'a majority killed: the survivors fall back to anchoring alone after the deadline, and their receipts verify',
    { timeout: 60_000 },
    async (t) => {
      assert.equal(sizes.size, SURVIVORS.length, 'the previous test wrote to every survivor');
      await Promise.all(KILLED.map((i) => fed.kill(i)));
      killedAt = Date.now();
      // Written after the kill: no root holding them can gather a quorum of 3 from 2 nodes.
      const last = new Map<number, number>();
      for (const i of SURVIVORS) last.set(i, await append(i, 2));
      for (const i of SURVIVORS) {
        const owner = fed.nodes[i]!.name;
        const r = await anchoredWhere(i, last.get(i)!, () => true, 'an anchor');
        for (const a of r.anchors) {
          const fr = a.federation_receipt as Receipt;
          assert.equal(fr.statement.mode, 'independent', `${nsOf(i)}: a fallback (independent) epoch`);
          assert.equal(fr.statement.node, owner);
          assert.deepEqual(
            fr.signatures.map((s) => [s.node, s.role]),
            [[owner, 'leader']],
          );
          // Anchored alone only once the epoch had not finalized within the fallback deadline.
          const deadline = (fr.statement.epoch + 1) * EPOCH_MS + FALLBACK_MS;
          assert.ok(
            Date.parse(fr.finalized_at) >= deadline,
            `epoch ${fr.statement.epoch} anchored alone at ${fr.finalized_at}, deadline ${new Date(deadline).toISOString()}`,
          );
          await verifyReceiptOffline(fr, fed.registry, [[tsa!.caCertPem]]);
        }
        t.diagnostic(`${nsOf(i)} anchored alone by ${owner}`);
      }
      await assertCliVerifiesAnchored({
        node: fed.nodes[0]!,
        ns: nsOf(0),
        receipt: (await anchoredReceipt(fed.nodes[0]!, nsOf(0), last.get(0)!))!,
        registry: fed.registry,
        tsa: tsa!,
        dir: join(dir, 'cli'),
      });
      // No collaborative epoch closing after the kill finalized: its signatures come after its close.
      const killEpoch = epochNumber(killedAt, EPOCH_MS);
      for (const i of SURVIVORS) {
        const node = fed.nodes[i]!;
        const epochs = [...finalizedByKey(await allEpochs(node, TARGET)).values()];
        const late = epochs.filter((e) => e.mode === 'collaborative' && e.epoch >= killEpoch).map((e) => e.epoch);
        assert.deepEqual(late, [], `${node.name}: collaborative epochs finalized after the kill`);
        const st = await targetStatus(node, TARGET);
        assert.ok((st.finalized.independent ?? 0) > 0, `${node.name} counts its fallback epochs`);
        assert.ok(st.failures.total > 0, `${node.name} counts the failed collaborative attempts`);
      }
    },
  );

  test(
    'TSA requests: one per finalized epoch, collaborative or fallback; openssl ts -verify accepts every stored token',
    { timeout: 30_000 },
    async (t) => {
      assert.ok(killedAt > 0, 'the previous test killed the majority');
      await fed.stopAll();
      const stored = fed.nodes.map((x) => readStoredAnchoring(x, TARGET, [tsa!.url]));
      const { distinct, failedRequests } = accountTsaRequests(stored, [tsa!]);
      const epochs = new Set(stored.flatMap((s) => s.finalized));
      const extra = distinct.size - epochs.size;
      const failovers = stored.reduce((s, x) => s + x.counters.failovers, 0);
      t.diagnostic(
        `${tsa!.requests()} TSA requests: ${epochs.size} epochs (${[...epochs].filter((k) => k.startsWith('independent')).length} fallback), ${extra} duplicate anchors (${failovers} failovers), ${failedRequests} failed`,
      );
      assert.ok(extra >= 0 && extra <= failovers, `${extra} duplicate anchors, ${failovers} failovers`);
      assert.equal(tsa!.requests(), epochs.size + extra + failedRequests);
      await assertOpensslAccepts(distinct.values(), tsa!, join(dir, 'openssl'));
    },
  );
});
