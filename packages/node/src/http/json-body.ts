import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RemembrancerError, parseJsonStrict } from '@vaultmesh/core';

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
 * Replaces Fastify's body parsers in `app` (and its children) with one for `application/json`:
 * bytes are decoded strictly as UTF-8 and parsed by core's strict parser (duplicate names, lone
 * surrogates, nesting beyond MAX_JSON_DEPTH refused), with the route's own body limit applied
 * while the bytes arrive. An empty body declared as JSON is not JSON (400 INVALID_JSON).
 */
export function useStrictJsonBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      done(null, parseJsonStrict(decodeUtf8Body(request, body as Buffer)));
    } catch (e) {
      done(
        e instanceof RemembrancerError ? e : new RemembrancerError('INVALID_JSON', 'request body is not valid JSON'),
        undefined,
      );
    }
  });
}
