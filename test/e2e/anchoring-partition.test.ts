import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { anchorQuorum } from '@vaultmesh/core';
import { startDevTsa, type DevTsa } from '../../packages/node/src/anchoring/index.js';
import { freePorts, waitFor, type LocalFederation } from './harness/local-federation.js';
import {
  adminHeaders,
  anchoredReceipt,
  appendEntries,
  startAnchoringFederation,
  listEpochs,
  targetStatus,
  verifyReceiptOffline,
  type AnchoredReceipt,
  type TargetStatusJson,
} from './harness/anchoring-client.js';
import { createNetNs, startDevTsaIn, type NetNs, type NetNsDevTsa } from './harness/netns.js';

// Issue 10 item 11: "a partitioned minority cannot finalize while the majority does" and
// "nothing anchored is lost". A real partition: two of five nodes are restarted inside a Linux
// network namespace, where they reach each other (and a TSA of their own) at 127.0.0.1 but not
// the three nodes on the host, nor those them. The quorum is floor(5/2)+1 = 3: the majority of
// three finalizes alone; the minority of two, with a reachable TSA, cannot — only for want of a
// quorum. Healed (restarted on the host), the minority's entries written meanwhile are anchored,
// and every receipt anchored before is still served and verifies.
const TARGET = 'rfc3161:split';
const EPOCH_MS = 3000;
const MAJORITY = [0, 1, 2];
const MINORITY = [3, 4];

const netns: NetNs | string = createNetNs('partition');
const skip = typeof netns === 'string' ? netns : false;
const dir = mkdtempSync(join(tmpdir(), 'remembrancer-e2e-anchoring-partition-'));
let hostTsa: DevTsa | undefined;
let nsTsa: NetNsDevTsa | undefined;
let fed: LocalFederation | undefined;
const nsOf = (i: number): string => `split:n${i}`;
/** Entries written so far per node's namespace. */
const sizes = new Map<number, number>();
/** Anchored receipts served before healing: node i's namespace, entry index, the receipt. */
const anchoredEarlier: { i: number; index: number; receipt: AnchoredReceipt }[] = [];

function ns(): NetNs {
  assert.ok(typeof netns !== 'string');
  return netns;
}

function federation(): LocalFederation {
  assert.ok(fed);
  return fed;
}

async function append(i: number, count: number): Promise<void> {
  await appendEntries(federation().nodes[i]!, nsOf(i), sizes.get(i) ?? 0, count);
  sizes.set(i, (sizes.get(i) ?? 0) + count);
}

