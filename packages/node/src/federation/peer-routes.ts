import type { FastifyInstance } from 'fastify';
import type { LogEngine, PublishedCheckpoint } from '../log/log-engine.js';
import type { EvidenceLedger } from './evidence-ledger.js';
import { EVIDENCE_PATH } from './evidence-ledger.js';
import type { FederationRegistry } from './federation-registry.js';
import type { FederationStore } from './federation-store.js';
import { PEER_VIEW_PATH, type PeerView } from './gossip.js';
import { peerAuthenticatedRoutes } from './peer-auth.js';

export interface FederationPeerRouteOptions {
  registry: FederationRegistry;
  store: FederationStore;
  ledger: EvidenceLedger;
  engine: LogEngine;
  /** The checkpoints this node's witness cosigned last, one per log (Witness.witnessedOrigins). */
  witnessed?: () => ReadonlyArray<{ readonly origin: string; readonly note: string }>;
  /** The note served for a checkpoint, with the cosignatures held (cosignedCheckpointNote). */
  checkpointNote: (origin: string, checkpoint: PublishedCheckpoint) => string;
  /** Tests skew the peer-auth clock (unix seconds). */
  now?: () => number;
}

/**
 * The routes only registry peers may call (RFC 9421-signed, see peerAuthenticatedRoutes):
 * `GET /v1/federation/peer/view`, what gossip pulls, and `POST /v1/federation/evidence`, where
 * peers push equivocation evidence (201 stored, 200 already held, 400 proves nothing).
 */
export function federationPeerRoutes(app: FastifyInstance, options: FederationPeerRouteOptions): void {
  const { registry, store, ledger, engine } = options;
  peerAuthenticatedRoutes(app, { registry, store, ...(options.now ? { now: options.now } : {}) }, (peerApp) => {
    peerApp.get(PEER_VIEW_PATH, async (): Promise<PeerView> => {
      const checkpoints: Array<[string, string]> = [];
      for (const ns of engine.listNamespaces()) {
        const cp = engine.latestCheckpoint(ns.id);
        if (cp) checkpoints.push([ns.origin, options.checkpointNote(ns.origin, cp)]);
      }
      return {
        registry_version: registry.latest()?.version ?? null,
        // fromEntries defines own properties, so even an origin spelled "__proto__" is plain data.
        checkpoints: Object.fromEntries(checkpoints),
        witnessed: Object.fromEntries((options.witnessed?.() ?? []).map((w) => [w.origin, w.note])),
      };
    });

    // The body is attacker-controlled (even a registry peer may lie): the ledger verifies it
    // against the registry in force before anything is stored.
    peerApp.post<{ Body: unknown }>(EVIDENCE_PATH, async (request, reply) => {
      const accepted = ledger.accept(request.body, request.peer!.id);
      return reply.status(accepted.outcome === 'new' ? 201 : 200).send({ digest: accepted.digest, origin: accepted.evidence.origin, stored: accepted.outcome === 'new' });
    });
  });
}
