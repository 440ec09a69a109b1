import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64Decode, base64Encode, createGenesis, signRegistry, type RegistrySet } from '@vaultmesh/core';
import { initNode, localPeerEntry, runNode, startDevTsa, type DevTsa, type RunningNode } from '@vaultmesh/node';
import { runCli } from './harness/cli-process.js';
import { freePorts, waitFor } from './harness/local-federation.js';

// Issue 10 item 9: "`remembrancer verify` checks the whole chain offline and prints each check
// [...]; a tampered token, root, proof or signature fails at the named check with exit 1."
// A real 3-node federation (in this process) anchors a namespace at a real openssl TSA; the
// anchored receipt, the registry and the TSA's CA go to files, and the compiled CLI verifies them.
const TARGET = 'rfc3161:test';
const NS = 'verify:anchored';
const ANCHOR_CHECKS = ['format', 'registry', 'leaf', 'epoch-inclusion', 'quorum', 'anchor', 'consistency'];

interface FederationReceiptJson {
  statement: { root: string };
  signatures: { node: string; role: string }[];
  evidence: { tokens: string[] };
}
interface AnchoredReceipt {
  checkpoint: string;
  sealed: boolean;
  anchors: { federation_receipt: FederationReceiptJson; consistency?: { from: number; to: number; proof: string[] } }[];
}

const dir = mkdtempSync(join(tmpdir(), 'remembrancer-e2e-verify-anchored-'));
const nodes: RunningNode[] = [];
const tsas: DevTsa[] = [];
let registry: RegistrySet;
let receipt: AnchoredReceipt;
const files = {
  receipt: join(dir, 'receipt.json'),
  registry: join(dir, 'registry.json'),
  registryAll: join(dir, 'registry-all.json'),
  policy: join(dir, 'policy.txt'),
  ca: join(dir, 'tsa-ca.pem'),
  otherCa: join(dir, 'other-ca.pem'),
};

function admin(node: RunningNode): Record<string, string> {
  return { authorization: `Bearer ${node.identity.adminToken}`, 'content-type': 'application/json' };
}

