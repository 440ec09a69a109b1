import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { startDevTsa, type DevTsa } from '../../packages/node/src/anchoring/index.js';
import { waitFor, type LocalFederation } from './harness/local-federation.js';
import {
  anchoredReceipt,
  appendEntries,
  startAnchoringFederation,
  listEpochs,
  targetStatus,
  verifyReceiptOffline,
  type FederationReceiptJson,
} from './harness/anchoring-client.js';

// Issue 10 item 11: "±60 s clock skew between nodes does not split epochs" (and item 4: "Epoch
// numbering and deadlines are deterministic from the target's period and the clock, tolerant of
// the registry's clock-skew window"). Three real nodes whose clocks differ pairwise by up to 60 s
// in either direction — alpha at the real clock, beta 60 s ahead, gamma 30 s ahead; the TSA at
// the real clock — with `maxClockSkewMs` 75 s. As leaders rotate over epochs the leader is
// sometimes ahead of its signers, sometimes behind. For every epoch finalized, every node holds
// the same root and federation receipt; the TSA sees one request per epoch; every entry written
// on every node is anchored; every federation receipt verifies offline; no signer refused a
// proposal for its epoch's close.
const TARGET = 'rfc3161:skew';
const EPOCH_MS = 3000;
/** Clock offsets, seconds, by node index. */
const OFFSETS_S = [0, 60, 30];

/**
 * libfaketime, the library Debian's `faketime` preloads. The tests set LD_PRELOAD and FAKETIME
 * themselves rather than run `faketime -f … node`: that wrapper forks the command and does not
 * pass SIGTERM on, so a node stopped through it would outlive the test.
 */
function libfaketime(): string | undefined {
  try {
    execFileSync('sh', ['-c', 'command -v faketime'], { stdio: 'pipe' });
  } catch {
    return undefined;
  }
  const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
  return [`/usr/lib/${arch}-linux-gnu/faketime/libfaketime.so.1`, '/usr/lib/faketime/libfaketime.so.1'].find((p) =>
    existsSync(p),
  );
}

const lib = libfaketime();
const skip = lib === undefined ? 'faketime (libfaketime) is not installed: `apt-get install faketime`' : false;
const dir = mkdtempSync(join(tmpdir(), 'remembrancer-e2e-anchoring-skew-'));
let tsa: DevTsa | undefined;
let fed: LocalFederation | undefined;
const nsOf = (i: number): string => `skew:n${i}`;
const ROUNDS = 4;
const PER_ROUND = 2;

function federation(): LocalFederation {
  assert.ok(fed);
  return fed;
}

before(async () => {
  if (skip) return;
  tsa = await startDevTsa({ dir: join(dir, 'tsa'), name: 'skew' });
  fed = await startAnchoringFederation(dir, 3, {
    target: TARGET,
    tsas: [tsa],
    require: 'any',
    epochMs: EPOCH_MS,
    maxClockSkewMs: 75_000,
    namespaceOf: nsOf,
  });
  // Founded at one clock (as operators would), then run with skewed ones from their data dirs.
  for (const [i, offset] of OFFSETS_S.entries()) {
    if (offset === 0) continue;
    await fed.nodes[i]!.proc?.stop();
    await fed.restart(i, { env: { LD_PRELOAD: lib!, FAKETIME: `+${offset}s` } });
  }
});

after(async () => {
  await fed?.stopAll();
  await tsa?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('±60 s clock skew between nodes (real processes, libfaketime)', { skip, timeout: 90_000 }, () => {
  test('the skewed clocks are real', { timeout: 10_000 }, async () => {
    const f = federation();
    for (const [i, offset] of OFFSETS_S.entries()) {
      const st = await targetStatus(f.nodes[i]!, TARGET);
      // current_epoch is computed from the node's own clock.
      const drift = (st.current_epoch * EPOCH_MS - Date.now()) / 1000;
      assert.ok(Math.abs(drift - offset) <= EPOCH_MS / 1000 + 2, `${f.nodes[i]!.name} runs ${drift} s off`);
    }
  });

  test('entries on every node are anchored, epochs are not split', { timeout: 75_000 }, async (t) => {
    const f = federation();
    // A few rounds of writes an epoch apart, so several epochs with different leaders anchor.
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, node] of f.nodes.entries()) await appendEntries(node, nsOf(i), round * PER_ROUND, PER_ROUND);
      if (round < ROUNDS - 1) await delay(EPOCH_MS);
    }
    for (const [i, node] of f.nodes.entries())
      for (let index = 0; index < ROUNDS * PER_ROUND; index++)
        await waitFor(`entry ${index} of ${nsOf(i)} anchored`, () => anchoredReceipt(node, nsOf(i), index), 45_000);

    // Whoever led an epoch, a quorum of 2 of 3 includes a signer whose clock differs from the
    // leader's by 30 or 60 s. Every node ends up holding every finalized epoch (pushes may lag), with the same root and
    // federation receipts.
    const byNode = await waitFor(
      'every node holding the same finalized epochs',
      async () => {
        const all = await Promise.all(
          f.nodes.map(async (n) => (await listEpochs(n, TARGET)).filter((e) => e.status === 'finalized')),
        );
        const keys = all.map((es) => es.map((e) => e.epoch).join(','));
        return keys.every((k) => k === keys[0]) ? all : undefined;
      },
      20_000,
    );
    const epochs = byNode[0]!;
    assert.ok(epochs.length >= 1);
    for (const [k, e] of epochs.entries()) {
      for (const other of byNode.slice(1)) {
        assert.equal(other[k]!.root, e.root, `one root for epoch ${e.epoch}`);
        assert.deepEqual(other[k]!.federation_receipts, e.federation_receipts);
      }
    }
    t.diagnostic(`finalized epochs (leader): ${epochs.map((e) => `${e.epoch} (${e.leader})`).join(', ')}`);

    // One TSA request per epoch: nothing anchored twice, no duplicate anchors.
    assert.equal(tsa!.requests(), epochs.length, `TSA requests for ${epochs.length} epochs`);
    for (const node of f.nodes) {
      const st = await targetStatus(node, TARGET);
      assert.equal(st.duplicates, 0, `${node.name}: no duplicate anchors`);
      const refusals = st.failures.recent.filter((x) => /skew window|beyond this node's clock/.test(x.reason));
      assert.deepEqual(refusals, [], `${node.name}: no signer refused an epoch for its close`);
    }

    // Every federation receipt verifies offline.
    const receipts: FederationReceiptJson[] = epochs.flatMap((e) => e.federation_receipts);
    for (const fr of receipts) await verifyReceiptOffline(fr, f.registry, [[tsa!.caCertPem]]);
  });
});
