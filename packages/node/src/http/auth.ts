import type { FastifyRequest } from 'fastify';
import { RemembrancerError, constantTimeEqual, utf8Encode } from '@vaultmesh/core';

/** Returns a hook that admits only `Authorization: Bearer <token>` with the given token (as onRequest: before the body is read). */
export function requireBearer(token: string) {
  const expected = utf8Encode(token);
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    if (header === undefined) throw new RemembrancerError('UNAUTHORIZED', 'missing Authorization: Bearer token');
    const m = /^Bearer ([^\s]+)$/i.exec(header);
    // Attacker-controlled: compared in constant time so the token cannot be guessed byte by byte.
    if (!m || !constantTimeEqual(utf8Encode(m[1]!), expected)) {
      throw new RemembrancerError('UNAUTHORIZED', 'invalid bearer token');
    }
  };
}
