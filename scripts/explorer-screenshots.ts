// Takes the screenshots of docs/explorer.md: a real 3-node federation (the explorer e2e tests'
// harness: anchoring at a dev TSA every second, a namespace of 45 entries, one delivered
// message), with a few entries appended every second meanwhile so the figures move, and each page
// of alpha's explorer in Debian's chromium at 1200×800, written as docs/explorer-<page>.png.
// Refresh them after a change to the pages (about a minute: the Node page's charts wait for the
// node's 10 s series to hold a few points):
//
//   npm run build && node --conditions=vaultmesh-src --import tsx scripts/explorer-screenshots.ts [OUT_DIR]
//
// EXPLORER_SHOTS=verify,node (names, comma-separated) takes only those.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { appendEntries } from '../test/e2e/harness/anchoring-client.js';
import { ensureExplorerBuilt } from '../test/e2e/harness/explorer-build.js';
import { launchChromium, openPage, screenshot, settled, waitForText } from '../test/e2e/harness/explorer-browser.js';
import {
  ANCHOR_TARGET,
  ENTRIES,
  EXPLORER_NS,
  startExplorerFederation,
} from '../test/e2e/harness/explorer-federation.js';
import { waitFor } from '../test/e2e/harness/local-federation.js';

const out = process.argv[2] ?? fileURLToPath(new URL('../docs/', import.meta.url));
/** Points of the node's series (one per 10 s) before the Node page is taken. */
const SERIES_POINTS = 5;

const nothing = async () => {};

ensureExplorerBuilt();
const root = mkdtempSync(join(tmpdir(), 'remembrancer-explorer-shots-'));
const world = await startExplorerFederation(root);
let size = ENTRIES;
let appending = true;
const appender = (async () => {
  while (appending) {
    await appendEntries(world.alpha, EXPLORER_NS, size, 3);
    size += 3;
    await new Promise((r) => setTimeout(r, 1000));
  }
})();
const browser = await launchChromium();
try {
  const { page } = await openPage(browser);
  const base = `${world.alpha.url}/explorer`;
  const shots: [string, string, (p: Page) => Promise<void>][] = [
    ['federation', '/', (p) => waitForText(p, 'main', /3 of 3/).then(nothing)],
    ['namespace', `/nodes/${world.alpha.name}/ns/${encodeURIComponent(EXPLORER_NS)}`, nothing],
    [
      'anchoring',
      '/anchoring',
      (p) => waitForText(p, `[data-target="${ANCHOR_TARGET}"]`, /Last finalized epoch\s*\d/).then(nothing),
    ],
    ['messages', '/messages', (p) => waitForText(p, 'main', /Delivered\s*1/).then(nothing)],
    ['evidence', '/evidence', nothing],
    [
      'verify',
      '/verify',
      async (p) => {
        // An anchored receipt, with the node's policy and registry and the TSA's CA certificate.
        const r = await fetch(`${world.alpha.url}/v1/ns/${encodeURIComponent(EXPLORER_NS)}/receipt/7?anchored=1`);
        await p.fill('#receipt', JSON.stringify(await r.json(), null, 1));
        await p.getByRole('button', { name: /^Use this node's policy/ }).click();
        await p.getByRole('button', { name: 'Use the registry this node serves' }).click();
        await p.fill('#tsa-ca', world.tsa.caCertPem);
        await waitFor('the policy and registry filled in', async () =>
          (await p.inputValue('#policy')) !== '' && (await p.inputValue('#registry')) !== '' ? true : undefined,
        );
        await p.getByRole('button', { name: 'Verify', exact: true }).click();
        await p.locator('[data-verdict]').waitFor();
        await p.evaluate('document.querySelector("[data-verdict]").scrollIntoView({ block: "start" })');
      },
    ],
    [
      'node',
      `/nodes/${world.alpha.name}`,
      async (p) => {
        await waitFor(
          `${SERIES_POINTS} points in the node's series`,
          async () => {
            const s = (await (await fetch(`${world.alpha.url}/v1/node/series`)).json()) as { t: number[] };
            return s.t.length >= SERIES_POINTS ? true : undefined;
          },
          90_000,
        );
        // The page reads the series every 5 s: one more read after the last point.
        await p.reload();
        await settled(p);
        await new Promise((r) => setTimeout(r, 1500));
        // The bottom of the page: the namespaces and the charts in one picture.
        await p.evaluate('window.scrollTo(0, document.documentElement.scrollHeight)');
      },
    ],
  ];
  const only = process.env['EXPLORER_SHOTS']?.split(',');
  for (const [name, path, ready] of shots.filter(([n]) => only === undefined || only.includes(n))) {
    await page.goto(`${base}${path}`);
    await settled(page);
    await ready(page);
    // The viewport, not the whole page: one 1200×800 picture per page keeps each PNG small.
    console.log(await screenshot(page, `explorer-${name}`, out, false));
  }
} finally {
  appending = false;
  await appender.catch(() => undefined);
  await browser.close();
  await world.stop();
  rmSync(root, { recursive: true, force: true });
}
