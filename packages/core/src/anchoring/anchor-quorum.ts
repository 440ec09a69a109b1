import { RemembrancerError } from '../errors.js';
import { crypto } from '../crypto/index.js';
import { utf8Encode } from '../encoding/index.js';
import { activePeers } from '../federation/registry-peers.js';
import type { RegistryPeer, RegistrySet } from '../federation/registry-set.js';

/*
 * Who signs epoch roots, how many must, and who publishes the anchor. Everything here is a pure
 * function of one registry version, so every node that holds the version the epoch statement
 * names reaches the same answer without talking to the others.
 */

/** Active peers with the `anchor` role, sorted by id: the peers whose signatures on an epoch root count. */
export function anchorSigners(registry: RegistrySet): RegistryPeer[] {
  return activePeers(registry)
    .filter((p) => p.roles.includes('anchor'))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function noSigners(registry: RegistrySet): never {
  throw new RemembrancerError(
    'ANCHOR_NO_SIGNERS',
    `registry version ${registry.version} of ${JSON.stringify(registry.federation_id)} has no active peer with the anchor role`,
  );
}

/**
 * Signatures an epoch root needs: a strict majority of the anchor signers. Two majorities of one
 * set always share a peer, and an honest peer signs one root per (target, epoch), so at most one
 * root per epoch can reach the quorum.
 */
export function anchorQuorum(registry: RegistrySet): number {
  const n = anchorSigners(registry).length;
  if (n === 0) noSigners(registry);
  return Math.floor(n / 2) + 1;
}

function checkCount(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new RemembrancerError('INVALID_ARGUMENT', `${name} must be a non-negative integer`);
  }
}

/**
 * The peer that publishes the anchor of (target, epoch) at failover `attempt` (0: the leader, 1:
 * the first to take over, ...): signers[(h + attempt) mod n], h the first four bytes, big-endian,
 * of SHA-256 of `${target}\n${epoch}`. The hash spreads leadership of different targets and
 * epochs over the signers; consecutive attempts walk through all of them.
 */
export function epochLeader(registry: RegistrySet, target: string, epoch: number, attempt: number): RegistryPeer {
  if (typeof target !== 'string' || target === '') {
    throw new RemembrancerError('INVALID_ARGUMENT', 'target must be a non-empty string');
  }
  checkCount('epoch', epoch);
  checkCount('attempt', attempt);
  const signers = anchorSigners(registry);
  const n = signers.length;
  if (n === 0) noSigners(registry);
  const d = crypto.sha256(utf8Encode(`${target}\n${epoch}`));
  const h = ((d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!) >>> 0;
  // (h mod n + attempt mod n) mod n = (h + attempt) mod n without leaving the safe integers.
  return signers[((h % n) + (attempt % n)) % n]!;
}
