import { activePeers } from '@vaultmesh/core';
import type { FederationRegistry } from './federation-registry.js';

/** Anything that can describe the federation as this node sees it. */
export interface FederationStatusSource {
  status(): Record<string, unknown>;
}

/** Registry-only view: membership and quorum as the version in force says. */
export class RegistryStatus implements FederationStatusSource {
  constructor(
    private readonly self: string,
    private readonly registry: FederationRegistry,
  ) {}

  status(): Record<string, unknown> {
    const reg = this.registry.latest();
    if (!reg) return { node: this.self, federation_id: null, registry_version: null, peers: [] };
    return {
      node: this.self,
      federation_id: reg.federation_id,
      registry_version: reg.version,
      quorum: reg.quorum,
      active_peers: activePeers(reg).length,
      peers: reg.peers.map((p) => ({ id: p.id, endpoint: p.endpoint, status: p.status, roles: p.roles, self: p.id === this.self })),
    };
  }
}
