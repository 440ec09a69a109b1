import assert from 'node:assert/strict';
import {
  base64Decode,
  crypto,
  toHex,
  verifyFederationReceipt,
  verifyTimestampToken,
  type RegistrySet,
} from '@vaultmesh/core';
import { startLocalFederation, type FederationNode, type LocalFederation } from './local-federation.js';

/*
 * What the anchoring fault tests ask a real node over HTTP (docs/api.md): writes to a namespace,
 * anchored receipts, /v1/anchoring/status and /epochs, and the offline check of a federation
 * receipt against the registry and TSA CAs. Shapes are the parts of the JSON the tests read.
 */

export interface FederationReceiptJson {
  statement: { epoch: number; root: string; target: string };
  signatures: { node: string; role: string }[];
  evidence: { policy: string; tokens: string[] };
}

export interface AnchoredReceipt {
  sealed: boolean;
  anchors: { federation_receipt: FederationReceiptJson }[];
}

export interface TargetStatusJson {
  target: string;
  current_epoch: number;
  failovers: number;
  abandoned: number;
  duplicates: number;
  pending_leaves: number;
  target_requests: number;
  finalized: Record<string, number>;
  failures: { total: number; recent: { epoch: number | null; reason: string }[] };
  last_finalized: { epoch: number; root: string; leader: string; attempt: number; signatures: number } | null;
}

export interface EpochJson {
  epoch: number;
  mode: string;
  status: 'finalized' | 'abandoned' | 'empty';
  root: string | null;
  leader: string | null;
  federation_receipts: FederationReceiptJson[];
}

export function adminHeaders(node: FederationNode): Record<string, string> {
  return { authorization: `Bearer ${node.token}`, 'content-type': 'application/json' };
}

/** One request, bounded, with the body parsed as JSON (undefined when empty). */
export async function fetchJson<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const r = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await r.text();
  return { status: r.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

/** Creates namespace `ns` on `node`, witnessed by one of `witnesses`, due at `target` every second. */
export async function createAnchoredNamespace(
  node: FederationNode,
  ns: string,
  witnesses: readonly string[],
  target: string,
): Promise<void> {
  const r = await fetchJson(`${node.url}/v1/ns/${ns}`, {
    method: 'PUT',
    headers: adminHeaders(node),
    body: JSON.stringify({
      witness_policy: { min_required: 1, allowlist: witnesses },
      cadence: { fast: { target, every: '1s', confirmations: 0 } },
    }),
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
}

/** Appends `count` entries to `ns` on `node`, numbered from `from`. */
export async function appendEntries(node: FederationNode, ns: string, from: number, count: number): Promise<void> {
  const entries = Array.from({ length: count }, (_, k) => ({ n: from + k, by: node.name }));
  const w = await fetchJson(`${node.url}/v1/ns/${ns}/batch`, {
    method: 'POST',
    headers: adminHeaders(node),
    body: JSON.stringify({ entries }),
  });
  assert.equal(w.status, 201, JSON.stringify(w.body));
}

/** The receipt of entry `index` of `ns` with its anchors, once it has one (undefined before, or if unreachable). */
export async function anchoredReceipt(
  node: FederationNode,
  ns: string,
  index: number,
): Promise<AnchoredReceipt | undefined> {
  try {
    const r = await fetchJson<AnchoredReceipt>(`${node.url}/v1/ns/${ns}/receipt/${index}?anchored=1`);
    return r.status === 200 && r.body.anchors.length > 0 ? r.body : undefined;
  } catch {
    return undefined;
  }
}

export async function targetStatus(node: FederationNode, target: string): Promise<TargetStatusJson> {
  const r = await fetchJson<{ targets: TargetStatusJson[] }>(`${node.url}/v1/anchoring/status`);
  assert.equal(r.status, 200);
  const t = r.body.targets.find((x) => x.target === target);
  assert.ok(t, `status of ${node.name} shows ${target}`);
  return t;
}

/** The epochs `node` knows the outcome of, newest first (at most 100). */
export async function listEpochs(node: FederationNode, target: string): Promise<EpochJson[]> {
  const r = await fetchJson<{ epochs: EpochJson[] }>(
    `${node.url}/v1/anchoring/epochs?target=${encodeURIComponent(target)}&limit=100`,
  );
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.epochs;
}

/**
 * Verifies a federation receipt offline against `registry` (its only version) and, for each of
 * its tokens in order, the CAs that token must chain to (`tokenCas[i]`): one list for `any`, one
 * per TSA for `all`. Fails unless there are exactly as many tokens as lists.
 */
export async function verifyReceiptOffline(
  receipt: FederationReceiptJson,
  registry: RegistrySet,
  tokenCas: readonly (readonly string[])[],
): Promise<void> {
  const v = await verifyFederationReceipt(receipt, {
    registry: (version) => (version === registry.version ? registry : undefined),
    async verifyEvidence(evidence, digest) {
      const tokens = (evidence as { tokens: readonly string[] }).tokens;
      assert.equal(tokens.length, tokenCas.length, 'one token per TSA list');
      const verified = [];
      for (const [i, cas] of tokenCas.entries())
        verified.push(await verifyTimestampToken(base64Decode(tokens[i]!), { digest, trustAnchorsPem: [...cas] }));
      const t = verified[0]!;
      return { tx_hash: toHex(crypto.sha256(t.tokenDer)), block: t.serialNumber, timestamp: t.genTimeIso };
    },
  });
  assert.ok(v.ok, JSON.stringify(v.checks));
}

export interface AnchoringFederationOptions {
  target: string;
  /** The target's TSAs, in order. */
  tsas: readonly { url: string; caCertPem: string }[];
  require: 'any' | 'all';
  epochMs: number;
  /** Default 300 ms (one machine's clock). */
  maxClockSkewMs?: number;
  /** Node i's namespace, witnessed by any other node, due at the target every second. */
  namespaceOf(i: number): string;
}

/**
 * A local federation of `n` real nodes anchoring at one RFC 3161 target (fast epochs, 1.5 s
 * leader timeout, 100 ms ticks and checkpoints), with one anchored namespace per node.
 */
export async function startAnchoringFederation(
  root: string,
  n: number,
  o: AnchoringFederationOptions,
): Promise<LocalFederation> {
  const fed = await startLocalFederation(root, n, {
    checkpointIntervalMs: 100,
    anchoring: {
      targets: {
        [o.target]: {
          tsas: o.tsas.map((t) => ({ url: t.url, trustAnchors: [t.caCertPem] })),
          require: o.require,
          epochMs: o.epochMs,
        },
      },
      leaderTimeoutMs: 1500,
      maxClockSkewMs: o.maxClockSkewMs ?? 300,
      tickMs: 100,
    },
  });
  try {
    for (const [i, node] of fed.nodes.entries())
      await createAnchoredNamespace(
        node,
        o.namespaceOf(i),
        fed.nodes.filter((_, j) => j !== i).map((x) => x.name),
        o.target,
      );
  } catch (e) {
    await fed.stopAll();
    throw e;
  }
  return fed;
}
