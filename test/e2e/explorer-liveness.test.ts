import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ensureExplorerBuilt } from './harness/explorer-build.js';
import {
  launchChromium,
  openPage,
  screenshot,
  textOf,
  waitForAttribute,
  waitForText,
} from './harness/explorer-browser.js';
import { startLocalFederation, type LocalFederation } from './harness/local-federation.js';

// Issue 13 item 5: "a killed node turns unreachable on the page within 5 s and back when it
// returns". A real 3-node federation, alpha's
// Federation page open in chromium; gamma is killed with SIGKILL and started again from its data
// directory, beta is frozen with SIGSTOP (it holds its port, so the browser's reads time out
// rather than being refused) and continued.

/** The bound, from the moment the node is gone to the page saying so. */
const UNREACHABLE_WITHIN_MS = 5000;
/** A restarted node opens its database and port first: it may take longer than 5 s to answer. */
const BACK_WITHIN_MS = 20_000;

const root = mkdtempSync(join(tmpdir(), 'remembrancer-e2e-explorer-live-'));
let fed: LocalFederation | undefined;
let browser: Browser | undefined;
let page: Page;
let pageErrors: string[];

before(
  async () => {
    ensureExplorerBuilt();
    fed = await startLocalFederation(root, 3, { checkpointIntervalMs: 250 });
    browser = await launchChromium();
    ({ page, errors: pageErrors } = await openPage(browser));
    await page.goto(`${fed.nodes[0]!.url}/explorer/`);
    for (const n of fed.nodes) await waitForAttribute(page, reachability(n.name), 'data-health', 'ok', 20_000);
  },
  { timeout: 120_000 },
);

after(async () => {
  await browser?.close();
  await fed?.stopAll();
  rmSync(root, { recursive: true, force: true });
});

/** The badge of a node's Reachable cell on the Federation page. */
const reachability = (node: string) => `main tr[data-node="${node}"] td[data-field=reachable] [data-health]`;

async function reachableText(node: string): Promise<string> {
  return textOf(page, `main tr[data-node="${node}"] td[data-field=reachable]`);
}

test('kill -9 gamma: its row turns Unreachable within 5 s, and Reachable again once it is restarted', async (t) => {
  const gamma = fed!.nodes[2]!;
  await fed!.kill(2);
  const took = await waitForAttribute(page, reachability(gamma.name), 'data-health', 'bad', UNREACHABLE_WITHIN_MS);
  t.diagnostic(`gamma shown unreachable ${took} ms after it was killed`);
  assert.equal(await reachableText(gamma.name), '✖ Unreachable');
  // Why, in words: the browser's own read failed.
  assert.match(
    await textOf(page, `main tr[data-node="${gamma.name}"] ul.reasons`),
    /unreachable from this browser: .*no answer/,
  );
  assert.match(await textOf(page, 'main dl.kv > div:has(> dt:text-is("Nodes reachable")) > dd'), /^2 of 3$/);
  // The others stay reachable.
  for (const n of fed!.nodes.slice(0, 2)) assert.equal(await reachableText(n.name), '✔ Reachable');
  await screenshot(page, 'federation-node-killed');

  await fed!.restart(2);
  await waitForAttribute(page, reachability(gamma.name), 'data-health', 'ok', BACK_WITHIN_MS);
  assert.equal(await reachableText(gamma.name), '✔ Reachable');
  await waitForText(page, 'main dl.kv > div:has(> dt:text-is("Nodes reachable")) > dd', /^3 of 3$/);
  assert.deepEqual(pageErrors, []);
});

test('SIGSTOP beta: its row turns Unreachable within 5 s (reads time out), and Reachable again on SIGCONT', async (t) => {
  const beta = fed!.nodes[1]!;
  fed!.pause(1);
  try {
    const took = await waitForAttribute(page, reachability(beta.name), 'data-health', 'bad', UNREACHABLE_WITHIN_MS);
    t.diagnostic(`beta shown unreachable ${took} ms after it was stopped`);
    assert.match(
      await textOf(page, `main tr[data-node="${beta.name}"] ul.reasons`),
      /unreachable from this browser: .*no answer within 1500 ms/,
    );
  } finally {
    fed!.resume(1);
  }
  await waitForAttribute(page, reachability(beta.name), 'data-health', 'ok', BACK_WITHIN_MS);
  assert.equal(await reachableText(beta.name), '✔ Reachable');
  assert.deepEqual(pageErrors, []);
});
