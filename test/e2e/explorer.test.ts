import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { fetchJson, targetStatus } from './harness/anchoring-client.js';
import { ensureExplorerBuilt } from './harness/explorer-build.js';
import {
  keyValue,
  launchChromium,
  openPage,
  screenshot,
  settled,
  textOf,
  waitForAttribute,
  waitForText,
} from './harness/explorer-browser.js';
import {
  ANCHOR_TARGET,
  ENTRIES,
  EXPLORER_NS,
  SOURCE_NS,
  TARGET_NS,
  startExplorerFederation,
  type ExplorerFederation,
} from './harness/explorer-federation.js';
import { waitFor } from './harness/local-federation.js';

// Issue 13 item 5: the explorer in a real browser (Debian's chromium through playwright-core)
// against a real 3-node federation that anchors at an openssl TSA and delivers a message. Every
// page is checked against what the public API answers at the same moment, and photographed into
// test-artifacts/explorer/. Liveness (a node killed and back) is explorer-liveness.test.ts, on a
// federation of its own, so the two files run side by side.

const root = mkdtempSync(join(tmpdir(), 'remembrancer-e2e-explorer-'));
let world: ExplorerFederation | undefined;
let browser: Browser | undefined;
let page: Page;
let pageErrors: string[];

before(
  async () => {
    ensureExplorerBuilt();
    world = await startExplorerFederation(root);
    browser = await launchChromium();
    ({ page, errors: pageErrors } = await openPage(browser));
  },
  { timeout: 180_000 },
);

after(async () => {
  await browser?.close();
  await world?.stop();
  rmSync(root, { recursive: true, force: true });
});

const w = () => world!;
const explorer = (path = '/') => `${w().alpha.url}/explorer${path}`;
const nsPage = () => `/nodes/${w().alpha.name}/ns/${encodeURIComponent(EXPLORER_NS)}`;

async function api<T>(path: string): Promise<T> {
  const r = await fetchJson<T>(`${w().alpha.url}${path}`);
  assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
  return r.body;
}

/** The indices of the rows of the page's entry listing (not the search form's table). */
async function listedIndices(): Promise<number[]> {
  const rows = await page.locator('main > section > .table-wrap table.entries tbody tr').all();
  return Promise.all(rows.map(async (r) => Number(await r.getAttribute('data-index'))));
}

/** The Verify page's check rows as [name, data-ok]. */
async function checkRows(): Promise<[string, string][]> {
  const rows = await page.locator('main [data-check]').all();
  return Promise.all(
    rows.map(
      async (r) =>
        [(await r.getAttribute('data-check')) ?? '', (await r.getAttribute('data-ok')) ?? ''] as [string, string],
    ),
  );
}

test('Federation page: the three nodes reachable, with the registry version the API reports', async () => {
  const status = await api<{ registry_version: number; federation_id: string; peers: { id: string }[] }>(
    '/v1/federation/status',
  );
  assert.equal(status.peers.length, 3);
  await page.goto(explorer('/'));
  for (const n of w().fed.nodes) {
    const row = `main tr[data-node="${n.name}"]`;
    await waitForAttribute(page, `${row} td[data-field=reachable] [data-health]`, 'data-health', 'ok');
    assert.equal(await textOf(page, `${row} td[data-field=reachable]`), '✔ Reachable');
    assert.equal(await textOf(page, `${row} td[data-field=registry]`), String(status.registry_version));
    // The endpoint under the name is the registry's, which the browser read the node at.
    assert.equal(await textOf(page, `${row} th .sub`), n.url);
  }
  assert.equal(await keyValue(page, 'Registry version'), String(status.registry_version));
  assert.equal(await keyValue(page, 'Federation'), status.federation_id);
  assert.equal(
    await waitForText(page, 'main dl.kv > div:has(> dt:text-is("Nodes reachable")) > dd', /3 of 3/),
    '3 of 3',
  );
  // Witness lag and cosigning latency of the peers are the node's figures, never blank for a peer
  // that cosigned (alpha's checkpoints were cosigned before the page opened).
  const beta = `main tr[data-node="${w().beta.name}"]`;
  assert.match(await textOf(page, `${beta} td[data-field=witness-lag]`), /^\d+ entries$/);
  assert.match(await textOf(page, `${beta} td[data-field=cosign-latency]`), /^\d+(\.\d+)? (ms|s)$/);
  await screenshot(page, 'federation');
  assert.deepEqual(pageErrors, []);
});

