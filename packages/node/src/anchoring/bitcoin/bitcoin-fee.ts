import { RemembrancerError } from '@vaultmesh/core';
import type { BitcoinRpcCaller } from './bitcoin-rpc.js';
import { rpcObject } from './bitcoin-rpc-answer.js';

/*
 * Fee rates are kept as integers in thousandths of a satoshi per vbyte (msat/vB), the precision
 * Bitcoin Core itself works in (0.001 sat/vB), so that comparisons and the BIP 125 arithmetic
 * below are exact. The RPC speaks BTC per 1,000 vbytes: 1 BTC/kvB = 10^8 msat/vB.
 */

export const MSAT_PER_SAT = 1000;
/** Bitcoin Core's default incremental relay fee and minimum relay fee, 1 sat/vB. */
export const DEFAULT_INCREMENTAL_MSAT_VB = 1000;

export function msatVbFromSatVb(satVb: number): number {
  return Math.round(satVb * MSAT_PER_SAT);
}

export function satVbFromMsatVb(msatVb: number): number {
  return msatVb / MSAT_PER_SAT;
}

export function msatVbFromBtcPerKvB(btcPerKvB: number): number {
  return Math.round(btcPerKvB * 1e8);
}

/** The fee of `vsize` vbytes at `rate` msat/vB, rounded up to a whole satoshi. */
export function feeAt(rate: number, vsize: number): number {
  return Math.ceil((rate * vsize) / MSAT_PER_SAT);
}

/** A configured rate in sat/vB: positive, finite, at most 100,000 sat/vB (0.1 BTC for a 1 kvB transaction). */
export function configuredRate(name: string, satVb: number): number {
  if (typeof satVb !== 'number' || !Number.isFinite(satVb) || satVb <= 0 || satVb > 100_000) {
    throw new RemembrancerError(
      'INVALID_ARGUMENT',
      `${name} must be a positive number of sat/vB, got ${String(satVb)}`,
    );
  }
  const rate = msatVbFromSatVb(satVb);
  if (rate < 1) throw new RemembrancerError('INVALID_ARGUMENT', `${name} is below 0.001 sat/vB`);
  return rate;
}

/** What the node says about fees now, msat/vB. */
export interface NodeFeeRates {
  /** estimatesmartfee's answer; undefined when it has none (a fresh regtest or signet node). */
  readonly estimate: number | undefined;
  /** The least the node relays: its mempool's minimum fee and its minimum relay fee. */
  readonly floor: number;
  /** How much a replacement must add per vbyte (BIP 125 rule 4), at least 1 sat/vB. */
  readonly increment: number;
}

function positiveBtcRate(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? msatVbFromBtcPerKvB(value) : undefined;
}

/**
 * Reads the node's fee view: `estimatesmartfee confTarget` (Bitcoin Core answers `feerate`, or
 * `errors` without one when it has too little data; bcoin answers `fee`, -1 when it has none),
 * `getmempoolinfo.mempoolminfee` and `getnetworkinfo.relayfee` / `incrementalfee` (bcoin's
 * incrementalfee is 0: the 1 sat/vB floor stands then).
 */
export async function nodeFeeRates(rpc: BitcoinRpcCaller, confTarget: number): Promise<NodeFeeRates> {
  const estimated = rpcObject('estimatesmartfee', await rpc.call('estimatesmartfee', [confTarget]));
  const mempool = rpcObject('getmempoolinfo', await rpc.call('getmempoolinfo', []));
  const network = rpcObject('getnetworkinfo', await rpc.call('getnetworkinfo', []));
  const estimate = positiveBtcRate(estimated.feerate) ?? positiveBtcRate(estimated.fee);
  const relay = positiveBtcRate(network.relayfee) ?? 0;
  const floor = Math.max(positiveBtcRate(mempool.mempoolminfee) ?? 0, relay);
  const increment = Math.max(positiveBtcRate(network.incrementalfee) ?? 0, relay, DEFAULT_INCREMENTAL_MSAT_VB);
  return { estimate, floor, increment };
}

/**
 * The rate of a first attempt: the node's estimate, else the configured fallback, never below what
 * the node relays, then clamped to the cap (a cap below the node's floor gets a transaction the
 * node refuses, which the operator sees, rather than one paying more than allowed).
 */
export function anchorFeeRate(node: NodeFeeRates, fallback: number, cap: number): number {
  return Math.min(Math.max(node.estimate ?? fallback, node.floor), cap);
}

/**
 * The rate of a BIP 125 replacement of an attempt offering `old` (https://github.com/bitcoin/bips/blob/master/bip-0125.mediawiki):
 * at least `old` plus the node's increment, or the market rate if higher, clamped to the cap;
 * undefined when the cap is below old + increment (no valid replacement exists under it).
 */
export function replacementFeeRate(node: NodeFeeRates, fallback: number, old: number, cap: number): number | undefined {
  const least = old + node.increment;
  if (least > cap) return undefined;
  return Math.min(Math.max(anchorFeeRate(node, fallback, cap), least), cap);
}

/**
 * The fee of a replacement of `vsize` vbytes: its rate's fee, and at least the replaced fee plus
 * the increment over the replacement's own size (BIP 125 rules 3 and 4).
 */
export function replacementFee(rate: number, vsize: number, oldFeeSats: number, increment: number): number {
  return Math.max(feeAt(rate, vsize), oldFeeSats + feeAt(increment, vsize));
}
