import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { runCli, startServe, type ServeProcess } from './harness/cli-process.js';
import { ensureExplorerBuilt } from './harness/explorer-build.js';
import { launchChromium, openPage, screenshot, textOf, waitForText } from './harness/explorer-browser.js';

// Issue 13: "until a feature exists, its page says so plainly". One node that joined no
// federation and anchors nowhere (`remembrancer init` + `serve`), its explorer in chromium: each
// page says what is not there in words, never as a read error or an empty table of nulls.

const root = mkdtempSync(join(tmpdir(), 'remembrancer-e2e-explorer-solo-'));
let node: ServeProcess | undefined;
let browser: Browser | undefined;
let page: Page;
let pageErrors: string[];
const NAME = 'solo.e2e.local';

before(
  async () => {
    ensureExplorerBuilt();
    const init = await runCli(['init', '--data', root, '--name', NAME]);
    assert.equal(init.code, 0, init.stderr);
    node = await startServe(root);
    browser = await launchChromium();
    ({ page, errors: pageErrors } = await openPage(browser));
  },
  { timeout: 60_000 },
);

after(async () => {
  await browser?.close();
  await node?.stop();
  rmSync(root, { recursive: true, force: true });
});

const open = (path: string) => page.goto(`${node!.url}/explorer${path}`);

test('Federation: a node without a registry says it runs alone, with a link to the node', async () => {
  const status = (await (await fetch(`${node!.url}/v1/federation/status`)).json()) as { federation_id: unknown };
  assert.equal(status.federation_id, null);
  await open('/');
  await waitForText(page, 'main', /This node has not joined a federation: it runs alone\./);
  assert.equal(await page.locator('main table').count(), 0, 'no empty table of peers');
  assert.equal(await page.locator('main [role=alert]').count(), 0, 'not a read error');
  await page.getByRole('link', { name: 'the node' }).click();
  await page.waitForURL(`${node!.url}/explorer/nodes/${NAME}`);
  const gov = (await (await fetch(`${node!.url}/v1/ns/sys:governance`)).json()) as { size: number };
  assert.equal(await textOf(page, 'main tr[data-ns="sys:governance"] td[data-field=size]'), String(gov.size));
  await screenshot(page, 'solo-node');
  assert.deepEqual(pageErrors, []);
});

test('Anchoring, Messages, Evidence: no targets, no streams, no evidence, in words', async () => {
  await open('/anchoring');
  await waitForText(page, 'main', /No anchor targets\./);
  assert.equal(await page.locator('main article[data-target]').count(), 0);
  await open('/messages');
  await waitForText(page, 'main table.streams-out', /No messages sent yet\./);
  await waitForText(page, 'main table.streams-in', /No messages received yet\./);
  await open('/evidence');
  await waitForText(page, 'main', /No equivocation has been detected or received\./);
  assert.equal(await page.locator('main [role=alert]').count(), 0, 'not a read error');
  assert.deepEqual(pageErrors, []);
});