test('Node page: reached by its link, lists the namespaces with their real sizes', async () => {
  const listed = await api<{ namespaces: { id: string; size: number }[] }>('/v1/ns');
  await page.goto(explorer('/'));
  await page.locator(`main tr[data-node="${w().alpha.name}"] th a`).click();
  await page.waitForURL(explorer(`/nodes/${w().alpha.name}`));
  assert.equal(await textOf(page, 'main h1'), `Node ${w().alpha.name}`);
  for (const ns of listed.namespaces) {
    assert.equal(await textOf(page, `main tr[data-ns="${ns.id}"] td[data-field=size]`), String(ns.size), ns.id);
  }
  assert.equal(await textOf(page, `main tr[data-ns="${EXPLORER_NS}"] td[data-field=size]`), String(ENTRIES));
  assert.match(await textOf(page, `main tr[data-ns="${EXPLORER_NS}"]`), /Sealed/);
  await settled(page);
  await screenshot(page, 'node');
  assert.deepEqual(pageErrors, []);
});

test('Namespace page: the newest 20 entries, older pages, and search by index and by leaf hash', async () => {
  await page.goto(explorer(nsPage()));
  assert.equal(await textOf(page, 'main h1'), `Namespace ${EXPLORER_NS}`);
  assert.equal(await keyValue(page, 'Size'), `${ENTRIES} entries`);
  await page.locator('main table.entries tbody tr').first().waitFor();
  const newest = Array.from({ length: 20 }, (_, k) => ENTRIES - 1 - k);
  assert.deepEqual(await listedIndices(), newest);
  const e44 = await api<{ entry: unknown; leaf_hash: string }>(`/v1/ns/${EXPLORER_NS}/entries/44`);
  assert.equal(await textOf(page, 'main table.entries tr[data-index="44"] td code.hash'), e44.leaf_hash);
  assert.deepEqual(
    JSON.parse(await page.locator('main table.entries tr[data-index="44"] pre.entry').innerText()),
    e44.entry,
  );
  await screenshot(page, 'namespace');

  // Older pages, by the pager's link (the URL carries the page: it can be shared).
  await page.getByRole('link', { name: 'Older entries' }).click();
  await page.waitForURL(explorer(`${nsPage()}?before=${ENTRIES - 20}`));
  await waitFor('the second page', async () => ((await listedIndices())[0] === ENTRIES - 21 ? true : undefined));
  assert.deepEqual(
    await listedIndices(),
    newest.map((i) => i - 20),
  );
  await page.getByRole('link', { name: 'Older entries' }).click();
  await waitFor('the last page', async () => ((await listedIndices())[0] === ENTRIES - 41 ? true : undefined));
  assert.deepEqual(await listedIndices(), [4, 3, 2, 1, 0]);
  assert.equal(await page.getByRole('link', { name: 'Older entries' }).count(), 0, 'no page after the first entry');
  await page.getByRole('link', { name: 'Newest' }).click();
  await waitFor('the newest page again', async () => ((await listedIndices())[0] === ENTRIES - 1 ? true : undefined));

  // Search by index, then by the leaf hash of another entry (base64 as the API gives it, then hex).
  const search = page.locator('main form.search');
  await page.fill('#entry-search', '7');
  await page.press('#entry-search', 'Enter');
  await search.locator('tr[data-index="7"]').waitFor();
  const e7 = await api<{ entry: unknown; leaf_hash: string }>(`/v1/ns/${EXPLORER_NS}/entries/7`);
  assert.equal(await textOf(page, 'main form.search tr[data-index="7"] code.hash'), e7.leaf_hash);
  const e30 = await api<{ leaf_hash: string }>(`/v1/ns/${EXPLORER_NS}/entries/30`);
  await page.fill('#entry-search', e30.leaf_hash);
  await page.getByRole('button', { name: 'Find' }).click();
  await search.locator('tr[data-index="30"]').waitFor();
  assert.equal(await search.locator('tbody tr').count(), 1);
  const e12 = await api<{ leaf_hash: string }>(`/v1/ns/${EXPLORER_NS}/entries/12`);
  await page.fill('#entry-search', Buffer.from(e12.leaf_hash, 'base64').toString('hex'));
  await page.press('#entry-search', 'Enter');
  await search.locator('tr[data-index="12"]').waitFor();
  await screenshot(page, 'namespace-search');
  // A hash no entry has: said so, with the API's code, and no row.
  await page.fill('#entry-search', 'f'.repeat(64));
  await page.press('#entry-search', 'Enter');
  assert.match(await waitForText(page, 'main form.search [role=alert]', /NOT_FOUND/), /Not found/);
  assert.equal(await search.locator('tbody tr').count(), 0);
  assert.deepEqual(pageErrors, []);
});

