import {
  RemembrancerError,
  bitcoinTxid,
  bytesEqual,
  opReturnPayload,
  parseTransaction,
  toDisplayHex,
  toHex,
  type BitcoinTransaction,
} from '@vaultmesh/core';
import type { ChainAttempt } from '../chain/chain-sender.js';
import { outpointOf } from './bitcoin-coins.js';
import { satVbFromMsatVb } from './bitcoin-fee.js';

/*
 * A Bitcoin anchor attempt as the journal keeps it (chain-sender.ts): the signed transaction in
 * hex, its txid in display hex, the outpoints it spends and the fee it offers. Attempts come back
 * from the journal, so they are read as input: the raw transaction must parse and hash to the txid.
 */

const HEX = /^(?:[0-9a-f]{2})+$/;

function invalid(attempt: ChainAttempt, what: string, cause?: unknown): RemembrancerError {
  return new RemembrancerError('INVALID_ARGUMENT', `Bitcoin attempt ${String(attempt.txid)}: ${what}`, { cause });
}

/** The attempt's transaction, checked to be what the attempt says it is. */
export function attemptTransaction(attempt: ChainAttempt): BitcoinTransaction {
  if (typeof attempt.raw !== 'string' || !HEX.test(attempt.raw)) throw invalid(attempt, 'raw is not lowercase hex');
  let tx: BitcoinTransaction;
  try {
    // A plain Uint8Array, not a Buffer: Buffer#slice is a view, and core's toDisplayHex reverses
    // a slice of the hashes it is given, which would turn the parsed transaction's around.
    tx = parseTransaction(Uint8Array.from(Buffer.from(attempt.raw, 'hex')));
  } catch (cause) {
    throw invalid(attempt, 'its raw transaction does not parse', cause);
  }
  if (toDisplayHex(bitcoinTxid(tx)) !== attempt.txid) throw invalid(attempt, 'its raw transaction has another txid');
  return tx;
}

/** The fee the attempt pays, sats (a decimal string, as journaled). */
export function attemptFeeSats(attempt: ChainAttempt): string {
  if (attempt.fee.kind !== 'btc') throw invalid(attempt, `its fee is of kind ${attempt.fee.kind}, not btc`);
  return attempt.fee.feeSats;
}

/** The outpoints a transaction spends, `txid:vout`. */
export function spentOutpoints(tx: BitcoinTransaction): string[] {
  return tx.inputs.map((i) => outpointOf(toDisplayHex(i.prevTxid), i.prevIndex));
}

/** The index of the output whose OP_RETURN carries exactly `root`, or -1. */
export function anchorOutputIndex(tx: BitcoinTransaction, root: Uint8Array): number {
  return tx.outputs.findIndex((o) => {
    const payload = opReturnPayload(o.script);
    return payload !== undefined && bytesEqual(payload, root);
  });
}

/** The 32-byte root the attempt anchors: its one OP_RETURN output with a 32-byte push. */
export function anchoredRoot(attempt: ChainAttempt, tx: BitcoinTransaction): Uint8Array {
  const roots = tx.outputs.map((o) => opReturnPayload(o.script)).filter((p) => p?.length === 32);
  if (roots.length !== 1) throw invalid(attempt, `${roots.length} 32-byte OP_RETURN outputs, not one`);
  return roots[0]!;
}

/** What a signed anchor becomes in the journal. */
export function bitcoinAttempt(
  signed: { raw: Uint8Array; vsize: number; fee: number },
  rateMsatVb: number,
  replaces: string | undefined,
): ChainAttempt {
  const tx = parseTransaction(signed.raw);
  return {
    txid: toDisplayHex(bitcoinTxid(tx)),
    raw: toHex(signed.raw),
    inputs: spentOutpoints(tx),
    fee: { kind: 'btc', feeRateSatVb: satVbFromMsatVb(rateMsatVb), feeSats: String(signed.fee), vbytes: signed.vsize },
    ...(replaces === undefined ? {} : { replaces }),
  };
}
