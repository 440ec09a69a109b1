import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  base64Decode,
  createGenesis,
  crypto,
  epochStatementDigest,
  signRegistry,
  toHex,
  verifyFederationReceipt,
  verifyTimestampToken,
  type AnchorStrategy,
  type FederationReceipt,
  type RegistrySet,
} from '@vaultmesh/core';
import { initNode, localPeerEntry, runNode, type RunningNode } from '../../src/index.js';
import { startDevTsa, opensslVerifyToken, type DevTsa } from '../../src/anchoring/index.js';
import { freePorts, waitFor } from '../federation/federation-fixture.js';

// Real nodes in this process (runNode: HTTP, witness, cosigner, cadence, anchoring) and a real
// openssl TSA behind HTTP: the federation anchors each epoch's sealed checkpoints once, and every
// entry's receipt extends to the TSA token. One federation per strategy.
const TARGET = 'rfc3161:test';

interface Federation {
  dir: string;
  tsa: DevTsa;
  nodes: RunningNode[];
  registry: RegistrySet;
  close(): Promise<void>;
}

const started: Federation[] = [];
after(async () => {
  for (const f of started) await f.close();
});

function admin(node: RunningNode): Record<string, string> {
  return { authorization: `Bearer ${node.identity.adminToken}`, 'content-type': 'application/json' };
}

