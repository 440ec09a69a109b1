import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { base64Decode, epochStatementDigest, verifyFederationReceipt, type AnchorStrategy } from '@vaultmesh/core';
import type { RunningNode } from '../../src/index.js';
import { opensslVerifyToken } from '../../src/anchoring/index.js';
import { waitFor } from '../federation/federation-fixture.js';
import {
  TARGET,
  anchoredReceipt,
  json,
  makeNamespaces,
  startInProcessFederation,
  trustFor,
  type Federation,
} from './in-process-federation.js';

// Real nodes in this process and a real openssl TSA behind HTTP (in-process-federation.ts): the
// federation anchors each epoch's sealed checkpoints once, and every entry's receipt extends to
// the TSA token. One federation per strategy.
const started: Federation[] = [];
after(async () => {
  for (const f of started) await f.close();
});

async function startFederation(name: string, n: number, strategy: AnchorStrategy): Promise<Federation> {
  const fed = await startInProcessFederation(name, n, strategy);
  started.push(fed);
  return fed;
}

describe('collaborative anchoring, 3 nodes, real TSA', { timeout: 120_000 }, () => {
  test('every namespace is anchored, one TSA request per finalized epoch, receipts verify offline', async () => {
    const fed = await startFederation('collab', 3, 'collaborative');
    const namespaces = await makeNamespaces(fed, 2);
    for (const { node, ns } of namespaces) {
      await waitFor(`an anchored receipt of ${ns}`, () => anchoredReceipt(node, ns, 2), 60_000);
    }
    // A node counts a TSA request once its answer is in, the TSA when it arrives: the two agree
    // between requests, and epochs keep being anchored meanwhile, so wait for such a moment.
    interface Counts {
      target_requests: number;
      failovers: number;
      failures: { total: number };
    }
    const counted = await waitFor(
      'the TSA and the nodes to count the same requests',
      async () => {
        const targets = await Promise.all(
          fed.nodes.map(
            async (n) => (await json<{ targets: Counts[] }>(`${n.url}/v1/anchoring/status`)).body.targets[0]!,
          ),
        );
        const sum = (f: (t: Counts) => number): number => targets.reduce((acc, t) => acc + f(t), 0);
        const requests = sum((t) => t.target_requests);
        return fed.tsa.requests() === requests
          ? { requests, failovers: sum((t) => t.failovers), failures: sum((t) => t.failures.total) }
          : undefined;
      },
      30_000,
    );
    const epochs = await json<{ epochs: { status: string; leader: string }[] }>(
      `${fed.nodes[0]!.url}/v1/anchoring/epochs?target=${encodeURIComponent(TARGET)}&limit=100`,
    );
    const finalized = epochs.body.epochs.filter((e) => e.status === 'finalized');
    assert.ok(finalized.length > 0);
    // One request per finalized epoch, whichever node led it: N nodes × M namespaces cost one anchor.
    // More only from a failover leader anchoring again (a slow leader on a loaded machine) or a
    // failed call retried; the scale e2e tests count these exactly from each node's records.
    assert.ok(
      counted.requests <= finalized.length + 1 + counted.failovers + counted.failures,
      `${counted.requests} TSA requests for ${finalized.length} epochs, ${counted.failovers} failovers, ${counted.failures} failures`,
    );

    // The same figures in /metrics.
    const metrics = await (await fetch(`${fed.nodes[0]!.url}/metrics`)).text();
    assert.match(metrics, /remembrancer_anchoring\{target="rfc3161:test",what="finalized_epochs"\} [1-9]/);
    assert.match(metrics, /remembrancer_anchoring\{target="rfc3161:test",what="last_finalized_epoch"\} \d+/);

    for (const { node, ns } of namespaces) {
      const receipt = (await anchoredReceipt(node, ns, 2))!;
      for (const a of receipt.anchors) {
        const v = await verifyFederationReceipt(a.federation_receipt, trustFor(fed));
        assert.ok(v.ok, JSON.stringify(v.checks));
        const evidence = a.federation_receipt.evidence;
        assert.ok(evidence.type === 'rfc3161');
        const token = base64Decode(evidence.tokens[0]!);
        const ossl = await opensslVerifyToken({
          tokenDer: token,
          digest: epochStatementDigest(a.federation_receipt.statement),
          caCertPem: fed.tsa.caCertPem,
          tsaCertPem: fed.tsa.tsaCertPem,
          dir: fed.dir,
        });
        assert.ok(ossl.ok, ossl.output);
      }
    }
  });
});

describe('independent and hybrid strategies', { timeout: 120_000 }, () => {
  test('independent: each node anchors its own epoch tree alone, signed only by itself', async () => {
    const fed = await startFederation('indep', 3, 'independent');
    const namespaces = await makeNamespaces(fed, 1);
    for (const { node, ns } of namespaces) {
      const r = await waitFor(`an anchored receipt of ${ns}`, () => anchoredReceipt(node, ns, 2), 60_000);
      const fr = r.anchors[0]!.federation_receipt;
      assert.equal(fr.statement.mode, 'independent');
      assert.equal(fr.statement.node, node.identity.config.name);
      assert.deepEqual(
        fr.signatures.map((s) => s.node),
        [node.identity.config.name],
      );
      const v = await verifyFederationReceipt(fr, trustFor(fed));
      assert.ok(v.ok, JSON.stringify(v.checks));
    }
  });

  test('hybrid: with the other nodes down no epoch finalizes collaboratively, and the survivor falls back to anchoring alone', async () => {
    const fed = await startFederation('hybrid', 3, 'hybrid');
    const [alpha] = fed.nodes as [RunningNode];
    const { ns } = (await makeNamespaces(fed, 1, [alpha]))[0]!;
    // Sealed first (beta and gamma cosign), then beta and gamma stop: no quorum of 2 remains.
    await waitFor('a sealed checkpoint', async () => {
      const r = await json<{ sealed: boolean }>(`${alpha.url}/v1/ns/${ns}/receipt/2?sealed=1`);
      return r.status === 200 ? true : undefined;
    });
    await Promise.all(fed.nodes.slice(1).map((n) => n.close()));
    fed.nodes.splice(1);
    const r = await waitFor(`a fallback anchor of ${ns}`, () => anchoredReceipt(alpha, ns, 2), 60_000);
    const fr = r.anchors[0]!.federation_receipt;
    assert.equal(fr.statement.mode, 'independent');
    assert.equal(fr.statement.node, alpha.identity.config.name);
    const v = await verifyFederationReceipt(fr, trustFor(fed));
    assert.ok(v.ok, JSON.stringify(v.checks));
    const status = await json<{ targets: { failures: { total: number } }[] }>(`${alpha.url}/v1/anchoring/status`);
    assert.ok(status.body.targets[0]!.failures.total > 0, 'the failed collaborative attempts are counted');
  });
});
