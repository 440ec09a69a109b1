import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  DEFAULT_MAX_SKEW_SECONDS,
  RemembrancerError,
  parseJsonStrict,
  peerAuthPublicKey,
  peerByAuthKeyId,
  peerById,
  utf8Decode,
  verifyRequestSignature,
  type RegistryPeer,
} from '@vaultmesh/core';
import type { FederationRegistry } from './federation-registry.js';
import type { FederationStore } from './federation-store.js';

export interface PeerAuthOptions {
  registry: FederationRegistry;
  store: FederationStore;
  maxSkewSeconds?: number;
  /** Unix seconds; tests skew it. */
  now?: () => number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The exact body bytes, kept on peer routes for the Content-Digest check. */
    rawBody?: Buffer;
    /** The registry peer whose request signature verified. */
    peer?: RegistryPeer;
  }
}

/**
 * Registers `routes` in a context where every request must carry a valid RFC 9421 signature by an
 * active (or probation) registry peer's auth key, over method, target URI and Content-Digest,
 * created within the skew window, with a nonce never seen before from that key.
 * Unknown key, bad signature or digest, or a stale `created` → 401; replay → 409; suspended → 403.
 */
export function peerAuthenticatedRoutes(app: FastifyInstance, options: PeerAuthOptions, routes: (peerApp: FastifyInstance) => void): void {
  const maxSkew = options.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  void app.register(async (peerApp) => {
    peerApp.removeAllContentTypeParsers();
    peerApp.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
      request.rawBody = body as Buffer;
      try {
        done(null, (body as Buffer).length === 0 ? undefined : parseJsonStrict(utf8Decode(body as Buffer)));
      } catch (e) {
        done(e as Error, undefined);
      }
    });
    peerApp.addHook('preHandler', async (request: FastifyRequest) => {
      const registry = options.registry.latest();
      if (!registry) throw new RemembrancerError('FORBIDDEN', 'this node is in no federation: it accepts no peer requests');
      // Rebuilt and normalized the way the signer builds it (WHATWG URL href of endpoint + path).
      const targetUri = new URL(request.url, `${request.protocol}://${request.headers.host ?? 'invalid.invalid'}`).href;
      let found: RegistryPeer | undefined;
      // Attacker-controlled headers and body: core checks structure, digest, signature and clock.
      const verified = verifyRequestSignature({
        method: request.method,
        targetUri,
        headers: {
          'signature-input': request.headers['signature-input'],
          signature: request.headers.signature,
          'content-digest': request.headers['content-digest'] as string | undefined,
        },
        body: request.rawBody ?? new Uint8Array(0),
        publicKey: (keyid) => {
          found = peerByAuthKeyId(registry, keyid);
          if (found) return peerAuthPublicKey(found);
          // A peer whose auth key the version in force just rotated may still sign with the old
          // key until it has applied that version itself: the previous version's key is accepted.
          const prev = options.registry.previousVersion();
          const old = prev ? peerByAuthKeyId(prev, keyid) : undefined;
          const now = old ? peerById(registry, old.id) : undefined;
          if (!old || !now) return undefined;
          found = now;
          return peerAuthPublicKey(old);
        },
        now: now(),
        maxSkewSeconds: maxSkew,
      });
      if (found!.status === 'suspended') throw new RemembrancerError('FORBIDDEN', `peer ${found!.id} is suspended in registry version ${registry.version}`);
      if (!options.store.rememberNonce(verified.keyid, verified.nonce, verified.created, now() - 2 * maxSkew)) {
        throw new RemembrancerError('NONCE_REPLAYED', `nonce ${verified.nonce} of key ${verified.keyid} was already used: replayed request`);
      }
      request.peer = found!;
    });
    routes(peerApp);
  });
}