async function json<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const r = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await r.text();
  return { status: r.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

async function startFederation(name: string, n: number, strategy: AnchorStrategy): Promise<Federation> {
  const dir = mkdtempSync(join(tmpdir(), `remembrancer-anchoring-${name}-`));
  const tsa = await startDevTsa({ dir: join(dir, 'tsa') });
  const ports = await freePorts(n);
  const names = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'].slice(0, n).map((x) => `${x}.${name}.test`);
  const identities = names.map((node, i) =>
    initNode(join(dir, node), node, {
      listen: `127.0.0.1:${ports[i]}`,
      gossipIntervalMs: 200,
      checkpointIntervalMs: 100,
      synchronous: 'NORMAL',
      anchoring: {
        targets: {
          [TARGET]: { tsas: [{ url: tsa.url, trustAnchors: [tsa.caCertPem] }], require: 'any', epochMs: 1000 },
        },
        leaderTimeoutMs: 1500,
        fallbackAfterMs: 3000,
        maxClockSkewMs: 500,
        tickMs: 100,
      },
    }),
  );
  let registry = createGenesis({
    federation_id: `anchoring-${name}`,
    peers: identities.map((id) => localPeerEntry(id)),
    quorum: { witness: 1, registry: Math.floor(n / 2) + 1 },
    anchor_strategy: strategy,
    effective_after: '2026-01-01T00:00:00Z',
  });
  for (const id of identities) registry = signRegistry(registry, id.config.name, id.peerSeed);
  const nodes: RunningNode[] = [];
  const fed: Federation = {
    dir,
    tsa,
    nodes,
    registry,
    async close() {
      await Promise.all(nodes.map((x) => x.close()));
      await tsa.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  started.push(fed);
  nodes.push(...(await Promise.all(identities.map((id) => runNode({ dataDir: id.dataDir, logger: false })))));
  for (const node of nodes) {
    const r = await json(`${node.url}/v1/federation/registry`, {
      method: 'PUT',
      headers: admin(node),
      body: JSON.stringify(registry),
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  return fed;
}

/** `count` namespaces on each node, each cosigned by one other node and anchored every second. */
async function makeNamespaces(
  fed: Federation,
  count: number,
  on: readonly RunningNode[] = fed.nodes,
): Promise<{ node: RunningNode; ns: string }[]> {
  const out: { node: RunningNode; ns: string }[] = [];
  for (const [i, node] of on.entries()) {
    const others = fed.nodes.filter((x) => x !== node).map((x) => x.identity.config.name);
    for (let k = 0; k < count; k++) {
      const ns = `t${i}:ns${k}`;
      const spec = {
        witness_policy: { min_required: 1, allowlist: others },
        cadence: { fast: { target: TARGET, every: '1s', confirmations: 0 } },
      };
      const r = await json(`${node.url}/v1/ns/${ns}`, {
        method: 'PUT',
        headers: admin(node),
        body: JSON.stringify(spec),
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const w = await json(`${node.url}/v1/ns/${ns}/batch`, {
        method: 'POST',
        headers: admin(node),
        body: JSON.stringify({
          entries: [
            { n: 1, ns },
            { n: 2, ns },
            { n: 3, ns },
          ],
        }),
      });
      assert.equal(w.status, 201, JSON.stringify(w.body));
      out.push({ node, ns });
    }
  }
  return out;
}

interface AnchoredReceipt {
  checkpoint: string;
  anchors: { federation_receipt: FederationReceipt; consistency?: { from: number; to: number; proof: string[] } }[];
}

async function anchoredReceipt(node: RunningNode, ns: string, index: number): Promise<AnchoredReceipt | undefined> {
  const r = await json<AnchoredReceipt>(`${node.url}/v1/ns/${ns}/receipt/${index}?anchored=1`);
  return r.status === 200 && r.body.anchors.length > 0 ? r.body : undefined;
}

function trustFor(fed: Federation) {
  return {
    registry: (v: number) => (v === fed.registry.version ? fed.registry : undefined),
    async verifyEvidence(evidence: { tokens: readonly string[] }, digest: Uint8Array) {
      const t = await verifyTimestampToken(base64Decode(evidence.tokens[0]!), {
        digest,
        trustAnchorsPem: [fed.tsa.caCertPem],
      });
      return {
        tx_hash: toHex(crypto.sha256(t.tokenDer)),
        block: t.serialNumber,
        timestamp: t.genTimeIso,
      };
    },
  };
}

describe('collaborative anchoring, 3 nodes, real TSA', { timeout: 120_000 }, () => {
  test('every namespace is anchored, one TSA request per finalized epoch, receipts verify offline', async () => {
    const fed = await startFederation('collab', 3, 'collaborative');
    const namespaces = await makeNamespaces(fed, 2);
    for (const { node, ns } of namespaces) {
      await waitFor(`an anchored receipt of ${ns}`, () => anchoredReceipt(node, ns, 2), 60_000);
    }
    const statuses = await Promise.all(
      fed.nodes.map(
        async (n) =>
          (
            await json<{ targets: { target_requests: number; finalized: Record<string, number> }[] }>(
              `${n.url}/v1/anchoring/status`,
            )
          ).body,
      ),
    );
    const requests = statuses.reduce((sum, s) => sum + s.targets[0]!.target_requests, 0);
    const epochs = await json<{ epochs: { status: string; leader: string }[] }>(
      `${fed.nodes[0]!.url}/v1/anchoring/epochs?target=${encodeURIComponent(TARGET)}&limit=100`,
    );
    const finalized = epochs.body.epochs.filter((e) => e.status === 'finalized');
    assert.ok(finalized.length > 0);
    // One request per finalized epoch, whichever node led it: N nodes × M namespaces cost one anchor.
    assert.equal(fed.tsa.requests(), requests);
    assert.ok(requests <= finalized.length + 1, `${requests} TSA requests for ${finalized.length} epochs`);

    // The same figures in /metrics.
    const metrics = await (await fetch(`${fed.nodes[0]!.url}/metrics`)).text();
    assert.match(metrics, /remembrancer_anchoring\{target="rfc3161:test",what="finalized_epochs"\} [1-9]/);
    assert.match(metrics, /remembrancer_anchoring\{target="rfc3161:test",what="last_finalized_epoch"\} \d+/);

    for (const { node, ns } of namespaces) {
      const receipt = (await anchoredReceipt(node, ns, 2))!;
      for (const a of receipt.anchors) {
        const v = await verifyFederationReceipt(a.federation_receipt, trustFor(fed));
        assert.ok(v.ok, JSON.stringify(v.checks));
        const token = base64Decode(a.federation_receipt.evidence.tokens[0]!);
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
