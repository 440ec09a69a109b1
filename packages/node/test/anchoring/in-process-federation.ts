// Real nodes in one process (runNode: HTTP, witness, cosigner, cadence, anchoring) anchoring at a
// real openssl TSA behind HTTP, for the anchoring tests and the anchoring benchmark (not a test
// file itself). The caller closes what it starts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  base64Decode,
  createGenesis,
  crypto,
  signRegistry,
  toHex,
  verifyTimestampToken,
  type AnchorStrategy,
  type FederationReceipt,
  type RegistrySet,
  type FederationReceiptEvidence,
} from '@vaultmesh/core';
import { initNode, localPeerEntry, runNode, type RunningNode } from '../../src/index.js';
import { startDevTsa, type DevTsa } from '../../src/anchoring/index.js';
import { freePorts } from '../federation/federation-fixture.js';

export const TARGET = 'rfc3161:test';

export interface Federation {
  dir: string;
  tsa: DevTsa;
  nodes: RunningNode[];
  registry: RegistrySet;
  close(): Promise<void>;
}

export function admin(node: RunningNode): Record<string, string> {
  return { authorization: `Bearer ${node.identity.adminToken}`, 'content-type': 'application/json' };
}

export async function json<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const r = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await r.text();
  return { status: r.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

/** A node's anchoring settings for TARGET at the dev TSA: short epochs, timeouts and ticks for tests. */
export function anchoringSettings(tsa: DevTsa, epochMs = 1000) {
  return {
    targets: {
      [TARGET]: { tsas: [{ url: tsa.url, trustAnchors: [tsa.caCertPem] }], require: 'any' as const, epochMs },
    },
    leaderTimeoutMs: 1500,
    fallbackAfterMs: 3000,
    maxClockSkewMs: 500,
    tickMs: 100,
  };
}

export async function startInProcessFederation(
  name: string,
  n: number,
  strategy: AnchorStrategy,
  options: { epochMs?: number } = {},
): Promise<Federation> {
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
      anchoring: anchoringSettings(tsa, options.epochMs),
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
export async function makeNamespaces(
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

export interface AnchoredReceipt {
  checkpoint: string;
  anchors: { federation_receipt: FederationReceipt; consistency?: { from: number; to: number; proof: string[] } }[];
}

export async function anchoredReceipt(
  node: RunningNode,
  ns: string,
  index: number,
): Promise<AnchoredReceipt | undefined> {
  const r = await json<AnchoredReceipt>(`${node.url}/v1/ns/${ns}/receipt/${index}?anchored=1`);
  return r.status === 200 && r.body.anchors.length > 0 ? r.body : undefined;
}

export function trustFor(fed: Federation) {
  return {
    registry: (v: number) => (v === fed.registry.version ? fed.registry : undefined),
    async verifyEvidence(evidence: FederationReceiptEvidence, digest: Uint8Array) {
      if (evidence.type !== 'rfc3161') throw new Error(`no test verifier for ${evidence.type} evidence`);
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
