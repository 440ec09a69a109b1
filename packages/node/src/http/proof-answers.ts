import { RemembrancerError, base64Encode } from '@vaultmesh/core';
import type { LogEngine, NamespaceRecord } from '../log/log-engine.js';
import { indexParam } from './params.js';

/**
 * `{from, to, proof}`: an RFC 9162 consistency proof between two sizes of a namespace's tree, from
 * attacker-controlled query parameters. Shared by the public proof route and the peer route that
 * serves private namespaces' hashes to the equivocation monitor.
 */
export async function consistencyProofAnswer(
  engine: LogEngine,
  ns: NamespaceRecord,
  query: Record<string, string | undefined>,
): Promise<{ from: number; to: number; proof: string[] }> {
  const from = indexParam('from', query.from);
  const to = indexParam('to', query.to);
  if (from > to) throw new RemembrancerError('INVALID_RANGE', `from (${from}) is greater than to (${to})`);
  const treeSize = engine.integratedSize(ns.id);
  if (to > treeSize) throw new RemembrancerError('SIZE_OUT_OF_RANGE', `to ${to} is beyond the tree size ${treeSize}`);
  const proof = from === 0 ? [] : await engine.consistencyProof(ns.id, from, to);
  return { from, to, proof: proof.map(base64Encode) };
}
