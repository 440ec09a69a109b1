import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { startDevTsa, type DevTsa } from '../../packages/node/src/anchoring/index.js';
import {
  createAnchoredNamespace,
  targetStatus,
  verifyReceiptOffline,
  type AnchoredReceipt,
} from './harness/anchoring-client.js';
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
} from './harness/anchoring-checks.js';
import { startLocalFederation, waitFor, type LocalFederation } from './harness/local-federation.js';

// Issue 10 item 3: "`independent` (each node anchors its own epoch tree alone, signed only by
// itself)", and item 12: "Tests with real processes [...] each strategy; `openssl ts -verify`
// accepts every stored token." A real 3-node federation whose genesis registry says
// `anchor_strategy: independent` (federation init --anchor-strategy), one real openssl TSA.
const TARGET = 'rfc3161:indep';
const EPOCH_MS = 1000;
const ROUNDS = 3;
/** Two namespaces per node. */
const namespaces = [0, 1, 2].flatMap((node) => [0, 1].map((k) => ({ ns: `indep:n${node}-${k}`, node })));

const dir = mkdtempSync(join(tmpdir(), 'remembrancer-e2e-anchoring-independent-'));
let tsa: DevTsa | undefined;
let fed: LocalFederation;
const sizes = new Map<string, number>();
const lastAnchored = new Map<string, AnchoredReceipt>();

before(async () => {
  tsa = await startDevTsa({ dir: join(dir, 'tsa'), name: 'independent' });
  fed = await startLocalFederation(
    dir,
    3,
    {
      checkpointIntervalMs: 100,
      anchoring: singleTsaAnchoring(TARGET, tsa, { epochMs: EPOCH_MS, leaderTimeoutMs: 3000 }),
    },
    { anchorStrategy: 'independent' },
  );
  for (const { ns, node } of namespaces)
    await createAnchoredNamespace(
      fed.nodes[node]!,
      ns,
      fed.nodes.filter((_, j) => j !== node).map((x) => x.name),
      TARGET,
    );
});

after(async () => {
  await fed?.stopAll();
  await tsa?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('independent anchoring (real processes, real TSA)', () => {
  test(
    'each node anchors its own namespaces alone: receipts signed by that node only, verifying offline',
    { timeout: 60_000 },
    async () => {
      assert.equal(fed.registry.anchor_strategy, 'independent');
      await appendRounds(fed, namespaces, sizes, ROUNDS, EPOCH_MS);
      await waitAllAnchored(fed, namespaces, sizes, lastAnchored, 45_000);
      for (const { ns, node } of namespaces) {
        const owner = fed.nodes[node]!.name;
        for (const a of lastAnchored.get(ns)!.anchors) {
          const fr = a.federation_receipt as typeof a.federation_receipt & {
            statement: { mode: string; node: string | null };
          };
          assert.equal(fr.statement.mode, 'independent', `${ns}: an independent epoch`);
          assert.equal(fr.statement.node, owner, `${ns}: its own node's epoch tree`);
          assert.deepEqual(
            fr.signatures.map((s) => [s.node, s.role]),
            [[owner, 'leader']],
            `${ns}: signed by ${owner} alone`,
          );
          await verifyReceiptOffline(fr, fed.registry, [[tsa!.caCertPem]]);
        }
      }
      const sample = namespaces[0]!;
      await assertCliVerifiesAnchored({
        node: fed.nodes[sample.node]!,
        ns: sample.ns,
        receipt: lastAnchored.get(sample.ns)!,
        registry: fed.registry,
        tsa: tsa!,
        dir: join(dir, 'cli'),
      });
    },
  );

  test(
    'each node lists every node’s epochs, each with that node’s namespaces only; every receipt verifies',
    { timeout: 30_000 },
    async () => {
      assert.equal(lastAnchored.size, namespaces.length, 'the previous test anchored every namespace');
      const ownerOf = new Map(namespaces.map((x) => [x.ns, fed.nodes[x.node]!.name]));
      const verified = new Set<string>();
      // Each node pushes its epochs to the others: wait until every node lists the same ones.
      const lists = await waitFor(
        'every node listing the same finalized epochs',
        async () => {
          const lists = await Promise.all(fed.nodes.map(async (x) => finalizedByKey(await allEpochs(x, TARGET))));
          const keys = lists.map((m) => [...m.keys()].sort().join(','));
          if (keys.every((k) => k === keys[0])) return lists;
          await delay(500);
          return undefined;
        },
        20_000,
      );
      for (const [i, node] of fed.nodes.entries()) {
        const epochs = [...lists[i]!.values()];
        for (const other of fed.nodes)
          assert.ok(
            epochs.some((e) => (e as typeof e & { node: string | null }).node === other.name),
            `${node.name} lists epochs of ${other.name}`,
          );
        for (const e of epochs) {
          const by = (e as typeof e & { node: string | null }).node;
          assert.equal(e.mode, 'independent', `${node.name}: epoch ${e.epoch} is independent`);
          for (const r of e.federation_receipts) {
            const ns = (r as typeof r & { namespace: string }).namespace;
            assert.equal(ownerOf.get(ns), by, `${by}'s epoch ${e.epoch} anchors ${ns}, one of its own`);
            assert.deepEqual(
              r.signatures.map((x) => x.node),
              [by],
            );
            if (verified.has(JSON.stringify(r))) continue;
            await verifyReceiptOffline(r, fed.registry, [[tsa!.caCertPem]]);
            verified.add(JSON.stringify(r));
          }
        }
      }
      for (const node of fed.nodes)
        assert.equal((await targetStatus(node, TARGET)).failovers, 0, 'no leader, no failover');
    },
  );

  test(
    'one TSA request per node per epoch with leaves; openssl ts -verify accepts every stored token',
    { timeout: 30_000 },
    async (t) => {
      assert.equal(lastAnchored.size, namespaces.length, 'the first test anchored every namespace');
      await fed.stopAll();
      const stored = fed.nodes.map((x) => readStoredAnchoring(x, TARGET, [tsa!.url]));
      const { distinct, failedRequests } = accountTsaRequests(stored, [tsa!]);
      // Independent epochs of all nodes (each node holds its own and those pushed to it).
      const epochs = new Set(stored.flatMap((s) => s.finalized));
      for (const key of epochs) assert.match(key, /^independent\|[a-z]+\.e2e\.local\|\d+$/);
      t.diagnostic(`${tsa!.requests()} TSA requests: ${epochs.size} node epochs, ${failedRequests} failed`);
      // Nobody else anchors a node's epoch: no duplicates, one token per (node, epoch).
      assert.equal(distinct.size, epochs.size);
      assert.equal(tsa!.requests(), epochs.size + failedRequests);
      for (const [i, node] of fed.nodes.entries()) {
        const own = [...epochs].filter((k) => k.startsWith(`independent|${node.name}|`));
        assert.ok(own.length > 0, `${node.name} anchored epochs of its own`);
        assert.equal(stored[i]!.counters.duplicates, 0);
      }
      const checked = await assertOpensslAccepts(distinct.values(), tsa!, join(dir, 'openssl'));
      assert.equal(checked, epochs.size);
    },
  );
});
