import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RemembrancerError, parseJsonStrict, parseJsonStrictAsync } from '@vaultmesh/core';

// Fatal: a byte sequence that is not UTF-8 is refused, never stored as U+FFFD. ignoreBOM keeps a
// BOM in the text, where the JSON parser refuses it (RFC 8259 §8.1: senders MUST NOT add one).
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Attacker-controlled bytes → text of a body declared UTF-8 (or declaring no charset, which JSON
 * defines as UTF-8: RFC 8259 §8.1). Another charset is 415; bytes that are not UTF-8 are 400
 * INVALID_ENCODING.
 */
export function decodeUtf8Body(request: FastifyRequest, body: Buffer): string {
  const charset = charsetOf(request.headers['content-type']);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new RemembrancerError(
      'UNSUPPORTED_MEDIA_TYPE',
      `charset ${JSON.stringify(charset)} is not supported; send UTF-8`,
    );
  }
  try {
    return UTF8.decode(body);
  } catch {
    throw new RemembrancerError('INVALID_ENCODING', 'the request body is not valid UTF-8');
  }
}

/** The lower-cased charset parameter of a Content-Type header, unquoted; undefined when absent. */
function charsetOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  for (const param of contentType.split(';').slice(1)) {
    const eq = param.indexOf('=');
    if (eq < 0) continue;
    if (param.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    return param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
  }
  return undefined;
}

/**
 * Bodies longer than this are parsed in slices of a few milliseconds with other requests served in
 * between: even bounded by its route's limit, an unauthenticated 256 KiB body of many small members
 * takes tens of milliseconds to parse, which every other request (a health check) would wait.
 */
const SLICED_PARSE_FROM_CHARS = 16 * 1024;

/** The next turn of the event loop, after pending I/O: what other requests need to be answered. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Replaces Fastify's body parsers in `app` (and its children) with one for `application/json`:
 * bytes are decoded strictly as UTF-8 and parsed by core's strict parser (duplicate names, lone
 * surrogates, nesting beyond MAX_JSON_DEPTH refused), with the route's own body limit applied
 * while the bytes arrive. An empty body declared as JSON is not JSON (400 INVALID_JSON).
 */
export function useStrictJsonBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const fail = (e: unknown) =>
      done(
        e instanceof RemembrancerError ? e : new RemembrancerError('INVALID_JSON', 'request body is not valid JSON'),
        undefined,
      );
    let text: string;
    try {
      text = decodeUtf8Body(request, body as Buffer);
      if (text.length <= SLICED_PARSE_FROM_CHARS) {
        done(null, parseJsonStrict(text));
        return;
      }
    } catch (e) {
      fail(e);
      return;
    }
    parseJsonStrictAsync(text, { yieldTo: nextTurn }).then((value) => done(null, value), fail);
  });
}
