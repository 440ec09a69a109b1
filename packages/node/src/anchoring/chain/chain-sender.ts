/*
 * What the epoch coordinator needs from a chain (issue 11): a way to commit an epoch root in one
 * transaction, to follow that transaction to its confirmations, and to build the evidence a
 * verifier checks offline. One implementation per chain family (evm/evm-sender.ts,
 * bitcoin/bitcoin-sender.ts); the coordinator's chain-anchor-job.ts drives either the same way:
 *
 *   prepare (sign, not sent) → journal the attempt → broadcast → poll status until final
 *
 * An attempt is journaled before it is broadcast, so a node killed between the two finds the
 * signed transaction on restart and broadcasts it again instead of paying twice.
 */

/** What an epoch anchor commits: the epoch root and whose epoch it is. */
export interface ChainPayload {
  /** The 32-byte epoch root (statement.root decoded). */
  readonly root: Uint8Array;
  readonly federationId: string;
  readonly epoch: number;
}

/** The fee one attempt offers, by chain family; amounts are decimal strings (they overflow doubles). */
export type ChainFee =
  | {
      readonly kind: 'eip1559';
      readonly maxFeePerGas: string;
      readonly maxPriorityFeePerGas: string;
      readonly gasLimit: string;
    }
  | {
      readonly kind: 'btc';
      /** sat per virtual byte, as offered. */
      readonly feeRateSatVb: number;
      /** The whole fee of the transaction, sats. */
      readonly feeSats: string;
      readonly vbytes: number;
    };

/** One signed transaction for an anchor. Everything in it is plain JSON (it is stored as such). */
export interface ChainAttempt {
  /** The transaction's id as the chain's tools show it: EVM `0x…` hash; Bitcoin txid in display hex. */
  readonly txid: string;
  /** The signed transaction, hex without `0x`: what is (re)broadcast. */
  readonly raw: string;
  /** EVM: the sender's nonce; Bitcoin: undefined. */
  readonly nonce?: number;
  /** Bitcoin: the outpoints spent (`txid:vout`), which a replacement must spend again. */
  readonly inputs?: readonly string[];
  readonly fee: ChainFee;
  /** The txid of the attempt this one replaces (a higher fee for the same nonce or inputs). */
  readonly replaces?: string;
}

/** Where a transaction is, as one look at the chain sees it. */
export type ChainTxStatus =
  | {
      readonly state: 'included';
      /** The block on the node's best chain that holds it. */
      readonly blockHash: string;
      readonly height: number;
      /** 1 when its block is the tip. */
      readonly confirmations: number;
      /** What it cost once included. */
      readonly cost: ChainCost;
    }
  /** Known to the node but in no block of its best chain (a mempool, or back in it after a reorg). */
  | { readonly state: 'pending' }
  /** Unknown to the node: never arrived, evicted, or dropped by a reorg without being re-added. */
  | { readonly state: 'missing' }
  /** Can never be included: a conflicting transaction (same nonce, same inputs) is in the best chain. */
  | { readonly state: 'conflicted'; readonly by?: string };

export type ChainCost =
  | { readonly kind: 'eip1559'; readonly gasUsed: string; readonly feeWei: string }
  | { readonly kind: 'btc'; readonly vbytes: number; readonly feeSats: string };

/** The receipt's anchor fields and evidence of an included transaction (docs/anchoring.md). */
export interface ChainEvidence {
  /** Type-tagged evidence as federation receipts carry it (`eip155` or `btc`). */
  readonly evidence: Record<string, unknown> & { type: 'eip155' | 'btc' };
  /** The block hash (EVM `0x…`, Bitcoin display hex), its height and its time (RFC 3339 UTC). */
  readonly blockHash: string;
  readonly height: number;
  readonly blockTime: string;
}

export interface ChainSender {
  /** The target id, `eip155:<chain id>` or `btc:<network>`. */
  readonly target: string;
  /**
   * Builds and signs one anchor transaction for `payload`, not sent. With `replacing`, a
   * replacement of that attempt (same nonce / inputs) paying more, or undefined when the fee cap
   * leaves no room for a valid replacement. Throws CHAIN_RPC_* when the node cannot be reached
   * or refuses, CHAIN_FUNDS when the account cannot pay.
   */
  prepare(payload: ChainPayload, replacing?: ChainAttempt): Promise<ChainAttempt | undefined>;
  /**
   * Sends a prepared attempt. Idempotent: a transaction the node already has is not an error.
   * Throws CHAIN_TX_REJECTED when the node refuses it for good (its nonce used, an input spent).
   */
  broadcast(attempt: ChainAttempt): Promise<void>;
  /** Where the attempt is on the node's best chain now. */
  status(attempt: ChainAttempt): Promise<ChainTxStatus>;
  /** The evidence of an attempt that status() found included in block `blockHash`. */
  evidence(attempt: ChainAttempt, blockHash: string): Promise<ChainEvidence>;
  /** Releases connections (nothing else: attempts live in the journal). */
  close?(): Promise<void>;
}
