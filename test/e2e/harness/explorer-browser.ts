import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

// The explorer's browser tests drive Debian's chromium (apt; .ci/run installs it), never a
// browser downloaded by Playwright. Functions handed to page.evaluate would be rewritten by the
// TypeScript loader (esbuild's keepNames adds a `__name` helper the page does not have), so what
// runs in the page is passed as expression text.

/** Debian's chromium; CHROMIUM_PATH names another binary of the same kind. */
export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Where tests write screenshots (git-ignored); EXPLORER_ARTIFACTS names another directory. */
export const ARTIFACTS_DIR = process.env['EXPLORER_ARTIFACTS'] ?? join(REPO_ROOT, 'test-artifacts/explorer');

/** Each action and wait of a page fails after this long unless given its own bound. */
export const PAGE_TIMEOUT_MS = 10_000;

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // --no-sandbox: CI runs as root, where chromium's sandbox refuses to start. The page is ours
    // and reads only loopback nodes.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
    timeout: 30_000,
  });
}

/** A fresh context (no shared cache or history) and page of `width`×`height`, with bounded waits. */
export async function openPage(
  browser: Browser,
  viewport: { width: number; height: number } = { width: 1200, height: 800 },
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport, reducedMotion: 'reduce' });
  const page = await context.newPage();
  page.setDefaultTimeout(PAGE_TIMEOUT_MS);
  page.setDefaultNavigationTimeout(PAGE_TIMEOUT_MS);
  // Uncaught exceptions of the page: a test asserts there were none.
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { context, page, errors };
}

/** Writes a full-page PNG of `page` as `<dir>/<name>.png` and answers its path. */
export async function screenshot(page: Page, name: string, dir = ARTIFACTS_DIR, fullPage = true): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage, animations: 'disabled' });
  return path;
}

/** The trimmed text of the first element matching `selector`, waiting for it (bounded). */
export async function textOf(page: Page, selector: string, timeoutMs = PAGE_TIMEOUT_MS): Promise<string> {
  const el = page.locator(selector).first();
  await el.waitFor({ state: 'attached', timeout: timeoutMs });
  return ((await el.textContent({ timeout: timeoutMs })) ?? '').replace(/\s+/g, ' ').trim();
}

/** Polls the text of `selector` until `pattern` matches it (bounded); answers the text. */
export async function waitForText(
  page: Page,
  selector: string,
  pattern: RegExp,
  timeoutMs = PAGE_TIMEOUT_MS,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '(no such element)';
  for (;;) {
    const el = page.locator(selector).first();
    if ((await el.count()) > 0) {
      last = ((await el.textContent({ timeout: 1000 }).catch(() => null)) ?? '').replace(/\s+/g, ' ').trim();
      if (pattern.test(last)) return last;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${selector} to match ${pattern}; it reads: ${last}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The definition (dd) of a KeyValues item by its term (dt), as the page shows it. */
export function keyValue(page: Page, term: string, within = 'main'): Promise<string> {
  return textOf(page, `${within} dl.kv > div:has(> dt:text-is("${term}")) > dd`);
}

/** Polls attribute `name` of `selector` until it equals `value` (bounded); answers how long it took (ms). */
export async function waitForAttribute(
  page: Page,
  selector: string,
  name: string,
  value: string,
  timeoutMs = PAGE_TIMEOUT_MS,
): Promise<number> {
  const start = Date.now();
  let last: string | null = '(no such element)';
  for (;;) {
    const el = page.locator(selector).first();
    if ((await el.count()) > 0) {
      last = await el.getAttribute(name, { timeout: 1000 }).catch(() => null);
      if (last === value) return Date.now() - start;
    }
    if (Date.now() - start > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${selector} [${name}=${value}]; it is ${last}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until no part of the page is still reading (the pages mark a pending read aria-busy). */
export async function settled(page: Page, timeoutMs = PAGE_TIMEOUT_MS): Promise<void> {
  await page.waitForSelector('[aria-busy=true]', { state: 'detached', timeout: timeoutMs });
}
