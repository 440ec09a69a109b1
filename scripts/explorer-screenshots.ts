// Takes the screenshots of docs/explorer.md: a real 3-node federation (the explorer e2e tests'
// harness: anchoring at a dev TSA, a namespace of 45 entries, one delivered message), each page
// of alpha's explorer in Debian's chromium at 1200×800, written as docs/explorer-<page>.png.
// Refresh them after a change to the pages:
//
//   npm run build && node --conditions=vaultmesh-src --import tsx scripts/explorer-screenshots.ts [OUT_DIR]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { ensureExplorerBuilt } from '../test/e2e/harness/explorer-build.js';
import { launchChromium, openPage, screenshot, settled, waitForText } from '../test/e2e/harness/explorer-browser.js';
import { waitFor } from '../test/e2e/harness/local-federation.js';
import { ANCHOR_TARGET, EXPLORER_NS, startExplorerFederation } from '../test/e2e/harness/explorer-federation.js';

const out = process.argv[2] ?? fileURLToPath(new URL('../docs/', import.meta.url));

ensureExplorerBuilt();
const root = mkdtempSync(join(tmpdir(), 'remembrancer-explorer-shots-'));
const world = await startExplorerFederation(root);
const browser = await launchChromium();
try {
  const { page } = await openPage(browser);
  const base = `${world.alpha.url}/explorer`;
  const shots: [string, string, (p: Page) => Promise<void>][] = [
    ['federation', '/', (p) => waitForText(p, 'main', /3 of 3/).then(() => undefined)],
    // The node's series fill as it runs: a few seconds of points make the charts readable.
    ['node', `/nodes/${world.alpha.name}`, () => new Promise((r) => setTimeout(r, 4000))],
    ['namespace', `/nodes/${world.alpha.name}/ns/${encodeURIComponent(EXPLORER_NS)}`, async () => {}],
    [
      'anchoring',
      '/anchoring',
      (p) => waitForText(p, `[data-target="${ANCHOR_TARGET}"]`, /Last finalized epoch\s*\d/).then(() => undefined),
    ],
    ['messages', '/messages', (p) => waitForText(p, 'main', /Delivered\s*1/).then(() => undefined)],
    ['evidence', '/evidence', async () => {}],
    [
      'verify',
      '/verify',
      async (p) => {
        const r = await fetch(`${world.alpha.url}/v1/ns/${encodeURIComponent(EXPLORER_NS)}/receipt/7`);
        await p.fill('#receipt', JSON.stringify(await r.json(), null, 1));
        await p.getByRole('button', { name: /policy/ }).click();
        await waitFor('the policy filled in', async () => ((await p.inputValue('#policy')) !== '' ? true : undefined));
        await p.getByRole('button', { name: 'Verify', exact: true }).click();
        await p.locator('[data-verdict]').waitFor();
      },
    ],
  ];
  for (const [name, path, ready] of shots) {
    await page.goto(`${base}${path}`);
    await settled(page);
    await ready(page);
    // The viewport, not the whole page: one 1200×800 picture per page keeps each PNG small.
    console.log(await screenshot(page, `explorer-${name}`, out, false));
  }
} finally {
  await browser.close();
  await world.stop();
  rmSync(root, { recursive: true, force: true });
}