test('Anchoring page: the configured target with its last finalized epoch, leader and signatures', async () => {
  const status = await targetStatus(w().alpha, ANCHOR_TARGET);
  assert.ok(status.last_finalized, 'the harness waited for an anchored receipt');
  await page.goto(explorer('/anchoring'));
  const card = `main article[data-target="${ANCHOR_TARGET}"]`;
  const epochText = await waitForText(
    page,
    `${card} dl.kv > div:has(> dt:text-is("Last finalized epoch")) > dd`,
    /^\d+/,
  );
  // The page reads live: its epoch is the one the API answered or a later one.
  assert.ok(Number(/^\d+/.exec(epochText)![0]) >= status.last_finalized.epoch, epochText);
  const leader = await keyValue(page, 'Leader', card);
  assert.ok(
    w().fed.nodes.some((n) => leader.startsWith(n.name)),
    `leader ${leader}`,
  );
  assert.ok(Number(await keyValue(page, 'Signatures', card)) >= 1);
  assert.match(await keyValue(page, 'TSAs', card), new RegExp(`^${w().tsa.url.replace(/[.]/g, '\\.')}`));
  assert.match(await textOf(page, `${card} h2`), new RegExp(`^${ANCHOR_TARGET} \\(rfc3161\\)$`));
  await screenshot(page, 'anchoring');
  assert.deepEqual(pageErrors, []);
});

test('Messages page: the stream alpha/app:a → beta/app:b with its delivered count, at both ends', async () => {
  const stream = `${w().alpha.name}/${SOURCE_NS}>${w().beta.name}/${TARGET_NS}`;
  await page.goto(explorer('/messages'));
  assert.equal(
    await waitForText(page, `main table.streams-out tr[data-stream="${stream}"] td[data-field=delivered]`, /^1$/),
    '1',
  );
  assert.equal(await textOf(page, `main table.streams-in tr[data-stream="${stream}"] td[data-field=accepted]`), '1');
  assert.equal(await keyValue(page, 'Delivered'), '1');
  assert.equal(await keyValue(page, 'Refused'), '0');
  assert.equal(w().message.state, 'delivered');
  await screenshot(page, 'messages');
  assert.deepEqual(pageErrors, []);
});

test('Evidence page: none, as the node says', async () => {
  const evidence = await api<{ evidence: unknown[] }>('/v1/federation/evidence');
  assert.deepEqual(evidence.evidence, []);
  await page.goto(explorer('/evidence'));
  assert.match(await waitForText(page, 'main', /No equivocation has been detected or received\./), /None/);
  assert.equal(await page.locator('main ol.evidence').count(), 0);
  await screenshot(page, 'evidence');
  assert.deepEqual(pageErrors, []);
});

