import type { EpochLeaf, EpochStatement, RegistryPeer } from '@vaultmesh/core';
import {
  malformedPeerAnswer,
  peerAnswerJson,
  peerRequest,
  type PeerAnswer,
  type PeerCredentials,
} from '../federation/peer-client.js';
import type { EpochFinalization } from './epoch-finalization.js';
import type { EpochStatus } from './anchor-store.js';
import type { GivenSignature } from './epoch-signer.js';

/*
 * The anchoring protocol between peers (RFC 9421-signed peer routes, docs/anchoring.md):
 *
 *   GET  /v1/federation/peer/anchoring/leaves?target=T&epoch=E   the peer's leaves for an epoch
 *   POST /v1/federation/peer/anchoring/sign                       {statement, leaves} → its signature
 *   GET  /v1/federation/peer/anchoring/epoch?target=T&epoch=E&mode=M   what it knows of an epoch
 *   POST /v1/federation/peer/anchoring/finalized                  an anchored epoch, to store
 */
export const ANCHOR_PEER_PATH = '/v1/federation/peer/anchoring';

/** What a peer knows of one epoch. */
export interface EpochOutcome {
  status: EpochStatus | 'signed' | 'unknown';
  finalization?: EpochFinalization;
  signed?: { statement: EpochStatement; leaves: readonly EpochLeaf[]; sig: string; signed_at: string };
}

type Peer = Pick<RegistryPeer, 'id' | 'endpoint'>;

function objectAnswer(peer: Peer, answer: PeerAnswer, what: string): Record<string, unknown> {
  const json = peerAnswerJson(peer, answer);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw malformedPeerAnswer(peer, answer, what);
  return json as Record<string, unknown>;
}

export async function fetchPeerLeaves(
  peer: Peer,
  creds: PeerCredentials,
  target: string,
  epoch: number,
  timeoutMs: number,
): Promise<unknown[]> {
  const q = new URLSearchParams({ target, epoch: String(epoch) });
  const answer = await peerRequest(peer, creds, 'GET', `${ANCHOR_PEER_PATH}/leaves?${q.toString()}`, { timeoutMs });
  const body = objectAnswer(peer, answer, 'no {leaves} object');
  if (!Array.isArray(body.leaves)) throw malformedPeerAnswer(peer, answer, 'no leaves array');
  return body.leaves as unknown[];
}

export async function requestEpochSignature(
  peer: Peer,
  creds: PeerCredentials,
  statement: EpochStatement,
  leaves: readonly EpochLeaf[],
  timeoutMs: number,
): Promise<GivenSignature> {
  const answer = await peerRequest(peer, creds, 'POST', `${ANCHOR_PEER_PATH}/sign`, {
    body: { statement, leaves },
    timeoutMs,
  });
  const body = objectAnswer(peer, answer, 'no signature object');
  if (typeof body.sig !== 'string' || typeof body.signed_at !== 'string' || body.node !== peer.id)
    throw malformedPeerAnswer(peer, answer, 'a signature answer without {node, sig, signed_at}');
  return body as unknown as GivenSignature;
}

export async function fetchEpochOutcome(
  peer: Peer,
  creds: PeerCredentials,
  target: string,
  epoch: number,
  mode: EpochStatement['mode'],
  timeoutMs: number,
): Promise<EpochOutcome> {
  const q = new URLSearchParams({ target, epoch: String(epoch), mode });
  const answer = await peerRequest(peer, creds, 'GET', `${ANCHOR_PEER_PATH}/epoch?${q.toString()}`, { timeoutMs });
  const body = objectAnswer(peer, answer, 'no epoch outcome object');
  if (typeof body.status !== 'string') throw malformedPeerAnswer(peer, answer, 'an epoch outcome without status');
  // The contents are checked by the caller (checkFinalization / checkProposal) before any use.
  return body as unknown as EpochOutcome;
}

export async function pushFinalization(
  peer: Peer,
  creds: PeerCredentials,
  f: EpochFinalization,
  timeoutMs: number,
): Promise<void> {
  await peerRequest(peer, creds, 'POST', `${ANCHOR_PEER_PATH}/finalized`, {
    body: f,
    timeoutMs,
    accept: [200, 201],
  });
}
