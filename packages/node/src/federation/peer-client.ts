import { RemembrancerError, canonicalBytes, formatKeyId, signRequest, type RegistryPeer } from '@vaultmesh/core';

export interface PeerCredentials {
  /** This node's auth key ID (8 hex digits) and seed. */
  keyid: string;
  seed: Uint8Array;
}

/** Where a node serves its logs' hashes to registry peers (peer-authenticated, see peer-routes.ts). */
export const PEER_NS_PATH = '/v1/federation/peer/ns';

/** `GET /v1/federation/peer/ns/{ns}/proof/consistency?from=A&to=B` at the namespace's node. */
export function peerConsistencyProofPath(namespace: string, from: number, to: number): string {
  return `${PEER_NS_PATH}/${encodeURIComponent(namespace)}/proof/consistency?from=${from}&to=${to}`;
}

/** `GET /v1/federation/peer/ns/{ns}/root?size=S` at the namespace's node. */
export function peerRootPath(namespace: string, size: number): string {
  return `${PEER_NS_PATH}/${encodeURIComponent(namespace)}/root?size=${size}`;
}

export function peerCredentials(authKeyId: number, seed: Uint8Array): PeerCredentials {
  return { keyid: formatKeyId(authKeyId), seed };
}

export class PeerRequestError extends RemembrancerError {
  constructor(
    readonly status: number,
    readonly body: string,
    message: string,
  ) {
    super(status === 0 ? 'PEER_UNREACHABLE' : 'PEER_REQUEST_FAILED', message);
  }
}

/**
 * A request to a peer, signed (RFC 9421 + RFC 9530) with this node's auth key; bounded by a
 * timeout. Resolves with the status and body text for any HTTP answer; rejects when unreachable.
 */
export async function peerRequest(
  peer: Pick<RegistryPeer, 'endpoint' | 'id'>,
  creds: PeerCredentials,
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  body?: unknown,
  timeoutMs = 2000,
): Promise<{ status: number; text: string; headers: Headers }> {
  const url = new URL(path, peer.endpoint).href;
  const bytes = body === undefined ? new Uint8Array(0) : canonicalBytes(body);
  const sig = signRequest({ method, targetUri: url, keyid: creds.keyid, seed: creds.seed, body: bytes });
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { ...sig, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : bytes,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (cause) {
    throw new PeerRequestError(0, '', `peer ${peer.id} at ${peer.endpoint} unreachable: ${(cause as Error).message}`);
  }
  return { status: res.status, text: await res.text(), headers: res.headers };
}