test('Verify page: a receipt from the node verifies with its policy; a tampered entry fails at leaf_hash', async () => {
  const receipt = await api<Record<string, unknown> & { entry: Record<string, unknown> }>(
    `/v1/ns/${EXPLORER_NS}/receipt/7`,
  );
  const policy = await fetch(`${w().alpha.url}/v1/ns/${encodeURIComponent(EXPLORER_NS)}/policy`).then((r) => r.text());
  await page.goto(explorer('/verify'));
  await page.fill('#receipt', JSON.stringify(receipt, null, 2));
  await page.getByRole('button', { name: /^Use this node's policy/ }).click();
  await waitFor('the policy filled in', async () => ((await page.inputValue('#policy')) !== '' ? true : undefined));
  assert.equal(await page.inputValue('#policy'), policy);
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  await waitForAttribute(page, 'main [data-verdict]', 'data-verdict', 'verified');
  const rows = await checkRows();
  assert.ok(rows.length >= 5, JSON.stringify(rows));
  for (const name of ['json', 'trust', 'leaf_hash', 'inclusion', 'policy'])
    assert.ok(
      rows.some(([n]) => n === name),
      `check ${name} listed: ${JSON.stringify(rows)}`,
    );
  assert.deepEqual(
    rows.filter(([, ok]) => ok !== 'true'),
    [],
    'every check passed',
  );
  await page.locator('main [data-verdict]').scrollIntoViewIfNeeded();
  await screenshot(page, 'verify');

  // The same receipt with another entry: its leaf hash no longer matches; the checks before pass.
  const tampered = { ...receipt, entry: { ...receipt.entry, n: 700 } };
  await page.fill('#receipt', JSON.stringify(tampered, null, 2));
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  await waitForAttribute(page, 'main [data-verdict]', 'data-verdict', 'failed');
  const after = await checkRows();
  const failed = after.filter(([, ok]) => ok === 'false');
  assert.deepEqual(
    failed.map(([n]) => n),
    ['leaf_hash'],
    JSON.stringify(after),
  );
  const before = after.slice(
    0,
    after.findIndex(([n]) => n === 'leaf_hash'),
  );
  assert.ok(before.length >= 2 && before.every(([, ok]) => ok === 'true'), JSON.stringify(after));
  assert.match(await textOf(page, 'main [data-check="leaf_hash"]'), /Fail/);
  await page.locator('main [data-verdict]').scrollIntoViewIfNeeded();
  await screenshot(page, 'verify-tampered');
  assert.deepEqual(pageErrors, []);
});

test("Verify page: an anchored receipt verifies with the node's registry and the TSA's CA, anchor by anchor", async () => {
  const anchored = await api<{ anchors: unknown[] }>(`/v1/ns/${EXPLORER_NS}/receipt/7?anchored=1`);
  assert.ok(anchored.anchors.length >= 1, 'the harness waited for the anchor');
  await page.goto(explorer('/verify'));
  await page.fill('#receipt', JSON.stringify(anchored, null, 2));
  await page.getByRole('button', { name: /^Use this node's policy/ }).click();
  await page.getByRole('button', { name: 'Use the registry this node serves' }).click();
  await page.fill('#tsa-ca', w().tsa.caCertPem);
  await waitFor('the policy and the registry filled in', async () =>
    (await page.inputValue('#policy')) !== '' && (await page.inputValue('#registry')) !== '' ? true : undefined,
  );
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  await waitForAttribute(page, 'main [data-verdict]', 'data-verdict', 'verified');
  const sections = await page.locator('main [data-anchor]').all();
  assert.equal(sections.length, anchored.anchors.length);
  for (const section of sections) assert.equal(await section.getAttribute('data-ok'), 'true');
  const rows = await checkRows();
  assert.deepEqual(
    rows.filter(([, ok]) => ok !== 'true'),
    [],
    'every check passed',
  );
  for (const name of ['registry', 'tsa-ca', 'epoch-inclusion', 'quorum', 'anchor'])
    assert.ok(
      rows.some(([n]) => n === name),
      `check ${name} listed: ${JSON.stringify(rows)}`,
    );
  assert.match(await textOf(page, 'main [data-anchor] h4'), new RegExp(ANCHOR_TARGET));
  await page.locator('main [data-verdict]').scrollIntoViewIfNeeded();
  await screenshot(page, 'verify-anchored');
  assert.deepEqual(pageErrors, []);
});

test('360 px wide: no page scrolls the body sideways; wide tables scroll inside their wrapper', async () => {
  const narrow = await openPage(browser!, { width: 360, height: 740 });
  try {
    const pages = ['/', `/nodes/${w().alpha.name}`, nsPage(), '/anchoring', '/messages', '/evidence', '/verify'];
    for (const path of pages) {
      await narrow.page.goto(explorer(path));
      await narrow.page.locator('main h1').waitFor();
      await settled(narrow.page);
      const width = (await narrow.page.evaluate('document.documentElement.scrollWidth')) as number;
      assert.ok(width <= 360, `${path}: the page is ${width} px wide at a 360 px viewport`);
    }
    // The Federation table is wider than the screen: it scrolls in its wrapper, not the page.
    await narrow.page.goto(explorer('/'));
    await narrow.page.locator('main table.peers tbody tr').first().waitFor();
    const [scroll, client] = (await narrow.page.evaluate(
      '(w => [w.scrollWidth, w.clientWidth])(document.querySelector("main table.peers").closest(".table-wrap"))',
    )) as [number, number];
    assert.ok(scroll > client, `the peers table (${scroll} px) scrolls inside its ${client} px wrapper`);
    assert.ok(((await narrow.page.evaluate('document.documentElement.scrollWidth')) as number) <= 360);
    await screenshot(narrow.page, 'federation-360');
    assert.deepEqual(narrow.errors, []);
  } finally {
    await narrow.context.close();
  }
});

test('keyboard: Tab reaches the nav links, Enter follows one', async () => {
  await page.goto(explorer('/'));
  await page.locator('main h1').waitFor();
  // The first stop is the skip link, then the brand's node link, then the nav in order.
  const focused = () => page.evaluate('document.activeElement && document.activeElement.textContent.trim()');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'Skip to the content');
  const seen: unknown[] = [];
  for (let i = 0; i < 10 && seen[seen.length - 1] !== 'Messages'; i++) {
    await page.keyboard.press('Tab');
    seen.push(await focused());
  }
  assert.equal(seen[seen.length - 1], 'Messages', `focus went through ${JSON.stringify(seen)}`);
  assert.ok(seen.includes('Federation') && seen.includes('Anchoring'), JSON.stringify(seen));
  await page.keyboard.press('Enter');
  await page.waitForURL(explorer('/messages'));
  assert.equal(await textOf(page, 'main h1'), 'Messages');
  assert.equal(await page.getByRole('link', { name: 'Messages' }).getAttribute('aria-current'), 'page');
  assert.deepEqual(pageErrors, []);
});
