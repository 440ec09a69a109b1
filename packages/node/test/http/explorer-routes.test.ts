import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXPLORER_CSP, defaultExplorerDir } from '../../src/http/routes/explorer-routes.js';
import { startTestServer, type TestServer } from './test-server.js';

// The explorer served at /explorer/ from a built tree (real files in a temp dir): cache headers,
// the single-page fallback, the page's security headers, and nothing outside the tree.

const root = mkdtempSync(join(tmpdir(), 'remembrancer-explorer-'));
const dist = join(root, 'dist');
const unbuilt = join(root, 'unbuilt');
const INDEX =
  '<!doctype html><title>explorer</title><script type="module" src="/explorer/assets/index-abc123.js"></script>';
const SCRIPT = 'console.log("explorer");';
const SECRET = 'outside the explorer: never served';

let s: TestServer;
let bare: TestServer;

before(async () => {
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), INDEX);
  writeFileSync(join(dist, 'assets', 'index-abc123.js'), SCRIPT);
  writeFileSync(join(dist, 'assets', 'index-abc123.css'), 'body{margin:0}');
  writeFileSync(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(dist, '.env'), SECRET);
  writeFileSync(join(root, 'secret.txt'), SECRET);
  symlinkSync(join(root, 'secret.txt'), join(dist, 'assets', 'leak.js'));
  mkdirSync(unbuilt);
  s = await startTestServer({ explorerDir: dist });
  bare = await startTestServer({ explorerDir: unbuilt });
});
after(async () => {
  await s.close();
  await bare.close();
  rmSync(root, { recursive: true, force: true });
});

describe('GET /explorer/', () => {
  test('/explorer redirects to /explorer/, which is index.html, revalidated, under a strict CSP', async () => {
    const r = await s.app.inject({ method: 'GET', url: '/explorer' });
    assert.equal(r.statusCode, 301);
    assert.equal(r.headers.location, '/explorer/');
    const q = await s.app.inject({ method: 'GET', url: '/explorer?x=1' });
    assert.equal(q.headers.location, '/explorer/?x=1');

    const page = await s.app.inject({ method: 'GET', url: '/explorer/' });
    assert.equal(page.statusCode, 200);
    assert.equal(page.body, INDEX);
    assert.match(page.headers['content-type'] as string, /^text\/html/);
    assert.equal(page.headers['cache-control'], 'no-cache');
    assert.equal(page.headers['content-security-policy'], EXPLORER_CSP);
    assert.match(EXPLORER_CSP, /script-src 'self'(;|$)/);
    assert.match(EXPLORER_CSP, /connect-src \*/);
    assert.match(EXPLORER_CSP, /img-src 'self' data:/);
    assert.doesNotMatch(EXPLORER_CSP, /unsafe-eval|script-src[^;]*unsafe-inline/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    // index.html by its name is the page too, with the same headers.
    const named = await s.app.inject({ method: 'GET', url: '/explorer/index.html' });
    assert.equal(named.body, INDEX);
    assert.equal(named.headers['cache-control'], 'no-cache');
    assert.equal(named.headers['content-security-policy'], EXPLORER_CSP);
  });

  test('hashed assets are cached for a year and immutable; other files are revalidated', async () => {
    const js = await s.app.inject({ method: 'GET', url: '/explorer/assets/index-abc123.js' });
    assert.equal(js.statusCode, 200);
    assert.equal(js.body, SCRIPT);
    assert.match(js.headers['content-type'] as string, /javascript/);
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(js.headers['x-content-type-options'], 'nosniff');
    const css = await s.app.inject({ method: 'GET', url: '/explorer/assets/index-abc123.css' });
    assert.match(css.headers['content-type'] as string, /^text\/css/);
    const icon = await s.app.inject({ method: 'GET', url: '/explorer/favicon.svg' });
    assert.equal(icon.statusCode, 200);
    assert.equal(icon.headers['cache-control'], 'no-cache');
    // Revalidation: the ETag answers 304.
    const again = await s.app.inject({
      method: 'GET',
      url: '/explorer/assets/index-abc123.js',
      headers: { 'if-none-match': js.headers.etag as string },
    });
    assert.equal(again.statusCode, 304);
    const head = await s.app.inject({ method: 'HEAD', url: '/explorer/assets/index-abc123.js' });
    assert.equal(head.statusCode, 200);
    assert.equal(head.body, '');
  });

  test("the app's own routes answer index.html, so its links can be shared", async () => {
    for (const path of ['ns/fin:clearing', 'ns/fin%3Aclearing', 'federation', 'verify/', 'anchoring/tsa?x=1']) {
      const r = await s.app.inject({ method: 'GET', url: `/explorer/${path}` });
      assert.equal(r.statusCode, 200, path);
      assert.equal(r.body, INDEX, path);
      assert.equal(r.headers['cache-control'], 'no-cache', path);
      assert.equal(r.headers['content-security-policy'], EXPLORER_CSP, path);
    }
    // A missing asset is a 404, not a page in its place.
    const gone = await s.app.inject({ method: 'GET', url: '/explorer/assets/index-old999.js' });
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json<{ code: string }>().code, 'NOT_FOUND');
  });

  test('nothing outside the explorer directory is served', async () => {
    for (const path of [
      '../secret.txt',
      '..%2fsecret.txt',
      '%2e%2e/secret.txt',
      '%2e%2e%2fsecret.txt',
      'assets/..%2f..%2fsecret.txt',
      'assets/%2e%2e/%2e%2e/secret.txt',
      '..%5csecret.txt',
      '%2fetc%2fpasswd',
      '/etc/passwd',
      '.env',
      'assets/leak.js', // a symlink leading out
      'index.html%00.js',
    ]) {
      const r = await s.app.inject({ method: 'GET', url: `/explorer/${path}` });
      assert.ok(!r.body.includes(SECRET), `${path} leaked the file`);
      assert.ok(!r.body.includes('root:'), `${path} leaked /etc/passwd`);
      assert.ok([200, 400, 404].includes(r.statusCode), `${path}: ${r.statusCode}`);
      if (r.statusCode === 200) assert.equal(r.body, INDEX, path);
    }
  });

  test('an explorer that was not built answers 404 with how to build it, and the node runs', async () => {
    for (const path of ['/explorer/', '/explorer/ns/dao:x']) {
      const r = await bare.app.inject({ method: 'GET', url: path });
      assert.equal(r.statusCode, 404, path);
      assert.deepEqual(r.json(), { code: 'NOT_FOUND', message: 'explorer not built: run npm run build' });
    }
    assert.equal((await bare.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    // A directory that does not exist at all is the same.
    const missing = await startTestServer({ explorerDir: join(root, 'no-such-dir') });
    try {
      const r = await missing.app.inject({ method: 'GET', url: '/explorer/' });
      assert.equal(r.statusCode, 404);
      assert.equal(r.json<{ message: string }>().message, 'explorer not built: run npm run build');
    } finally {
      await missing.close();
    }
  });

  test('docs/api.md shows the policy the node sends', () => {
    const api = readFileSync(fileURLToPath(new URL('../../../../docs/api.md', import.meta.url)), 'utf8');
    assert.ok(api.includes(`Content-Security-Policy: ${EXPLORER_CSP}\n`));
  });

  test('by default, the build of this workspace (packages/explorer/dist)', () => {
    assert.match(defaultExplorerDir(), /packages[/\\]explorer[/\\]dist$/);
  });
});
