import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { h } from 'preact';
import { renderToString } from 'preact-render-to-string';
import { Verdict } from '../src/pages/verify-page.tsx';
import { verifyReceiptText } from '../src/verify/receipt-verdict.ts';
import { POLICY, TSA_TARGET, entryReceipt, evmAnchor, registry, startTsa } from './verify-anchored-fixture.ts';

// The Verify page's verdict as HTML: the receipt's checks, the trust rows, a section per anchor
// with every check, each by icon and word as well as colour, and checks after a failure "Not run".

let tsa: Awaited<ReturnType<typeof startTsa>>;
let anchored: Record<string, unknown>;
before(async () => {
  tsa = await startTsa();
  anchored = { ...entryReceipt(), anchors: [await tsa.anchor(), evmAnchor()] };
});
after(() => tsa.cleanup());

const trust = (tsaCa: string) => ({ registry: JSON.stringify(registry), tsaCa, requiredTargets: TSA_TARGET });

test('a verified anchored receipt: every check listed as passed, one section per anchor', async () => {
  const v = await verifyReceiptText(JSON.stringify(anchored), POLICY, trust(tsa.caPem));
  const html = renderToString(h(Verdict, { result: v }));
  assert.match(html, /data-verdict="verified"/);
  assert.match(html, /Receipt verified/);
  const checks = [...html.matchAll(/data-check="([^"]+)" data-ok="([^"]+)"/g)].map((m) => [m[1], m[2]]);
  // 8 receipt rows (json, trust and verifyReceipt's 6), 2 trust rows, 7 per anchor, the required target.
  assert.equal(checks.length, 8 + 2 + 2 * 7 + 1, JSON.stringify(checks));
  assert.ok(checks.every(([, ok]) => ok === 'true'));
  assert.match(html, /data-anchor="0" data-ok="true"/);
  assert.match(html, /Anchor 1: eip155:31337, epoch 480000/);
  assert.match(html, /whether it is on the chain needs a node of that chain, not asked/);
});

test('a failed anchor: its failed check says why, the ones after it are not run', async () => {
  const v = await verifyReceiptText(JSON.stringify(anchored), POLICY, trust(tsa.otherCaPem));
  const html = renderToString(h(Verdict, { result: v }));
  assert.match(html, /data-verdict="failed"/);
  assert.match(html, /Receipt NOT verified/);
  assert.match(html, /data-anchor="0" data-ok="false"/);
  assert.match(html, /data-check="anchor" data-ok="false">.*Fail.*does not chain to a trust anchor/);
  assert.match(html, /data-check="consistency" data-ok="undefined">.*Not run/);
  assert.match(html, /data-check="required-targets" data-ok="false">.*no verified anchor at rfc3161:local-tsa/);
});
