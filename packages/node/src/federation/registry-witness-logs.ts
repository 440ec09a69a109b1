import { logVerifierForOrigin, peerForOrigin, type NoteSignatureVerifier } from '@vaultmesh/core';
import type { WitnessLogSource } from '../witness/witness-log-source.js';
import type { FederationRegistry } from './federation-registry.js';

/**
 * The logs this node's witness cosigns: every namespace log of the registry's peers that are not
 * suspended (their key for `<peer>/<ns>` is their log_vkey's public key under that name), plus
 * external C2SP logs allowlisted in configuration. Origins under evidence of equivocation
 * (`refused`, see EvidenceLedger.refused) are refused until a registry update settles the matter.
 */
export class RegistryWitnessLogs implements WitnessLogSource {
  constructor(
    private readonly registry: FederationRegistry,
    private readonly allowlist?: WitnessLogSource,
    private readonly refused: (origin: string) => boolean = () => false,
  ) {}

  verifiersFor(origin: string): readonly NoteSignatureVerifier[] | undefined {
    const reg = this.registry.latest();
    const peer = reg ? peerForOrigin(reg, origin) : undefined;
    if (peer) {
      if (peer.status === 'suspended' || this.refused(origin)) return undefined;
      return [logVerifierForOrigin(peer, origin)];
    }
    return this.allowlist?.verifiersFor(origin);
  }
}
