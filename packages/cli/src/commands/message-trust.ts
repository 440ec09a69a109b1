import {
  CosignatureVerifier,
  NoteVerifier,
  errorMessage,
  logVerifierForOrigin,
  parseRegistry,
  type RegistryPeer,
  type RegistrySet,
} from '@vaultmesh/core';
import { ApiError, type ApiClient } from '../client/api-client.js';
import { UsageError } from '../output.js';
import { readRegistries } from './anchor-trust.js';
import { wholeNumber } from './message-options.js';
import { readTrustedKeys } from './verify-command.js';

/*
 * Which keys `message status --verify` trusts. A message's proofs are signed by two logs: the
 * source namespace's (the sent proof) and the target namespace's (the delivery receipt), each
 * with its node's log key under the name `<node>/<namespace>`. Pinned keys (--log-vkey,
 * --trusted-keys) or a pinned registry (--registry) are what make the check independent of the
 * node asked; without them the keys come from that node (GET /v1/federation/registry, else
 * GET /v1/node), and the output says so.
 */

export interface MessageTrustOptions {
  logVkey: string[];
  witnessVkey: string[];
  trustedKeys?: string;
  registry: string[];
  minWitnesses?: string;
}

/** The log key found for one origin, and where it came from (printed with the verdict). */
export interface OriginKey {
  verifiers: NoteVerifier[];
  source: string;
}

export interface MessageTrust {
  logKey(origin: string): OriginKey;
  witnessVerifiers: CosignatureVerifier[];
  minWitnesses: number;
}

function nodeOf(origin: string): string {
  const slash = origin.indexOf('/');
  return slash < 0 ? origin : origin.slice(0, slash);
}

function peerKey(peers: readonly RegistryPeer[], origin: string, source: string): OriginKey | undefined {
  const peer = peers.find((p) => p.id === nodeOf(origin));
  if (peer === undefined) return undefined;
  return { verifiers: [logVerifierForOrigin(peer, origin)], source };
}

/**
 * The log verifiers for an origin among `vkeys`: a key named as the origin itself (GET /v1/ns/{ns}'s
 * `log_vkey`), or a node's key named as the node (a registry's or GET /v1/node's `log_vkey`),
 * which signs every origin `<node>/…`. Keys that do not parse are skipped: the flags' keys are
 * checked when read, and a node's malformed key is as good as none.
 */
export function logKeyFromVkeys(vkeys: readonly string[], origin: string, source: string): OriginKey {
  const verifiers: NoteVerifier[] = [];
  for (const vkey of vkeys) {
    let k: NoteVerifier;
    try {
      k = NoteVerifier.fromVkey(vkey);
    } catch {
      continue;
    }
    if (k.name === origin) verifiers.push(k);
    else if (k.name === nodeOf(origin)) verifiers.push(new NoteVerifier(origin, k.publicKey));
  }
  return { verifiers, source };
}

function latest(sets: ReadonlyMap<number, RegistrySet>): RegistrySet | undefined {
  let top: RegistrySet | undefined;
  for (const s of sets.values()) if (top === undefined || s.version > top.version) top = s;
  return top;
}

/** What the node asked says about keys: its own (GET /v1/node) and its federation's registry, if any. */
async function nodeKeys(client: ApiClient): Promise<{ self: string[]; registry?: RegistrySet }> {
  const node = await client.json<{ log_vkey?: unknown }>('GET', '/v1/node');
  const self = typeof node.log_vkey === 'string' ? [node.log_vkey] : [];
  try {
    return { self, registry: parseRegistry(await client.json('GET', '/v1/federation/registry')) };
  } catch (e) {
    // A node outside a federation has no registry (404): its own key is all it can tell.
    if (e instanceof ApiError && e.status === 404) return { self };
    throw e;
  }
}

/** The trust of `--verify` from the flags, asking the node for keys only when none is pinned. */
export async function resolveMessageTrust(client: ApiClient, opts: MessageTrustOptions): Promise<MessageTrust> {
  for (const v of opts.logVkey) {
    try {
      NoteVerifier.fromVkey(v);
    } catch (e) {
      throw new UsageError(`--log-vkey ${v}: ${errorMessage(e)}`);
    }
  }
  const logVkeys = [...opts.logVkey];
  const witnessVkeys = [...opts.witnessVkey];
  if (opts.trustedKeys !== undefined) {
    const t = readTrustedKeys(opts.trustedKeys);
    logVkeys.push(...t.log);
    witnessVkeys.push(...t.witness);
  }
  const witnessVerifiers = witnessVkeys.map((v) => {
    try {
      return CosignatureVerifier.fromVkey(v);
    } catch (e) {
      throw new UsageError(`--witness-vkey ${v}: ${errorMessage(e)}`);
    }
  });
  const minWitnesses =
    opts.minWitnesses === undefined
      ? Math.min(1, witnessVerifiers.length)
      : wholeNumber('--min-witnesses', opts.minWitnesses, 0, 100);
  const common = { witnessVerifiers, minWitnesses };

  if (logVkeys.length > 0)
    return { ...common, logKey: (origin) => logKeyFromVkeys(logVkeys, origin, 'pinned (--log-vkey, --trusted-keys)') };

  if (opts.registry.length > 0) {
    const pinned = latest(readRegistries(opts.registry));
    const peers = pinned?.peers ?? [];
    const source = `pinned registry version ${pinned?.version}`;
    return {
      ...common,
      logKey: (origin) => peerKey(peers, origin, source) ?? { verifiers: [], source: `${source} (no such node)` },
    };
  }

  const { self, registry } = await nodeKeys(client);
  const unpinned = '(from the node asked, not pinned: pass --log-vkey, --trusted-keys or --registry to pin)';
  return {
    ...common,
    logKey: (origin) => {
      const fromRegistry =
        registry && peerKey(registry.peers, origin, `federation registry version ${registry.version} ${unpinned}`);
      if (fromRegistry) return fromRegistry;
      const own = logKeyFromVkeys(self, origin, `the node's own key, GET /v1/node ${unpinned}`);
      return own.verifiers.length > 0
        ? own
        : { verifiers: [], source: `no key known for ${nodeOf(origin)} ${unpinned}` };
    },
  };
}
