import {
  RemembrancerError,
  buildEpochTree,
  epochEndMs,
  errorMessage,
  parseEpochLeaf,
  parseEpochStatement,
  verifyEpochLeaf,
  type EpochLeaf,
  type EpochStatement,
  type EpochTree,
  type RegistrySet,
} from '@vaultmesh/core';
import type { AnchorTargetConfig } from '../config/anchoring-config.js';
import { MAX_EPOCH_LEAVES } from './local-leaves.js';

/** A statement with the leaves its root commits to, checked: what a node may sign or store. */
export interface CheckedProposal {
  statement: EpochStatement;
  leaves: readonly EpochLeaf[];
  tree: EpochTree;
}

function refused(why: string, cause?: unknown): never {
  throw new RemembrancerError('EPOCH_REFUSED', why, cause === undefined ? undefined : { cause });
}

/**
 * Everything a signer checks before signing an epoch root (issue 10, item 4), and a peer before
 * storing a finalized epoch: the statement is well-formed and of this federation's registry
 * version in force; the epoch has closed (by this node's clock, give or take the skew window);
 * the leaves are in the tree's deterministic order and make exactly the stated root and size;
 * and every leaf verifies — the log signature against the registry's log key of its origin's
 * node, the cosignatures against the registry's witness keys and the namespace's witness policy.
 * Input is attacker-controlled (a peer may lie): nothing is trusted before it is checked.
 */
export function checkProposal(
  statementJson: unknown,
  leavesJson: unknown,
  context: { registry: RegistrySet; target: AnchorTargetConfig; nowMs: number; maxClockSkewMs: number },
): CheckedProposal {
  let statement: EpochStatement;
  try {
    statement = parseEpochStatement(statementJson);
  } catch (cause) {
    refused(`malformed epoch statement: ${errorMessage(cause)}`, cause);
  }
  const { registry, target } = context;
  if (statement.federation_id !== registry.federation_id)
    refused(`statement is for federation ${statement.federation_id}, this node is in ${registry.federation_id}`);
  if (statement.registry_version !== registry.version) {
    throw new RemembrancerError(
      'REGISTRY_STALE',
      `statement is under registry version ${statement.registry_version}, this node is at ${registry.version}`,
    );
  }
  if (statement.target !== target.id) refused(`statement is for target ${statement.target}, not ${target.id}`);
  const closesAt = epochEndMs(statement.epoch, target.epochMs);
  if (closesAt > context.nowMs + context.maxClockSkewMs) {
    refused(
      `epoch ${statement.epoch} closes at ${new Date(closesAt).toISOString()}, beyond this node's clock and the ${context.maxClockSkewMs} ms skew window`,
    );
  }
  if (!Array.isArray(leavesJson) || leavesJson.length === 0 || leavesJson.length > MAX_EPOCH_LEAVES)
    refused(`an epoch has 1 to ${MAX_EPOCH_LEAVES} leaves`);
  let leaves: EpochLeaf[];
  let tree: EpochTree;
  try {
    leaves = leavesJson.map((l) => parseEpochLeaf(l));
    tree = buildEpochTree(leaves);
  } catch (cause) {
    refused(`malformed epoch leaves: ${errorMessage(cause)}`, cause);
  }
  if (tree.leaves.some((l, i) => l.origin !== leaves[i]!.origin || l.size !== leaves[i]!.size))
    refused('leaves are not in the epoch tree order');
  if (tree.size !== statement.tree_size || tree.rootBase64 !== statement.root)
    refused(`the leaves make a tree of size ${tree.size} and root ${tree.rootBase64}, not the stated ones`);
  leaves.forEach((leaf, i) => {
    try {
      verifyEpochLeaf(leaf, registry);
    } catch (cause) {
      refused(`leaf ${i} (${leaf.origin} at ${leaf.size}) does not verify: ${errorMessage(cause)}`, cause);
    }
  });
  return { statement, leaves, tree };
}
