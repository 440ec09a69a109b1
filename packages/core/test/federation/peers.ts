// Deterministic federation members for the federation tests (not a test file itself).
import { CosignatureSigner, NoteSigner, type PeerRole, type PeerStatus, type RegistryPeer } from '../../src/index.js';

export interface TestPeer {
  readonly id: string;
  readonly logSeed: Uint8Array;
  readonly witnessSeed: Uint8Array;
  readonly authSeed: Uint8Array;
  readonly peer: RegistryPeer;
  /** The log key of one of the node's namespaces, named by the origin. */
  logSigner(namespace: string): NoteSigner;
}

function seed(n: number, kind: number): Uint8Array {
  const s = new Uint8Array(32).fill(n);
  s[0] = kind;
  return s;
}

/** Peer `n` (keys derived from n), e.g. makePeer('alpha', 1); `authSeed` overrides the auth key. */
export function makePeer(
  name: string,
  n: number,
  opts: { status?: PeerStatus; roles?: PeerRole[]; authSeed?: Uint8Array; logSeed?: Uint8Array } = {},
): TestPeer {
  const id = `${name}.vaultmesh.local`;
  const logSeed = opts.logSeed ?? seed(n, 1);
  const witnessSeed = seed(n, 2);
  const authSeed = opts.authSeed ?? seed(n, 3);
  const peer: RegistryPeer = {
    id,
    endpoint: `https://${id}:8443`,
    log_vkey: new NoteSigner(id, logSeed).vkey,
    witness_vkey: new CosignatureSigner(`${id}/witness`, witnessSeed).vkey,
    auth_key: new NoteSigner(`${id}/peer`, authSeed).vkey,
    status: opts.status ?? 'active',
    roles: opts.roles ?? ['log', 'witness', 'anchor'],
  };
  return { id, logSeed, witnessSeed, authSeed, peer, logSigner: (ns) => new NoteSigner(`${id}/${ns}`, logSeed) };
}

export const alpha = makePeer('alpha', 1);
export const beta = makePeer('beta', 2);
export const gamma = makePeer('gamma', 3);
export const delta = makePeer('delta', 4);

/** A copy of a peer entry with some fields changed. */
export function withPeer(p: TestPeer, changes: Partial<RegistryPeer>): RegistryPeer {
  return { ...p.peer, ...changes };
}
