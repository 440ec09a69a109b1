import type { AnchorStorage } from '../anchor-storage.js';
import type { ChainAttemptState } from './chain-journal-records.js';

/** A chain target's part of `GET /v1/anchoring/status` (issue 11, items 1, 5 and 7). */
export interface ChainTargetStatus {
  confirmations: number;
  /** Anchors not final yet: each transaction with where the chain has it (pending → included → final). */
  in_flight: { epoch: number; mode: string; txid: string; state: ChainAttemptState; confirmations: number }[];
  /** The latest transaction events, newest first: sent, included, reorged, replacement, fee-cap, final. */
  recent_events: { epoch: number; txid: string; event: string; detail: string; at: string }[];
  /** What the final anchors cost: totals, per anchored epoch and per anchored namespace checkpoint. */
  costs: ChainCosts;
}

export interface ChainCosts {
  /** Final anchors counted. */
  anchors: number;
  /** Namespace checkpoints those anchors committed (the leaves of their epochs). */
  checkpoints: number;
  /** EVM: gas and wei (decimal strings, they outgrow doubles); Bitcoin: vbytes and sats. */
  unit: 'wei' | 'sats';
  gas_used?: string;
  vbytes?: number;
  fee_total: string;
  fee_per_epoch: string;
  fee_per_checkpoint: string;
}

const RECENT_EVENTS = 20;

/** Integer division rounded to nearest, in strings (fees in wei overflow doubles). */
function perUnit(total: bigint, n: number): string {
  return n === 0 ? '0' : ((total + BigInt(n) / 2n) / BigInt(n)).toString();
}

export async function chainCosts(store: AnchorStorage, target: string, unit: 'wei' | 'sats'): Promise<ChainCosts> {
  let fee = 0n;
  let gas = 0n;
  let vbytes = 0;
  let checkpoints = 0;
  const rows = await store.chain.finalCosts(target);
  for (const r of rows) {
    if (r.cost.kind === 'eip1559') {
      fee += BigInt(r.cost.feeWei);
      gas += BigInt(r.cost.gasUsed);
    } else {
      fee += BigInt(r.cost.feeSats);
      vbytes += r.cost.vbytes;
    }
    // The very epoch the attempt anchored (its mode and node are journaled with it).
    checkpoints += (await store.epoch(target, r.epoch, r.mode, r.node))?.finalization?.statement.tree_size ?? 0;
  }
  return {
    anchors: rows.length,
    checkpoints,
    unit,
    ...(unit === 'wei' ? { gas_used: gas.toString() } : { vbytes }),
    fee_total: fee.toString(),
    fee_per_epoch: perUnit(fee, rows.length),
    fee_per_checkpoint: perUnit(fee, checkpoints),
  };
}

export async function chainTargetStatus(
  store: AnchorStorage,
  target: string,
  kind: 'eip155' | 'btc',
  confirmations: number,
): Promise<ChainTargetStatus> {
  return {
    confirmations,
    in_flight: (await store.chain.inFlight(target)).map((a) => ({
      epoch: a.epoch,
      mode: a.mode,
      txid: a.txid,
      state: a.state,
      confirmations: a.confirmations,
    })),
    recent_events: (await store.chain.recentEvents(target, RECENT_EVENTS)).map((e) => ({
      epoch: e.epoch,
      txid: e.txid,
      event: e.event,
      detail: e.detail,
      at: new Date(e.atMs).toISOString(),
    })),
    costs: await chainCosts(store, target, kind === 'eip155' ? 'wei' : 'sats'),
  };
}