async function json<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const r = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await r.text();
  return { status: r.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

async function append(node: RunningNode, entries: unknown[]): Promise<void> {
  const w = await json(`${node.url}/v1/ns/${NS}/batch`, {
    method: 'POST',
    headers: admin(node),
    body: JSON.stringify({ entries }),
  });
  assert.equal(w.status, 201, JSON.stringify(w.body));
}

before(async () => {
  const tsa = await startDevTsa({ dir: join(dir, 'tsa') });
  tsas.push(tsa);
  const ports = await freePorts(3);
  const identities = ['alpha', 'beta', 'gamma'].map((name, i) =>
    initNode(join(dir, name), `${name}.verify.test`, {
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
  registry = createGenesis({
    federation_id: 'verify-anchored',
    peers: identities.map((id) => localPeerEntry(id)),
    quorum: { witness: 1, registry: 2 },
    anchor_strategy: 'collaborative',
    effective_after: '2026-01-01T00:00:00Z',
  });
  for (const id of identities) registry = signRegistry(registry, id.config.name, id.peerSeed);
  nodes.push(...(await Promise.all(identities.map((id) => runNode({ dataDir: id.dataDir, logger: false })))));
  for (const node of nodes) {
    const r = await json(`${node.url}/v1/federation/registry`, {
      method: 'PUT',
      headers: admin(node),
      body: JSON.stringify(registry),
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  const alpha = nodes[0]!;
  const others = nodes.slice(1).map((n) => n.identity.config.name);
  const created = await json(`${alpha.url}/v1/ns/${NS}`, {
    method: 'PUT',
    headers: admin(alpha),
    body: JSON.stringify({
      witness_policy: { min_required: 1, allowlist: others },
      cadence: { fast: { target: TARGET, every: '1s', confirmations: 0 } },
    }),
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await append(alpha, [{ n: 0 }, { n: 1 }, { n: 2 }]);
  const anchored = async (): Promise<AnchoredReceipt | undefined> => {
    const r = await json<AnchoredReceipt>(`${alpha.url}/v1/ns/${NS}/receipt/2?anchored=1`);
    return r.status === 200 && r.body.anchors.length > 0 ? r.body : undefined;
  };
  await waitFor('an anchored receipt of entry 2', anchored, 60_000);
  // More entries after the anchor: the receipt's checkpoint grows past the anchored one, so the
  // anchor carries a consistency proof between them. Sealed, so the namespace's policy holds too.
  await append(alpha, [{ n: 3 }, { n: 4 }]);
  receipt = await waitFor(
    'an anchored receipt with a consistency proof',
    async () => {
      const r = await anchored();
      return r?.sealed === true && r.anchors[0]?.consistency !== undefined ? r : undefined;
    },
    30_000,
  );
  // The namespace's C2SP tlog-policy: its log key and witness quorum, for the entry checks.
  const policy = await fetch(`${alpha.url}/v1/ns/${encodeURIComponent(NS)}/policy`);
  assert.equal(policy.status, 200);
  writeFileSync(files.policy, await policy.text());
  writeFileSync(files.receipt, JSON.stringify(receipt));
  writeFileSync(files.registry, JSON.stringify(registry));
  const all = await json<unknown>(`${alpha.url}/v1/federation/registry?all=1`);
  assert.equal(all.status, 200);
  writeFileSync(files.registryAll, JSON.stringify(all.body));
  writeFileSync(files.ca, tsa.caCertPem);
  // A CA of another TSA: trusted by nobody who anchored this receipt.
  const other = await startDevTsa({ dir: join(dir, 'other-tsa') });
  tsas.push(other);
  writeFileSync(files.otherCa, other.caCertPem);
});

after(async () => {
  await Promise.all(nodes.map((n) => n.close()));
  for (const t of tsas) await t.stop();
  rmSync(dir, { recursive: true, force: true });
});

function verify(file: string, extra: string[] = ['--registry', files.registry, '--tsa-ca', files.ca]) {
  return runCli(['verify', file, '--policy', files.policy, ...extra]);
}

let variant = 0;
/** The receipt, changed by `mutate`, in a file of its own. */
function tampered(mutate: (r: AnchoredReceipt) => void): string {
  const copy = structuredClone(receipt);
  mutate(copy);
  const file = join(dir, `tampered-${variant++}.json`);
  writeFileSync(file, JSON.stringify(copy));
  return file;
}

function flipByte(b64: string, at: (length: number) => number): string {
  const bytes = base64Decode(b64);
  const i = at(bytes.length);
  bytes[i] = bytes[i]! ^ 0x01;
  return base64Encode(bytes);
}

/** The anchor check lines of a run: name → whether it printed `ok`. */
function anchorChecks(stdout: string): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const m of stdout.matchAll(/^(ok {2}|FAIL) anchor\[0\] ([a-z-]+):/gm)) out.set(m[2]!, m[1] === 'ok  ');
  return out;
}

/** Exit 1, every check before `name` ok, `name` failed. */
function assertFailsAt(r: { code: number | null; stdout: string; stderr: string }, name: string): void {
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const checks = anchorChecks(r.stdout);
  assert.deepEqual([...checks.keys()], ANCHOR_CHECKS, r.stdout);
  for (const c of ANCHOR_CHECKS.slice(0, ANCHOR_CHECKS.indexOf(name))) assert.equal(checks.get(c), true, r.stdout);
  assert.equal(checks.get(name), false, r.stdout);
  assert.match(r.stdout, /receipt NOT verified/);
}

describe('verify an anchored receipt end to end', { timeout: 180_000 }, () => {
  test('passes with the pinned registry and the TSA CA: every entry and anchor check ok, exit 0', async () => {
    const r = await verify(files.receipt, ['--registry', files.registry, '--tsa-ca', files.ca, '--require-anchor']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /FAIL/);
    const checks = anchorChecks(r.stdout);
    assert.deepEqual([...checks.entries()], ANCHOR_CHECKS.map((c) => [c, true]) as [string, boolean][]);
    assert.match(r.stdout, /^ok {3}inclusion$/m);
    assert.match(r.stdout, /^ok {3}policy: /m);
    assert.match(r.stdout, /anchor\[0\] consistency: .*consistent with the receipt's checkpoint of size 5/);
    assert.match(r.stdout, /receipt verified to 1 anchor\(s\)/);
  });

  test('passes with the registry as GET /v1/federation/registry?all=1 serves it; --json has the anchor checks', async () => {
    const r = await verify(files.receipt, ['--registry', files.registryAll, '--tsa-ca', files.ca, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout) as {
      ok: boolean;
      anchors: { ok: boolean; target: string; checks: { name: string; ok: boolean }[] }[];
    };
    assert.equal(out.ok, true);
    assert.equal(out.anchors.length, 1);
    assert.equal(out.anchors[0]!.target, TARGET);
    assert.deepEqual(
      out.anchors[0]!.checks.map((c) => [c.name, c.ok]),
      ANCHOR_CHECKS.map((c) => [c, true]),
    );
  });

  test('a tampered token byte fails at anchor', async () => {
    const file = tampered((r) => {
      const ev = r.anchors[0]!.federation_receipt.evidence;
      ev.tokens[0] = flipByte(ev.tokens[0]!, (n) => n - 10);
    });
    assertFailsAt(await verify(file), 'anchor');
  });

  test('a tampered epoch root fails at epoch-inclusion', async () => {
    const file = tampered((r) => {
      const s = r.anchors[0]!.federation_receipt.statement;
      s.root = flipByte(s.root, () => 0);
    });
    assertFailsAt(await verify(file), 'epoch-inclusion');
  });

  test('removed signatures fail at quorum', async () => {
    const file = tampered((r) => {
      const fr = r.anchors[0]!.federation_receipt;
      // Only the leader's remains: one of the two a 3-peer federation needs.
      fr.signatures = fr.signatures.filter((s) => s.role === 'leader');
    });
    assertFailsAt(await verify(file), 'quorum');
  });

  test('a tampered consistency proof fails at consistency', async () => {
    const file = tampered((r) => {
      const c = r.anchors[0]!.consistency!;
      assert.ok(c.proof.length > 0, 'a proof from size 3 to 5 has hashes');
      c.proof[0] = flipByte(c.proof[0]!, () => 0);
    });
    assertFailsAt(await verify(file), 'consistency');
  });

  test('a CA the tokens do not chain to fails at anchor', async () => {
    const r = await verify(files.receipt, ['--registry', files.registry, '--tsa-ca', files.otherCa]);
    assertFailsAt(r, 'anchor');
    assert.match(r.stdout, /anchor\[0\] anchor: .*token 0/);
  });

  test('--tsa-policy: the TSA policy of the tokens passes, another fails at anchor, a malformed OID is exit 2', async () => {
    const base = ['--registry', files.registry, '--tsa-ca', files.ca];
    const own = await verify(files.receipt, [...base, '--tsa-policy', '1.2.3', '--tsa-policy', tsas[0]!.policyOid]);
    assert.equal(own.code, 0, own.stdout + own.stderr);
    const other = await verify(files.receipt, [...base, '--tsa-policy', '1.2.3.4.5']);
    assertFailsAt(other, 'anchor');
    assert.ok(other.stdout.includes(`token 0 is under TSA policy ${tsas[0]!.policyOid}, not 1.2.3.4.5`), other.stdout);
    const bad = await verify(files.receipt, [...base, '--tsa-policy', 'not-an-oid']);
    assert.equal(bad.code, 2, bad.stdout + bad.stderr);
    assert.match(bad.stderr, /--tsa-policy not-an-oid is not a dotted-decimal OID/);
  });

  test('anchors without --registry are a usage error naming it, exit 2', async () => {
    const r = await verify(files.receipt, ['--tsa-ca', files.ca]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /--registry/);
    assert.doesNotMatch(r.stderr, /--tsa-ca/);
    const both = await verify(files.receipt, []);
    assert.equal(both.code, 2, both.stdout + both.stderr);
    assert.match(both.stderr, /--registry FILE .* and --tsa-ca FILE/);
  });

  test('--require-anchor fails a receipt without anchors, exit 1', async () => {
    const file = tampered((r) => {
      delete (r as Partial<AnchoredReceipt>).anchors;
    });
    const r = await verify(file, ['--require-anchor']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /FAIL anchors: the receipt has no anchors/);
    const plain = await verify(file, []);
    assert.equal(plain.code, 0, plain.stdout + plain.stderr);
  });
});
