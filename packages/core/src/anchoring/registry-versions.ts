import { RemembrancerError } from '../errors.js';
import { parseRegistry, type RegistrySet } from '../federation/registry-set.js';
import { verifyRegistryTransition } from '../federation/registry-verification.js';

/**
 * The registry versions a verifier of anchored receipts is given (attacker-controlled JSON): one
 * `federation.registry.set` document (one pinned version), or `{versions: [...]}` as
 * `GET /v1/federation/registry?all=1` serves it. In a list the first version is the one the user
 * pins; every later one must be its authorized successor (verifyRegistryTransition), so a list
 * cannot smuggle in a version its predecessors never signed. A refusal of a list's member points
 * at it (`/versions/<i>` followed by the member's own pointer), so a caller can name the entry.
 */
export function parseRegistryVersions(json: unknown): RegistrySet[] {
  const listed = json !== null && typeof json === 'object' && !Array.isArray(json) && 'versions' in json;
  const list = listed ? json.versions : [json];
  if (!Array.isArray(list) || list.length === 0) {
    throw new RemembrancerError('REGISTRY_INVALID', 'versions must be a non-empty array of registry versions', {
      pointer: '/versions',
    });
  }
  const sets: RegistrySet[] = [];
  for (const [i, raw] of list.entries()) {
    try {
      const set = parseRegistry(raw);
      const prev = sets[sets.length - 1];
      if (prev !== undefined) verifyRegistryTransition(prev, set);
      sets.push(set);
    } catch (e) {
      if (!listed || !(e instanceof RemembrancerError)) throw e;
      throw new RemembrancerError(e.code, e.message, { pointer: `/versions/${i}${e.pointer ?? ''}`, cause: e });
    }
  }
  return sets;
}
