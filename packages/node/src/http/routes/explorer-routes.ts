import { realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyReply } from 'fastify';
import { RemembrancerError } from '@vaultmesh/core';
import type { HttpArea } from '../scopes.js';

/** Where every node serves the explorer (packages/explorer's build). */
export const EXPLORER_PREFIX = '/explorer/';

/** Built files named by their content hash (Vite's `assets/`): they never change under a name. */
const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';

/**
 * The explorer's page may run only its own scripts and styles, read any node's API (it compares
 * peers), and show its own images; nothing else is fetched, framed or submitted.
 */
export const EXPLORER_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  // Vite inlines assets under 4 KiB as data: URLs.
  "font-src 'self' data:",
  'connect-src *',
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The explorer build of this installation: packages/explorer/dist of the workspace the node runs
 * from (resolved as a package when installed, else next to this package's source or build).
 */
export function defaultExplorerDir(): string {
  try {
    const manifest = createRequire(import.meta.url).resolve('@vaultmesh/explorer/package.json');
    return join(dirname(manifest), 'dist');
  } catch {
    // packages/node/{src,dist}/http/routes → packages/explorer/dist
    return fileURLToPath(new URL('../../../../explorer/dist', import.meta.url));
  }
}

/**
 * The file a request path names inside `root`, or undefined when it names none: not a regular
 * file, a dotfile, or outside `root` (`..`, an absolute path, a symlink leading out). The path is
 * attacker-controlled; the answer is a path relative to `root` that @fastify/send serves as is.
 */
function fileUnder(root: string, requested: string): string | undefined {
  if (requested.includes('\0')) return undefined;
  const parts = requested.split('/').filter((p) => p !== '');
  if (parts.some((p) => p.startsWith('.') || p.includes('\\'))) return undefined;
  let realRoot: string;
  let real: string;
  try {
    realRoot = realpathSync(root);
    real = realpathSync(resolve(root, ...parts));
    if (!statSync(real).isFile()) return undefined;
  } catch {
    return undefined;
  }
  const rel = relative(realRoot, real);
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}

function sendPage(reply: FastifyReply, root: string): FastifyReply {
  return reply
    .header('cache-control', 'no-cache')
    .header('content-security-policy', EXPLORER_CSP)
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .sendFile('index.html', root, { cacheControl: false });
}

/**
 * The public explorer, a static single-page app: its hashed assets cached for good, index.html
 * revalidated on every load, and any other path under /explorer/ answered with index.html so the
 * app's routes (/explorer/ns/fin:clearing) are links that can be shared. A node whose explorer was
 * not built still starts; the pages answer 404 saying how to build it.
 */
export const explorerArea: HttpArea = {
  public(app, ctx) {
    const root = resolve(ctx.explorerDir ?? defaultExplorerDir());
    // reply.sendFile only: the routes below decide what is served.
    void app.register(fastifyStatic, { root, serve: false });

    app.get('/explorer', async (request, reply) => {
      const q = request.url.indexOf('?');
      return reply.redirect(q < 0 ? EXPLORER_PREFIX : EXPLORER_PREFIX + request.url.slice(q), 301);
    });

    app.get<{ Params: { '*': string } }>(`${EXPLORER_PREFIX}*`, async (request, reply) => {
      reply.header('x-content-type-options', 'nosniff');
      const file = fileUnder(root, request.params['*']);
      if (file !== undefined && file !== 'index.html') {
        reply.header('cache-control', file.startsWith('assets/') ? IMMUTABLE_CACHE : 'no-cache');
        return reply.sendFile(file, root, { cacheControl: false });
      }
      // A missing asset is not a page: HTML in place of a script would only be refused by the browser.
      if (request.params['*'].startsWith('assets/')) {
        throw new RemembrancerError('NOT_FOUND', 'no such explorer asset');
      }
      if (fileUnder(root, 'index.html') === undefined) {
        throw new RemembrancerError('NOT_FOUND', 'explorer not built: run npm run build');
      }
      return sendPage(reply, root);
    });
  },
};
