import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RECEIPT_ANCHOR_CHECKS, base64Decode, base64Encode, type RegistrySet } from '@vaultmesh/core';
import type { AnchorTrustText } from '../src/verify/anchor-checks.ts';
import { verifyReceiptText, type ReceiptVerdict } from '../src/verify/receipt-verdict.ts';
import {
  EVM_TARGET,
  POLICY,
  TSA_TARGET,
  entryReceipt,
  evmAnchor,
  registry,
  startTsa,
} from './verify-anchored-fixture.ts';

// The Verify page's data layer on real receipts: an entry receipt of a log cosigned by two
// witnesses, anchored by a federation receipt with a real openssl TSA token and by eip155 chain
// evidence. Each tampering must fail at the check that covers it, every check before it passing.

let tsa: Awaited<ReturnType<typeof startTsa>>;
let anchored: Record<string, unknown>;
before(async () => {
  tsa = await startTsa();
  anchored = { ...entryReceipt(), anchors: [await tsa.anchor(), evmAnchor()] };
});
after(() => tsa.cleanup());

/** The registry as GET /v1/federation/registry?all=1 serves it. */
const registryAll = (sets: readonly RegistrySet[] = [registry]) => JSON.stringify({ versions: sets });

function trust(over: Partial<AnchorTrustText> = {}): AnchorTrustText {
  return { registry: registryAll(), tsaCa: tsa.caPem, requiredTargets: '', ...over };
}

async function verdict(receipt: unknown, over: Partial<AnchorTrustText> = {}, policy = POLICY) {
  return verifyReceiptText(JSON.stringify(receipt), policy, trust(over));
}

/** A deep copy of the anchored receipt, changed by `mutate`. */
function tampered(mutate: (r: any) => void): unknown {
  const copy = structuredClone(anchored);
  mutate(copy);
  return copy;
}

function flipByte(b64: string, at: (length: number) => number): string {
  const bytes = base64Decode(b64);
  const i = at(bytes.length);
  bytes[i] = bytes[i]! ^ 0x01;
  return base64Encode(bytes);
}

/** The verdict failed; the receipt's checks (or anchor 0's) pass up to `name`, which fails; the rest are not run. */
function failsAt(v: ReceiptVerdict, where: 'receipt' | 0 | 1, name: string): void {
  assert.equal(v.ok, false);
  const rows = where === 'receipt' ? v.receipt.rows : v.anchors!.anchors[where]!.rows;
  const i = rows.findIndex((r) => r.name === name);
  assert.ok(i >= 0, `no check ${name} in ${JSON.stringify(rows)}`);
  assert.ok(
    rows.slice(0, i).every((r) => r.ok === true),
    JSON.stringify(rows),
  );
  assert.equal(rows[i]!.ok, false, JSON.stringify(rows[i]));
  assert.ok(
    rows.slice(i + 1).every((r) => r.ok !== true),
    JSON.stringify(rows),
  );
}

test('an anchored receipt verifies: its own checks, then every check of each anchor', async () => {
  const v = await verdict(anchored, { requiredTargets: `${TSA_TARGET}, ${EVM_TARGET}` });
  assert.equal(v.ok, true, JSON.stringify(v, null, 1));
  assert.ok(v.receipt.rows.every((r) => r.ok));
  assert.deepEqual(
    v.anchors?.trust.map((r) => [r.name, r.ok]),
    [
      ['registry', true],
      ['tsa-ca', true],
    ],
  );
  assert.equal(v.anchors?.count, 2);
  for (const a of v.anchors!.anchors) {
    assert.deepEqual(
      a.rows.map((r) => r.name),
      [...RECEIPT_ANCHOR_CHECKS],
    );
    assert.ok(
      a.rows.every((r) => r.ok === true),
      JSON.stringify(a.rows),
    );
  }
  assert.deepEqual(
    v.anchors!.anchors.map((a) => a.target),
    [TSA_TARGET, EVM_TARGET],
  );
  assert.match(v.anchors!.anchors[0]!.rows.find((r) => r.name === 'anchor')!.detail, /rfc3161 evidence .* verifies/);
  // Chain evidence is checked offline; the detail says the chain itself was not asked.
  assert.match(
    v.anchors!.anchors[1]!.rows.find((r) => r.name === 'anchor')!.detail,
    /header, tx-proof, data, target pass offline; .*needs a node of that chain, not asked/,
  );
  assert.deepEqual(
    v.anchors?.requirements.map((r) => [r.name, r.ok]),
    [['required-targets', true]],
  );
});

test('one registry version (not a list) is trusted as well', async () => {
  const v = await verdict(anchored, { registry: JSON.stringify(registry) });
  assert.equal(v.ok, true);
});

test('a changed entry fails leaf_hash; the anchors are then not run', async () => {
  const v = await verdict(tampered((r) => (r.entry.n = 99)));
  failsAt(v, 'receipt', 'leaf_hash');
  for (const a of v.anchors!.anchors) {
    assert.ok(
      a.rows.every((r) => r.ok === undefined && /not run: the entry receipt did not verify/.test(r.detail)),
      JSON.stringify(a.rows),
    );
  }
});

