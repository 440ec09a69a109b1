import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  DEFAULT_MAX_SKEW_SECONDS,
  RemembrancerError,
  parseJsonStrict,
  peerAuthPublicKey,
  peerByAuthKeyId,
  peerById,
  utf8Decode,
  verifyContentDigest,
  verifyRequestSignatureHeaders,
  type RegistryPeer,
  type RegistrySet,
} from '@vaultmesh/core';
import type { FederationRegistry } from '../federation/federation-registry.js';
import type { FederationStorage } from '../federation/federation-storage.js';

/**
 * The largest body a peer-only route reads, bytes. The largest document a peer sends is
 * equivocation evidence: two signed notes of at most MAX_EVIDENCE_NOTE_LENGTH (65,536) UTF-16
 * code units each, which hold no control character but newline (signed-note), so at most 3 bytes
 * of JSON per code unit (192 KiB per note, whatever their signature lines' names), plus at most
 * MAX_CONSISTENCY_PROOF_HASHES (64) base64 hashes (~3 KiB) and a few short members: under 400 KB.
 * A malicious log padding its own notes cannot make the evidence against it too large to push.
 * Anything larger is no peer document.
 */
export const PEER_BODY_LIMIT_BYTES = 512 * 1024;

export interface PeerScopeOptions {
  registry: FederationRegistry;
  store: FederationStorage;
  /** This node's name (config.name): its own entry in the registry in force gives the endpoint peers sign for. */
  self: string;
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

const EMPTY = new Uint8Array(0);

/** The Content-Digest value each request's verified signature covers, until its body is matched to it. */
const signedDigests = new WeakMap<FastifyRequest, string>();

/**
 * The `@target-uri` (RFC 9421 §2.2.2) a peer signs for a request to this node: the origin of this
 * node's own registry endpoint followed by the request target, exactly as the signer's
 * `new URL(path, endpoint).href` spells it. Never the request's Host header, which the client
 * chooses: rebuilt from it, a request signed for another node (or any host) would verify here.
 * Undefined when the request target is not the normalized origin-form a peer sends (absolute-form,
 * dot segments, unencoded characters), which no peer signature covers.
 */
export function peerTargetUri(endpoint: string, requestTarget: string): string | undefined {
  let origin: string;
  try {
    origin = new URL(endpoint).origin;
  } catch {
    return undefined;
  }
  if (origin === 'null' || !requestTarget.startsWith('/')) return undefined;
  const spelled = `${origin}${requestTarget}`;
  let href: string;
  try {
    href = new URL(spelled).href;
  } catch {
    return undefined;
  }
  return href === spelled ? href : undefined;
}

/** Attacker-controlled bytes (signed by a peer, but a peer may lie) → JSON, strict UTF-8 and strict JSON. */
function parsePeerBody(raw: Uint8Array): unknown {
  if (raw.length === 0) return undefined;
  const text = utf8Decode(raw);
  try {
    return parseJsonStrict(text);
  } catch (e) {
    throw e instanceof RemembrancerError
      ? e
      : new RemembrancerError('INVALID_JSON', 'request body is not valid JSON', { cause: e });
  }
}

/**
 * The peer scope (scopes.ts): registers `routes` in a context where every request must carry a valid RFC 9421 signature by an
 * active (or probation) registry peer's auth key, over method, target URI and Content-Digest,
 * created within the skew window, with a nonce never seen before from that key.
 *
 * Everything that needs only the header fields is checked in onRequest, before a byte of the
 * body is read: this node is in the federation, the signature verifies for this node's own
 * endpoint, the clock, the peer's status, the nonce. The body is then read as bytes (at most
 * PEER_BODY_LIMIT_BYTES), matched to the signed Content-Digest, and only then decoded and parsed.
 * So nobody but a registry peer can make this node parse anything.
 *
 * No registry, or none listing this node → 403; unknown key, bad signature (signed for another
 * target), bad digest, or a stale `created` → 401; suspended → 403; replay → 409; body over the
 * limit → 413; invalid UTF-8 → 400 INVALID_ENCODING; invalid JSON → 400 INVALID_JSON.
 */
export function peerScope(
  app: FastifyInstance,
  options: PeerScopeOptions,
  routes: (peerApp: FastifyInstance) => void,
): void {
  const maxSkew = options.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  void app.register(async (peerApp) => {
    // Every peer route reads at most this; the route option (not only the parser's) so that
    // what counts bodies in flight sees the same bound.
    peerApp.addHook('onRoute', (route) => {
      route.bodyLimit = Math.min(route.bodyLimit ?? PEER_BODY_LIMIT_BYTES, PEER_BODY_LIMIT_BYTES);
    });
    peerApp.removeAllContentTypeParsers();
    // Bytes only: parsing waits until the signature and the digest have vouched for them.
    peerApp.addContentTypeParser(
      'application/json',
      { parseAs: 'buffer', bodyLimit: PEER_BODY_LIMIT_BYTES },
      (request, body, done) => {
        request.rawBody = body as Buffer;
        done(null, body);
      },
    );

    peerApp.addHook('onRequest', async (request: FastifyRequest) => {
      const registry = options.registry.latest();
      if (!registry)
        throw new RemembrancerError('FORBIDDEN', 'this node is in no federation: it accepts no peer requests');
      const me = peerById(registry, options.self);
      if (!me) {
        throw new RemembrancerError(
          'FORBIDDEN',
          `this node (${options.self}) is not a peer in registry version ${registry.version}: it accepts no peer requests`,
        );
      }
      // Bound to this node (RFC 9421 §2.2.2): a request signed for another node's endpoint, or for
      // any other host, does not verify here whatever Host header it carries. This is also what
      // keeps a nonce from being replayed at another node (RFC 9421 §7.2.2): each node keeps its
      // own nonce store, and a request captured on its way to one node verifies at no other.
      const targetUri = peerTargetUri(me.endpoint, request.url);
      if (targetUri === undefined) {
        throw new RemembrancerError(
          'SIGNATURE_INVALID',
          'the request target is not in the normalized origin-form a peer signs',
        );
      }
      let found: RegistryPeer | undefined;
      // Attacker-controlled header fields: core checks structure, signature and clock; the body
      // has not been read.
      const verified = verifyRequestSignatureHeaders({
        method: request.method,
        targetUri,
        headers: {
          'signature-input': request.headers['signature-input'],
          signature: request.headers.signature,
          'content-digest': request.headers['content-digest'],
        },
        publicKey: (keyid) => {
          const key = publicKeyOf(registry, options.registry.previousVersion(), keyid);
          found = key?.peer;
          return key?.key;
        },
        now: now(),
        maxSkewSeconds: maxSkew,
      });
      if (found!.status === 'suspended')
        throw new RemembrancerError(
          'FORBIDDEN',
          `peer ${found!.id} is suspended in registry version ${registry.version}`,
        );
      // Remembered before the body is read, so a replay is refused without reading it; a request
      // whose body then fails the digest has spent its nonce, which only its signer could reuse.
      if (!(await options.store.rememberNonce(verified.keyid, verified.nonce, verified.created, now() - 2 * maxSkew))) {
        throw new RemembrancerError(
          'NONCE_REPLAYED',
          `nonce ${verified.nonce} of key ${verified.keyid} was already used: replayed request`,
        );
      }
      request.peer = found!;
      signedDigests.set(request, verified.contentDigest);
    });

    // After the body arrived (as bytes) and before any route sees it: the bytes must be the ones
    // whose digest the peer signed (RFC 9530 §2), then they are parsed.
    peerApp.addHook('preValidation', async (request: FastifyRequest) => {
      const digest = signedDigests.get(request);
      if (digest === undefined) throw new RemembrancerError('SIGNATURE_MISSING', 'the request was not authenticated');
      const raw = request.rawBody ?? EMPTY;
      verifyContentDigest(digest, raw);
      request.body = parsePeerBody(raw);
    });
    routes(peerApp);
  });
}

/** The auth key a keyid names in the registry in force, or (for a key just rotated) in the previous version. */
function publicKeyOf(
  registry: RegistrySet,
  previous: RegistrySet | undefined,
  keyid: string,
): { peer: RegistryPeer; key: Uint8Array } | undefined {
  const current = peerByAuthKeyId(registry, keyid);
  if (current) return { peer: current, key: peerAuthPublicKey(current) };
  // A peer whose auth key the version in force just rotated may still sign with the old key
  // until it has applied that version itself: the previous version's key is accepted.
  const old = previous ? peerByAuthKeyId(previous, keyid) : undefined;
  const now = old ? peerById(registry, old.id) : undefined;
  if (!old || !now) return undefined;
  return { peer: now, key: peerAuthPublicKey(old) };
}
