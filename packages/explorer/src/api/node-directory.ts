import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { NodeClient } from './node-client.ts';
import type { NodeInfo, Registry, RegistryPeer } from './types.ts';

/**
 * The nodes the explorer can read: the one that served the page (same origin) and the peers of
 * its registry, each at its registry endpoint. Names come from the registry, never from the URL,
 * so a shared link cannot make the page read an arbitrary host.
 */
export class NodeDirectory {
  readonly local: NodeClient;
  private readonly byName = new Map<string, RegistryPeer>();

  constructor(
    readonly self: NodeInfo | undefined,
    readonly registry: Registry | undefined,
    local: NodeClient = new NodeClient(''),
    private readonly makeClient: (endpoint: string) => NodeClient = (e) => new NodeClient(e),
  ) {
    this.local = local;
    for (const p of registry?.peers ?? []) this.byName.set(p.id, p);
  }

  get peers(): RegistryPeer[] {
    return [...this.byName.values()];
  }

  /** The client of a node by name: the serving node itself, or a registry peer; undefined if unknown. */
  clientFor(name: string): NodeClient | undefined {
    if (this.self && name === this.self.name) return this.local;
    const peer = this.byName.get(name);
    return peer ? this.makeClient(peer.endpoint) : undefined;
  }
}

export const DirectoryContext = createContext<NodeDirectory>(new NodeDirectory(undefined, undefined));

export function useDirectory(): NodeDirectory {
  return useContext(DirectoryContext);
}
