import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64Decode, epochStatementDigest, parseFederationReceipt, verifyTimestampToken } from '@vaultmesh/core';
import { startDevTsa, type DevTsa } from '../../packages/node/src/anchoring/index.js';
import { waitFor, type LocalFederation } from './harness/local-federation.js';
import {
  anchoredReceipt,
  appendEntries,
  startAnchoringFederation,
  listEpochs,
  targetStatus,
  verifyReceiptOffline,
} from './harness/anchoring-client.js';

// Issue 10 item 1: "`any`/`all` (one token is enough, or one from every TSA)", and item 11:
// "a TSA down → retries with backoff". With `require: all` a token from one TSA is not an anchor:
// while one of the two TSAs is down no epoch finalizes (the failures say why, the retries reach
// the down TSA), and once it is back the waiting leaves are anchored with a token from each TSA,
// each chaining to its own TSA's CA only.
const TARGET = 'rfc3161:both';
const EPOCH_MS = 2000;

const dir = mkdtempSync(join(tmpdir(), 'remembrancer-e2e-anchoring-all-'));
const tsas: DevTsa[] = [];
let fed: LocalFederation;
const nsOf = (i: number): string => `all:n${i}`;
const ENTRIES = 3;

before(async () => {
  tsas.push(await startDevTsa({ dir: join(dir, 'tsa-a'), name: 'a' }));
  tsas.push(await startDevTsa({ dir: join(dir, 'tsa-b'), name: 'b' }));
  // TSA b is down from the start: no epoch can have its token.
  tsas[1]!.setDown(true);
  fed = await startAnchoringFederation(dir, 3, {
    target: TARGET,
    tsas,
    require: 'all',
    epochMs: EPOCH_MS,
    namespaceOf: nsOf,
  });
});

after(async () => {
  await fed?.stopAll();
  for (const t of tsas) await t.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('require all, one TSA down (real processes, real TSAs)', { timeout: 80_000 }, () => {
  test('while TSA b is down nothing finalizes, and the failures say why', { timeout: 40_000 }, async (t) => {
    for (const [i, node] of fed.nodes.entries()) await appendEntries(node, nsOf(i), 0, ENTRIES);
    // Two epochs' worth of failed anchoring, each after its retries at the down TSA.
    const failedEpochs = await waitFor(
      'anchoring failures of two epochs at the down TSA',
      async () => {
        const st = await Promise.all(fed.nodes.map((n) => targetStatus(n, TARGET)));
        const failures = st.flatMap((s) =>
          s.failures.recent.filter((f) => /anchoring at rfc3161:both failed/.test(f.reason)),
        );
        const distinct = new Set(failures.map((f) => f.epoch));
        return distinct.size >= 2 && tsas[1]!.requests() >= 6 ? failures : undefined;
      },
      30_000,
    );
    t.diagnostic(`a failure: ${failedEpochs[0]!.reason.slice(0, 300)}`);
    for (const f of failedEpochs)
      assert.ok(f.reason.includes(`${tsas[1]!.url}: TSA_HTTP_ERROR`), `the reason names the down TSA: ${f.reason}`);
    // Each failed attempt asked TSA b three times (retries with backoff) and TSA a once: a's
    // valid token alone was not taken as an anchor.
    assert.ok(tsas[0]!.requests() > 0, 'TSA a was asked too');
    assert.ok(
      tsas[1]!.requests() >= 3 * new Set(failedEpochs.map((f) => f.epoch)).size,
      `TSA b saw ${tsas[1]!.requests()} requests`,
    );
    for (const [i, node] of fed.nodes.entries()) {
      const st = await targetStatus(node, TARGET);
      assert.equal(st.last_finalized, null, `${node.name} finalized nothing: ${JSON.stringify(st)}`);
      assert.deepEqual(
        (await listEpochs(node, TARGET)).filter((e) => e.status === 'finalized'),
        [],
        `${node.name} lists no finalized epoch`,
      );
      assert.equal(await anchoredReceipt(node, nsOf(i), ENTRIES - 1), undefined, `${nsOf(i)} is not anchored`);
    }
  });

  test('TSA b back: the waiting entries are anchored with a token from each TSA', { timeout: 35_000 }, async () => {
    tsas[1]!.setDown(false);
    for (const [i, node] of fed.nodes.entries()) {
      const r = await waitFor(
        `an anchored receipt of ${nsOf(i)}`,
        () => anchoredReceipt(node, nsOf(i), ENTRIES - 1),
        30_000,
      );
      const fr = r.anchors[0]!.federation_receipt;
      assert.equal(fr.evidence.policy, 'all');
      assert.equal(fr.evidence.tokens.length, 2, 'one token per TSA');
      // Token i chains to TSA i's CA, and not to the other's.
      await verifyReceiptOffline(fr, fed.registry, [[tsas[0]!.caCertPem], [tsas[1]!.caCertPem]]);
      const digest = epochStatementDigest(parseFederationReceipt(fr).statement);
      for (const [k, other] of [tsas[1]!, tsas[0]!].entries())
        await assert.rejects(
          verifyTimestampToken(base64Decode(fr.evidence.tokens[k]!), { digest, trustAnchorsPem: [other.caCertPem] }),
          `token ${k} does not chain to the other TSA's CA`,
        );
    }
    // Every epoch any node finalized carries two tokens.
    for (const node of fed.nodes)
      for (const e of (await listEpochs(node, TARGET)).filter((x) => x.status === 'finalized'))
        for (const fr of e.federation_receipts) assert.equal(fr.evidence.tokens.length, 2);
  });
});