test('a changed checkpoint signature fails checkpoint', async () => {
  const v = await verdict(
    tampered((r) => {
      const lines = (r.checkpoint as string).split('\n');
      const i = lines.findIndex((l) => l.startsWith(`— ${r.origin} `));
      const [dash, name, sig] = lines[i]!.split(' ');
      lines[i] = `${dash} ${name} ${flipByte(sig!, (n) => n - 1)}`;
      r.checkpoint = lines.join('\n');
    }),
  );
  failsAt(v, 'receipt', 'checkpoint');
});

test('a changed anchor root fails the federation receipt at epoch-inclusion', async () => {
  const batchRoot = await verdict(
    tampered((r) => {
      const fr = r.anchors[0].federation_receipt;
      fr.anchor.batch_root = flipByte(fr.anchor.batch_root, () => 0);
    }),
  );
  failsAt(batchRoot, 0, 'epoch-inclusion');
  assert.equal(batchRoot.anchors!.anchors[1]!.ok, true, 'the other anchor still verifies');
  const statementRoot = await verdict(
    tampered((r) => {
      const s = r.anchors[1].federation_receipt.statement;
      s.root = flipByte(s.root, () => 0);
    }),
  );
  failsAt(statementRoot, 1, 'epoch-inclusion');
});

test('a changed token byte fails anchor; a CA the token does not chain to fails anchor', async () => {
  const token = await verdict(
    tampered((r) => {
      const ev = r.anchors[0].federation_receipt.evidence;
      ev.tokens[0] = flipByte(ev.tokens[0], (n) => n - 10);
    }),
  );
  failsAt(token, 0, 'anchor');
  const otherCa = await verdict(anchored, { tsaCa: tsa.otherCaPem });
  failsAt(otherCa, 0, 'anchor');
  assert.match(
    otherCa.anchors!.anchors[0]!.rows.find((r) => r.name === 'anchor')!.detail,
    /rfc3161 evidence does not verify/,
  );
});

test('removed signatures fail quorum; a changed consistency proof fails consistency', async () => {
  failsAt(
    await verdict(
      tampered((r) => {
        // Only the leader's remains: one of the three the federation's four anchor signers need.
        const fr = r.anchors[0].federation_receipt;
        fr.signatures = fr.signatures.filter((s: { role: string }) => s.role === 'leader');
      }),
    ),
    0,
    'quorum',
  );
  failsAt(
    await verdict(
      tampered((r) => (r.anchors[1].consistency.proof[0] = flipByte(r.anchors[1].consistency.proof[0], () => 3))),
    ),
    1,
    'consistency',
  );
});

test('changed chain evidence fails anchor, naming the chain check', async () => {
  const v = await verdict(
    tampered((r) => {
      const ev = r.anchors[1].federation_receipt.evidence;
      ev.tx_index = 0;
    }),
  );
  failsAt(v, 1, 'anchor');
  assert.match(v.anchors!.anchors[1]!.rows.find((r) => r.name === 'anchor')!.detail, /chain evidence fails check/);
});

test('missing or unusable trust is named, and the anchors are not run', async () => {
  const none = await verdict(anchored, { registry: '', tsaCa: '' });
  assert.equal(none.ok, false);
  assert.deepEqual(
    none.anchors?.trust.map((r) => [r.name, r.ok]),
    [
      ['registry', false],
      ['tsa-ca', false],
    ],
  );
  assert.match(none.anchors!.trust[0]!.detail, /the receipt has 2 anchor\(s\): give the federation registry/);
  assert.ok(none.anchors!.anchors.every((a) => a.rows.every((r) => r.ok === undefined)));

  const bad = await verdict(anchored, { registry: '{"versions":[{"a":1}]}', tsaCa: 'not a certificate' });
  assert.equal(bad.anchors!.trust[0]!.code, 'REGISTRY_INVALID');
  assert.match(bad.anchors!.trust[0]!.detail, /at \/versions\/0/);
  assert.match(bad.anchors!.trust[1]!.detail, /holds no PEM certificate/);

  const target = await verdict(anchored, { requiredTargets: 'nowhere' });
  assert.equal(target.ok, false);
  assert.equal(target.anchors!.trust[0]!.name, 'required-targets');
});

test('a registry of another federation fails registry', async () => {
  const other = { ...registry, federation_id: 'another-federation' };
  failsAt(await verdict(anchored, { registry: JSON.stringify(other) }), 0, 'registry');
});

test('required targets: an entry receipt without anchors fails them, and verifies without them', async () => {
  const plain = entryReceipt();
  const ok = await verdict(plain);
  assert.equal(ok.ok, true);
  assert.equal(ok.anchors?.count, 0);
  assert.deepEqual(ok.anchors?.anchors, []);
  const required = await verdict(plain, { requiredTargets: TSA_TARGET });
  assert.equal(required.ok, false);
  assert.match(required.anchors!.requirements[0]!.detail, new RegExp(`no verified anchor at ${TSA_TARGET}`));
  // A required target whose anchor fails is unmet too.
  const failing = await verdict(
    tampered((r) => (r.anchors[0].federation_receipt.signatures = [])),
    { requiredTargets: TSA_TARGET },
  );
  assert.equal(failing.anchors!.requirements[0]!.ok, false);
});

test('an anchors member that is not a list of at most 64 is refused before any trust', async () => {
  for (const anchors of [{}, Array.from({ length: 65 }, () => ({}))]) {
    const v = await verdict({ ...entryReceipt(), anchors });
    assert.equal(v.ok, false);
    assert.equal(v.anchors!.requirements[0]!.name, 'anchors');
  }
});
