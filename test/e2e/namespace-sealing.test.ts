import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTlogPolicy } from '@vaultmesh/core';
import { runCli } from './harness/cli-process.js';
import {
  startLocalFederation,
  waitFor,
  type FederationNode,
  type LocalFederation,
} from './harness/local-federation.js';

// Issue 4's end-to-end case on a 3-node federation of real processes: on alpha, a namespace that
// needs 2 witnesses of {alpha, beta, gamma} keeps sealing while gamma is down, and one that needs
// all 3 does not, until gamma is back. Witness policies are created with the CLI (governance
// documents signed by alpha's operator key); sealing is read through the HTTP API and checked
// offline with `verify --policy` against the served C2SP tlog-policy.
const TWO = 'e2e:two-of-three';
const ALL = 'e2e:three-of-three';
let dir: string;
let fed: LocalFederation | undefined;
after(async () => {
  await fed?.stopAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function append(node: FederationNode, ns: string, n: number): Promise<number> {
  const r = await fetch(`${node.url}/v1/ns/${ns}/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${node.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ entries: Array.from({ length: n }, (_, i) => ({ ns, i, at: Date.now() })) }),
  });
  const body = await r.text();
  assert.equal(r.status, 201, body);
  const { indices } = JSON.parse(body) as { indices: number[] };
  return indices.at(-1)! + 1;
}

/** Size of the checkpoint served, with or without ?sealed=1 (undefined: 409 NOT_YET_SEALED). */
async function checkpoint(
  node: FederationNode,
  ns: string,
  sealed: boolean,
): Promise<{ size: number; note: string; sealedHeader: string | null } | undefined> {
  const r = await fetch(`${node.url}/v1/ns/${ns}/checkpoint${sealed ? '?sealed=1' : ''}`);
  if (r.status === 409) {
    assert.equal(((await r.json()) as { code: string }).code, 'NOT_YET_SEALED');
    return undefined;
  }
  assert.equal(r.status, 200);
  const note = await r.text();
  return { size: Number(note.split('\n')[1]), note, sealedHeader: r.headers.get('x-sealed') };
}

const cosignatureLines = (note: string) =>
  note.split('\n').filter((l) => l.startsWith('— ') && l.includes('/witness ')).length;

test(
  'a namespace needing 2 witnesses seals and one needing 3 of 3 does not while a peer is down',
  { timeout: 180_000 },
  async () => {
    dir = mkdtempSync(join(tmpdir(), 'remembrancer-ns-sealing-'));
    fed = await startLocalFederation(dir, 3);
    const [alpha, , gamma] = fed.nodes as [FederationNode, FederationNode, FederationNode];
    const everyone = fed.nodes.map((n) => n.name).join(',');

    for (const [ns, k] of [
      [TWO, '2'],
      [ALL, '3'],
    ] as const) {
      const r = await runCli([
        'ns',
        'create',
        ns,
        '--witnesses',
        everyone,
        '--min-witnesses',
        k,
        '--description',
        `${k} of 3`,
        '--url',
        alpha.url,
        '--data',
        alpha.dir,
        '--json',
      ]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const view = JSON.parse(r.stdout) as {
        witness_policy: { min_required: number; allowlist: string[] };
        governance: { schema: string };
      };
      assert.equal(view.witness_policy.min_required, Number(k));
      assert.equal(view.governance.schema, 'namespace.create@1.0.0');
    }

    // The served tlog-policy says the same: three witnesses, a group of threshold k.
    const policies: Record<string, string> = {};
    for (const ns of [TWO, ALL]) {
      const text = await (await fetch(`${alpha.url}/v1/ns/${ns}/policy`)).text();
      const p = parseTlogPolicy(text);
      assert.deepEqual(p.witnesses.map((w) => w.name).sort(), fed.nodes.map((n) => n.name).sort());
      assert.equal(p.groups.find((g) => g.name === p.quorum)?.threshold, ns === TWO ? 2 : 3);
      policies[ns] = join(dir, `${ns.replace(':', '_')}.policy`);
      writeFileSync(policies[ns], text);
    }

    // All up: 3 of 3 is reachable (alpha's own witness counts, being allowlisted).
    const first = await append(alpha, ALL, 2);
    await waitFor(
      `${ALL} sealed at size ${first}`,
      async () => (((await checkpoint(alpha, ALL, true))?.size ?? -1) >= first ? true : undefined),
      30_000,
    );

    await fed.kill(2);
    const two = await append(alpha, TWO, 3);
    const all = await append(alpha, ALL, 3);

    // 2 of 3: alpha and beta seal it.
    const sealedTwo = await waitFor(
      `${TWO} sealed at size ${two}`,
      async () => {
        const cp = await checkpoint(alpha, TWO, true);
        return cp && cp.size >= two ? cp : undefined;
      },
      30_000,
    );
    assert.ok(cosignatureLines(sealedTwo.note) >= 2);

    // 3 of 3: once alpha and beta have both cosigned the new checkpoint, it is still not sealed.
    const plain = await waitFor(
      `${ALL} checkpoint at size ${all} with 2 cosignatures`,
      async () => {
        const cp = await checkpoint(alpha, ALL, false);
        return cp && cp.size >= all && cosignatureLines(cp.note) >= 2 ? cp : undefined;
      },
      30_000,
    );
    assert.equal(plain.sealedHeader, 'false');
    const stillSealed = await checkpoint(alpha, ALL, true);
    assert.ok(
      stillSealed && stillSealed.size < all,
      `the latest sealed checkpoint of ${ALL} is the one from before gamma went down`,
    );
    const refresh = await fetch(`${alpha.url}/v1/ns/${ALL}/receipt/${all - 1}?sealed=1`);
    assert.equal(refresh.status, 409);
    assert.equal(((await refresh.json()) as { code: string }).code, 'NOT_YET_SEALED');

    // Offline, with the served policies: the 2-of-3 receipt verifies, the 3-of-3 one does not.
    const receipt = async (ns: string, index: number, sealed: boolean) => {
      const r = await runCli([
        'receipt',
        '--ns',
        ns,
        String(index),
        ...(sealed ? ['--sealed'] : []),
        '--url',
        alpha.url,
        '--json',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const file = join(dir, `${ns.replace(':', '_')}-${index}.json`);
      writeFileSync(file, r.stdout);
      return { file, body: JSON.parse(r.stdout) as { sealed: boolean; sealing: { cosigners: string[] } } };
    };
    const rTwo = await receipt(TWO, two - 1, true);
    assert.equal(rTwo.body.sealed, true);
    const vTwo = await runCli(['verify', rTwo.file, '--policy', policies[TWO]!]);
    assert.equal(vTwo.code, 0, vTwo.stdout + vTwo.stderr);
    const rAll = await receipt(ALL, all - 1, false);
    assert.equal(rAll.body.sealed, false);
    assert.deepEqual(
      rAll.body.sealing.cosigners.sort(),
      fed.nodes
        .slice(0, 2)
        .map((n) => n.name)
        .sort(),
    );
    const vAll = await runCli(['verify', rAll.file, '--policy', policies[ALL]!, '--json']);
    assert.equal(vAll.code, 1, vAll.stdout + vAll.stderr);
    assert.match(vAll.stdout, /POLICY_NOT_MET/);

    // gamma returns: the 3-of-3 namespace seals without anyone's intervention.
    await fed.restart(2);
    await waitFor(
      `${ALL} sealed at size ${all} after ${gamma.name} returned`,
      async () => (((await checkpoint(alpha, ALL, true))?.size ?? -1) >= all ? true : undefined),
      30_000,
    );
    const sealedAll = await receipt(ALL, all - 1, true);
    assert.equal(sealedAll.body.sealed, true);
    assert.equal((await runCli(['verify', sealedAll.file, '--policy', policies[ALL]!])).code, 0);
  },
);