/** Epochs finalized as the host's nodes know them: epoch → root (each node must agree). */
async function hostFinalized(nodes: number[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for (const i of nodes) {
    for (const e of await listEpochs(federation().nodes[i]!, TARGET)) {
      if (e.status !== 'finalized') continue;
      const held = out.get(e.epoch);
      assert.ok(held === undefined || held === e.root, `one root for epoch ${e.epoch}`);
      out.set(e.epoch, e.root!);
    }
  }
  return out;
}

before(async () => {
  if (skip) return;
  // The minority's TSA listens inside the namespace on a port free on the host too, so the host's
  // nodes find nothing there: each side reaches exactly one of the target's two TSAs (`any`).
  const [nsTsaPort] = await freePorts(1);
  nsTsa = await startDevTsaIn(ns(), join(dir, 'tsa-netns'), nsTsaPort!);
  hostTsa = await startDevTsa({ dir: join(dir, 'tsa-host'), name: 'host' });
  fed = await startAnchoringFederation(dir, 5, {
    target: TARGET,
    tsas: [hostTsa, nsTsa],
    require: 'any',
    epochMs: EPOCH_MS,
    namespaceOf: nsOf,
  });
});

after(async () => {
  await fed?.stopAll();
  await hostTsa?.stop();
  await nsTsa?.stop();
  if (typeof netns !== 'string') netns.remove();
  rmSync(dir, { recursive: true, force: true });
});

describe('a partitioned minority (real processes, a real network partition)', { skip, timeout: 90_000 }, () => {
  test('before the partition every namespace is anchored', { timeout: 25_000 }, async () => {
    const f = federation();
    assert.equal(anchorQuorum(f.registry), 3);
    for (const i of f.nodes.keys()) await append(i, 2);
    for (const i of f.nodes.keys()) {
      const receipt = await waitFor(
        `an anchored receipt of ${nsOf(i)}`,
        () => anchoredReceipt(f.nodes[i]!, nsOf(i), 1),
        20_000,
      );
      anchoredEarlier.push({ i, index: 1, receipt });
    }
  });

  test('partitioned: the majority finalizes, the minority cannot', { timeout: 45_000 }, async (t) => {
    const f = federation();
    const minorityBefore = await Promise.all(MINORITY.map((i) => targetStatus(f.nodes[i]!, TARGET)));
    for (const i of MINORITY) {
      await f.nodes[i]!.proc?.stop();
      await f.restart(i, { prefix: ns().prefix });
    }
    // The partition is real: the host cannot reach the moved nodes, and they reach their TSA.
    await assert.rejects(fetch(`${f.nodes[MINORITY[0]!]!.url}/healthz`, { signal: AbortSignal.timeout(3_000) }));
    assert.equal((await ns().fetchText(nsTsa!.url)).status, 405, 'the minority reaches its TSA (GET: 405)');
    const nsTsaRequests = await nsTsa!.requests();
    const finalizedBefore = await hostFinalized(MAJORITY);

    for (const i of MAJORITY) await append(i, 2);
    for (const i of MINORITY) {
      const node = f.nodes[i]!;
      const w = await ns().fetchJson(`${node.url}/v1/ns/${nsOf(i)}/batch`, {
        method: 'POST',
        headers: adminHeaders(node),
        body: JSON.stringify({ entries: [{ n: sizes.get(i), by: node.name, partitioned: true }] }),
      });
      assert.equal(w.status, 201, JSON.stringify(w.body));
      sizes.set(i, sizes.get(i)! + 1);
    }

    // The majority anchors its entries written during the partition, in epochs signed by a quorum
    // of its own nodes only.
    for (const i of MAJORITY) {
      const last = sizes.get(i)! - 1;
      const r = await waitFor(
        `${nsOf(i)} anchored in the partition`,
        () => anchoredReceipt(f.nodes[i]!, nsOf(i), last),
        30_000,
      );
      const fr = r.anchors[0]!.federation_receipt;
      assert.ok(fr.signatures.length >= 3, `${fr.signatures.length} signatures`);
      for (const s of fr.signatures)
        assert.ok(
          MAJORITY.some((j) => f.nodes[j]!.name === s.node),
          `signer ${s.node} is in the majority`,
        );
      await verifyReceiptOffline(fr, f.registry, [[hostTsa!.caCertPem]]);
      anchoredEarlier.push({ i, index: last, receipt: r });
    }
    const finalizedDuring = await hostFinalized(MAJORITY);
    const newEpochs = [...finalizedDuring.keys()].filter((e) => !finalizedBefore.has(e));
    assert.ok(newEpochs.length >= 1, 'the majority finalized epochs during the partition');
    // One TSA request per finalized epoch, at the host's TSA (nothing in flight once they match).
    await waitFor(
      'host TSA requests equal to the finalized epochs',
      async () => ((await hostFinalized(MAJORITY)).size === hostTsa!.requests() ? true : undefined),
      10_000,
    );

    // The minority tries, fails for want of a quorum, abandons what it signed, and says so.
    const minority = await waitFor(
      'the minority failing for want of a quorum, and abandoning an epoch',
      async () => {
        const st = await Promise.all(
          MINORITY.map(async (i) => {
            const r = await ns().fetchJson<{ targets: TargetStatusJson[] }>(`${f.nodes[i]!.url}/v1/anchoring/status`);
            return r.body.targets.find((x) => x.target === TARGET)!;
          }),
        );
        const quorumFailures = st.flatMap((s) =>
          s.failures.recent.filter((x) => /quorum not reached: [0-2] of 3 signatures/.test(x.reason)),
        );
        return quorumFailures.length > 0 && st.some((s) => s.abandoned > 0) ? { st, quorumFailures } : undefined;
      },
      30_000,
    );
    t.diagnostic(`a minority failure: ${minority.quorumFailures[0]!.reason}`);
    for (const [k, s] of minority.st.entries()) {
      // (Its age grows; the epoch and root stay.)
      const last = (x: TargetStatusJson) => [x.last_finalized?.epoch, x.last_finalized?.root];
      assert.deepEqual(last(s), last(minorityBefore[k]!), 'the minority finalized nothing new');
      assert.deepEqual(s.finalized, minorityBefore[k]!.finalized);
    }
    for (const i of MINORITY) {
      const r = await ns().fetchJson<AnchoredReceipt>(
        `${f.nodes[i]!.url}/v1/ns/${nsOf(i)}/receipt/${sizes.get(i)! - 1}?anchored=1`,
      );
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.anchors, [], `${nsOf(i)}'s partition-time entry is not anchored`);
    }
    // Its TSA was reachable all along, and never asked: no root of the minority had a quorum.
    assert.equal(await nsTsa!.requests(), nsTsaRequests);
  });

  test('healed: the minority catches up, and nothing anchored is lost', { timeout: 35_000 }, async () => {
    const f = federation();
    for (const i of MINORITY) {
      await f.nodes[i]!.proc?.stop();
      await f.restart(i);
    }
    for (const i of MINORITY) {
      const last = sizes.get(i)! - 1;
      const r = await waitFor(
        `${nsOf(i)}'s partition-time entry anchored`,
        () => anchoredReceipt(f.nodes[i]!, nsOf(i), last),
        30_000,
      );
      await verifyReceiptOffline(r.anchors[0]!.federation_receipt, f.registry, [[hostTsa!.caCertPem]]);
    }
    // Every receipt anchored before (and during) the partition is still served, unchanged.
    for (const { i, index, receipt } of anchoredEarlier) {
      const now = await anchoredReceipt(f.nodes[i]!, nsOf(i), index);
      assert.ok(now, `${nsOf(i)} entry ${index} still anchored`);
      assert.deepEqual(now.anchors[0]!.federation_receipt, receipt.anchors[0]!.federation_receipt);
      await verifyReceiptOffline(now.anchors[0]!.federation_receipt, f.registry, [[hostTsa!.caCertPem]]);
    }
    // All five agree on every epoch's root.
    await hostFinalized([0, 1, 2, 3, 4]);
  });
});
