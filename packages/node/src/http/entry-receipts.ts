import { RemembrancerError, buildReceipt, utf8Decode, type Receipt } from '@vaultmesh/core';
import type { PublishedCheckpoint } from '../log/log-engine.js';
import type { NamespaceRecord } from '../log/log-engine.js';
import type { SealState } from '../namespaces/sealing.js';
import type { RouteContext } from './route-context.js';
import { routeSealing } from './sealed-query.js';

/** Receipts of some entries against one checkpoint that covers them all. */
export interface EntryReceipts {
  checkpoint: PublishedCheckpoint;
  state: SealState;
  /** In the order of the indices asked for; `sealed` and `sealing` filled in. */
  receipts: Receipt[];
}

/**
 * The receipts GET /v1/ns/{ns}/receipt/{index} serves, for one or more entries: against the latest
 * checkpoint, or (sealed) the latest sealed one. Undefined when that checkpoint does not cover
 * every index yet (the caller answers 409, or waits). One checkpoint, note and seal state for all.
 */
export async function entryReceipts(
  ctx: RouteContext,
  ns: NamespaceRecord,
  indices: readonly number[],
  sealed: boolean,
): Promise<EntryReceipts | undefined> {
  const sealing = routeSealing(ctx);
  const last = Math.max(...indices);
  let checkpoint: PublishedCheckpoint | undefined;
  let state: SealState;
  if (sealed) {
    // Checkpoint sizes only grow, so the latest sealed one covers the entries or none does.
    const found = await sealing.latestSealed(ns);
    if (!found || found.checkpoint.size <= last) return undefined;
    ({ checkpoint, state } = found);
  } else {
    checkpoint = ctx.engine.latestCheckpoint(ns.id);
    if (!checkpoint || checkpoint.size <= last) return undefined;
    state = await sealing.sealState(ns, checkpoint);
  }
  const checkpointNote = await ctx.checkpointNote(ns.origin, checkpoint);
  const receipts: Receipt[] = [];
  for (const index of indices) {
    const data = await ctx.engine.getEntry(ns.id, index);
    if (!data) throw new RemembrancerError('NOT_FOUND', `entry ${index} not found`);
    const receipt = buildReceipt({
      namespace: ns.id,
      origin: ns.origin,
      index,
      entry: JSON.parse(utf8Decode(data)) as unknown,
      proof: await ctx.engine.inclusionProof(ns.id, index, checkpoint.size),
      checkpointNote,
    });
    receipt.sealed = state.sealed;
    receipt.sealing = { min_required: state.min_required, allowlist: state.allowlist, cosigners: state.cosigners };
    receipts.push(receipt);
  }
  return { checkpoint, state, receipts };
}
