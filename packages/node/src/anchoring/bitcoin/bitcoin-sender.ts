import {
  RemembrancerError,
  opReturnScript,
  parseBlockHeader,
  verifyBitcoinAnchor,
  type BitcoinTransaction,
} from '@vaultmesh/core';
import type { ChainAttempt, ChainEvidence, ChainPayload, ChainSender, ChainTxStatus } from '../chain/chain-sender.js';
import type { BitcoinRpc } from './bitcoin-rpc.js';
import { rpcHex, rpcObject, rpcString } from './bitcoin-rpc-answer.js';
import { bitcoinAnchorEvidence } from './bitcoin-anchor-evidence.js';
import {
  anchorOutputIndex,
  anchoredRoot,
  attemptTransaction,
  bitcoinAttempt,
  spentOutpoints,
} from './bitcoin-attempt.js';
import { DEFAULT_ACCEPT_TIMEOUT_MS, broadcastBitcoinAttempt } from './bitcoin-broadcast.js';
import { nodeCoin, parseOutpoint, selectCoins, type BitcoinCoin } from './bitcoin-coins.js';
import {
  anchorFeeRate,
  configuredRate,
  feeAt,
  msatVbFromSatVb,
  nodeFeeRates,
  replacementFee,
  replacementFeeRate,
} from './bitcoin-fee.js';
import { bitcoinNetwork, checkBitcoinNode } from './bitcoin-node-check.js';
import { BitcoinSigner } from './bitcoin-signer.js';
import { bestChainBlock, bitcoinTxStatus } from './bitcoin-tx-status.js';
import { spendableScriptKind, bitcoinVsize, vsizeBound } from './bitcoin-vsize.js';
import { writeUnsignedTransaction } from './bitcoin-tx-writer.js';

export const DEFAULT_BITCOIN_CONF_TARGET = 6;
/**
 * Every input signals replaceability (BIP 125, https://github.com/bitcoin/bips/blob/master/bip-0125.mediawiki:
 * an nSequence below 0xfffffffe); 0xfffffffd also keeps BIP 68 relative lock-times off (bit 31 set).
 */
export const BIP125_SEQUENCE = 0xfffffffd;
/** The change output stays above the dust limit of every script form (P2PKH's 546 sats is the highest). */
export const CHANGE_MIN_SATS = 546;
/**
 * Version 1: nothing here needs BIP 68, and bcoin refuses version 2 transactions until CSV is
 * active, which a fresh regtest chain reaches only at height 432.
 */
const TX_VERSION = 1;
/** Change scripts are at most 34 bytes (P2TR, P2WSH): what coin selection prices. */
const MAX_CHANGE_SCRIPT_BYTES = 34;
/** Signings per attempt at most (see #sign). */
const MAX_SIGNINGS = 4;

export interface BitcoinSenderOptions {
  /** mainnet, testnet, testnet4, signet or regtest: the target is `btc:<network>`. */
  readonly network: string;
  /** The node: fees, coins' values, signing with keys, broadcast, status, evidence. It must index transactions. */
  readonly rpc: BitcoinRpc;
  /** The wallet's endpoint (Bitcoin Core: the node's /wallet/<name>; bcoin: its wallet server). */
  readonly wallet: BitcoinRpc;
  /** The rate when estimatesmartfee has no estimate (regtest, a young signet node), sat/vB. */
  readonly fallbackFeeRateSatVb: number;
  /** No attempt offers more than this, replacements included, sat/vB. */
  readonly maxFeeRateSatVb: number;
  /** estimatesmartfee's confirmation target, blocks (default 6). */
  readonly confTarget?: number;
  /** How long broadcast waits for the node to hold what it was sent (bcoin decides after answering), ms. */
  readonly acceptTimeoutMs?: number;
}

interface Signed {
  readonly raw: Uint8Array;
  readonly vsize: number;
  readonly fee: number;
}

/**
 * Bitcoin anchors (issue 11, item 3): one transaction per epoch root, its OP_RETURN output the
 * 32-byte root, paid from a wallet of a bitcoind-compatible node (Bitcoin Core, bcoin), replaceable
 * (BIP 125) with a higher fee up to a cap, followed on the node's best chain, and proven with the
 * block header and Merkle branch that verifyBitcoinAnchor checks offline.
 *
 * Coins spent by this sender's attempts stay claimed for its lifetime (in memory, and locked in
 * the wallet with lockunspent), so a second attempt never spends what a first one in flight does.
 */
export class BitcoinSender implements ChainSender {
  readonly target: string;
  readonly network: string;
  readonly #rpc: BitcoinRpc;
  readonly #wallet: BitcoinRpc;
  readonly #signer: BitcoinSigner;
  /** msat/vB. */
  readonly #fallback: number;
  readonly #cap: number;
  readonly #confTarget: number;
  readonly #acceptTimeoutMs: number;
  readonly #claimed = new Set<string>();
  readonly #coinbase = new Set<string>();
  #nodeChecked: Promise<void> | undefined;

  constructor(options: BitcoinSenderOptions) {
    this.network = bitcoinNetwork(options.network);
    this.target = `btc:${this.network}`;
    this.#rpc = options.rpc;
    this.#wallet = options.wallet;
    this.#signer = new BitcoinSigner(options.rpc, options.wallet);
    this.#cap = configuredRate('maxFeeRateSatVb', options.maxFeeRateSatVb);
    this.#fallback = configuredRate('fallbackFeeRateSatVb', options.fallbackFeeRateSatVb);
    if (this.#fallback > this.#cap) {
      throw new RemembrancerError('INVALID_ARGUMENT', 'fallbackFeeRateSatVb must not exceed maxFeeRateSatVb');
    }
    const confTarget = options.confTarget ?? DEFAULT_BITCOIN_CONF_TARGET;
    if (!Number.isSafeInteger(confTarget) || confTarget < 1 || confTarget > 1008) {
      throw new RemembrancerError('INVALID_ARGUMENT', 'confTarget must be an integer from 1 to 1008 blocks');
    }
    this.#confTarget = confTarget;
    const accept = options.acceptTimeoutMs ?? DEFAULT_ACCEPT_TIMEOUT_MS;
    if (!Number.isSafeInteger(accept) || accept <= 0) {
      throw new RemembrancerError('INVALID_ARGUMENT', 'acceptTimeoutMs must be a positive integer');
    }
    this.#acceptTimeoutMs = accept;
  }

  async prepare(payload: ChainPayload, replacing?: ChainAttempt): Promise<ChainAttempt | undefined> {
    if (!(payload.root instanceof Uint8Array) || payload.root.length !== 32) {
      throw new RemembrancerError('INVALID_ARGUMENT', 'an anchor payload root is 32 bytes');
    }
    await this.#checkNode();
    return replacing === undefined ? this.#first(payload.root) : this.#replacement(payload.root, replacing);
  }

  async broadcast(attempt: ChainAttempt): Promise<void> {
    await this.#checkNode();
    await broadcastBitcoinAttempt(this.#rpc, attempt, { acceptTimeoutMs: this.#acceptTimeoutMs });
  }

  async status(attempt: ChainAttempt): Promise<ChainTxStatus> {
    await this.#checkNode();
    return bitcoinTxStatus(this.#rpc, attempt);
  }

  async evidence(attempt: ChainAttempt, blockHash: string): Promise<ChainEvidence> {
    await this.#checkNode();
    const root = anchoredRoot(attempt, attemptTransaction(attempt));
    const evidence = await bitcoinAnchorEvidence(this.#rpc, attempt.txid, blockHash);
    const hash = blockHash.toLowerCase();
    const block = await bestChainBlock(this.#rpc, hash);
    if (block === undefined || block.height !== evidence.height) {
      throw new RemembrancerError('BITCOIN_PROOF_INVALID', `block ${hash} is not in the node's best chain`);
    }
    // What leaves here goes into receipts: it must verify as a verifier will check it.
    const verified = verifyBitcoinAnchor(evidence, root);
    if (!verified.ok) {
      const failed = verified.checks.at(-1);
      throw new RemembrancerError(
        'BITCOIN_PROOF_INVALID',
        `the evidence of ${attempt.txid} fails check ${failed?.name ?? '?'}: ${failed?.detail ?? ''}`,
      );
    }
    const time = parseBlockHeader(Uint8Array.from(Buffer.from(evidence.header, 'hex'))).time;
    return {
      evidence: {
        type: 'btc',
        network: this.network,
        header: evidence.header,
        tx: evidence.tx,
        index: evidence.index,
        branch: [...evidence.branch],
        height: evidence.height,
      },
      blockHash: hash,
      height: evidence.height,
      blockTime: new Date(time * 1000).toISOString().replace(/\.000Z$/, 'Z'),
    };
  }

  /** Checked once per sender; a failed check is tried again on the next call. */
  #checkNode(): Promise<void> {
    this.#nodeChecked ??= checkBitcoinNode(this.#rpc, this.network).catch((e: unknown) => {
      this.#nodeChecked = undefined;
      throw e;
    });
    return this.#nodeChecked;
  }

  async #first(root: Uint8Array): Promise<ChainAttempt> {
    const fees = await nodeFeeRates(this.#rpc, this.#confTarget);
    const rate = anchorFeeRate(fees, this.#fallback, this.#cap);
    const opReturn = opReturnScript(root);
    // Enough for the fee at the cap and a change output: any replacement up to the cap fits the same coins.
    const coins = await selectCoins({
      rpc: this.#rpc,
      wallet: this.#wallet,
      claimed: this.#claimed,
      coinbase: this.#coinbase,
      need: (kinds) =>
        feeAt(this.#cap, vsizeBound(kinds, [opReturn.length, MAX_CHANGE_SCRIPT_BYTES])) + CHANGE_MIN_SATS,
    });
    const outpoints = coins.map((c) => ({ txid: c.txid, vout: c.vout }));
    try {
      await this.#wallet.call('lockunspent', [false, outpoints]);
      const change = await this.#changeScript(coins[0]!);
      const signed = await this.#sign(coins, opReturn, change, (vsize) => feeAt(rate, vsize));
      return bitcoinAttempt(signed, rate, undefined);
    } catch (e) {
      for (const c of coins) this.#claimed.delete(c.outpoint);
      await this.#wallet.call('lockunspent', [true, outpoints]).catch(() => undefined);
      throw e;
    }
  }

  async #replacement(root: Uint8Array, replacing: ChainAttempt): Promise<ChainAttempt | undefined> {
    if (replacing.fee.kind !== 'btc')
      throw new RemembrancerError('INVALID_ARGUMENT', 'replacing an attempt of another chain');
    const tx = attemptTransaction(replacing);
    const anchorAt = anchorOutputIndex(tx, root);
    if (anchorAt < 0) {
      throw new RemembrancerError(
        'INVALID_ARGUMENT',
        `attempt ${replacing.txid} anchors another root: no replacement of it`,
      );
    }
    const spent = spentOutpoints(tx);
    if (replacing.inputs !== undefined && replacing.inputs.join() !== spent.join()) {
      throw new RemembrancerError('INVALID_ARGUMENT', `attempt ${replacing.txid} lists other inputs than it spends`);
    }
    const others = tx.outputs.filter((_, i) => i !== anchorAt);
    if (others.length !== 1) {
      throw new RemembrancerError(
        'INVALID_ARGUMENT',
        `attempt ${replacing.txid} has ${others.length} change outputs, not one`,
      );
    }
    const oldRate = replacing.fee.feeRateSatVb;
    if (typeof oldRate !== 'number' || !Number.isFinite(oldRate) || oldRate <= 0) {
      throw new RemembrancerError('INVALID_ARGUMENT', `attempt ${replacing.txid} has no positive fee rate`);
    }
    const oldFee = Number(replacing.fee.feeSats);
    if (!Number.isSafeInteger(oldFee) || oldFee < 0 || String(oldFee) !== replacing.fee.feeSats) {
      throw new RemembrancerError('INVALID_ARGUMENT', `attempt ${replacing.txid} has a fee that is not whole sats`);
    }
    const coins = await this.#replacedCoins(replacing.txid, spent, tx, oldFee);
    // Spent by the attempt already; claimed again in case that attempt is from before a restart.
    for (const c of coins) this.#claimed.add(c.outpoint);

    const fees = await nodeFeeRates(this.#rpc, this.#confTarget);
    const rate = replacementFeeRate(fees, this.#fallback, msatVbFromSatVb(oldRate), this.#cap);
    if (rate === undefined) return undefined;
    const signed = await this.#sign(coins, opReturnScript(root), others[0]!.script, (vsize) =>
      replacementFee(rate, vsize, oldFee, fees.increment),
    );
    // Rule 4 (the replaced fee plus the increment over the new size) may ask more than the cap allows.
    if (signed.fee > feeAt(this.#cap, signed.vsize)) return undefined;
    return bitcoinAttempt(signed, rate, replacing.txid);
  }

  /**
   * The coins a replacement spends again, as the best chain's UTXO set holds them (the mempool
   * has them spent by the attempt being replaced). One spent in a block means that attempt or a
   * conflict is mined: nothing is left to replace (CHAIN_TX_REJECTED).
   */
  async #replacedCoins(
    txid: string,
    outpoints: readonly string[],
    tx: BitcoinTransaction,
    oldFee: number,
  ): Promise<BitcoinCoin[]> {
    const coins: BitcoinCoin[] = [];
    for (const outpoint of outpoints) {
      const { txid: prev, vout } = parseOutpoint(outpoint);
      const coin = await nodeCoin(this.#rpc, prev, vout, false);
      if (coin === undefined) {
        throw new RemembrancerError(
          'CHAIN_TX_REJECTED',
          `input ${outpoint} of ${txid} is spent in a block (by it or a conflicting transaction): nothing to replace`,
        );
      }
      const kind = spendableScriptKind(coin.script);
      if (kind === undefined) throw new RemembrancerError('CHAIN_RPC_ERROR', `input ${outpoint} is no wallet script`);
      coins.push({ outpoint, txid: prev, vout, sats: coin.sats, script: coin.script, kind, address: coin.address });
    }
    const inputs = coins.reduce((sum, c) => sum + c.sats, 0);
    const outputs = tx.outputs.reduce((sum, o) => sum + Number(o.value), 0);
    if (inputs !== outputs + oldFee) {
      throw new RemembrancerError(
        'CHAIN_RPC_ERROR',
        `the node values the inputs of ${txid} at ${inputs} sats; its outputs and fee make ${outputs + oldFee}`,
      );
    }
    return coins;
  }

  /**
   * A fresh wallet change address, as a script. bcoin 1.0.2 encodes change addresses for mainnet
   * whatever its network, so its own node finds them invalid; the change then goes back to the
   * first input's script, the wallet's by construction.
   */
  async #changeScript(first: BitcoinCoin): Promise<Uint8Array> {
    const address = rpcString('getrawchangeaddress', await this.#wallet.call('getrawchangeaddress', []), 'an address');
    const checked = rpcObject('validateaddress', await this.#rpc.call('validateaddress', [address]));
    if (checked.isvalid !== true) return first.script;
    const script = rpcHex('validateaddress', checked.scriptPubKey, 'a scriptPubKey');
    return spendableScriptKind(script) === undefined ? first.script : script;
  }

  /**
   * Signs the anchor spending `coins` to the OP_RETURN and the change, paying what `feeFor` asks
   * for the signed transaction's own vsize. The first signing pays for an upper bound of the size;
   * each next one pays for the size the last one came out at, until a signing pays exactly for its
   * own size. Signatures vary by a byte and are deterministic (RFC 6979): a fee signed once is not
   * tried again, and if no signing fits exactly, the cheapest one that paid enough is kept.
   */
  async #sign(
    coins: readonly BitcoinCoin[],
    opReturn: Uint8Array,
    change: Uint8Array,
    feeFor: (vsize: number) => number,
  ): Promise<Signed> {
    const total = coins.reduce((sum, c) => sum + c.sats, 0);
    const sign = this.#signer.forCoins(coins);
    const tried = new Set<number>();
    let fee = feeFor(
      vsizeBound(
        coins.map((c) => c.kind),
        [opReturn.length, change.length],
      ),
    );
    let paid: Signed | undefined;
    while (tried.size < MAX_SIGNINGS && !tried.has(fee)) {
      tried.add(fee);
      const changeSats = total - fee;
      if (changeSats < CHANGE_MIN_SATS) {
        throw new RemembrancerError(
          'CHAIN_FUNDS',
          `inputs worth ${total} sats cannot pay a fee of ${fee} sats and keep ${CHANGE_MIN_SATS} sats of change`,
        );
      }
      const unsigned = writeUnsignedTransaction({
        version: TX_VERSION,
        inputs: coins.map((c) => ({ txid: c.txid, vout: c.vout, sequence: BIP125_SEQUENCE })),
        outputs: [
          { sats: 0, script: opReturn },
          { sats: changeSats, script: change },
        ],
        locktime: 0,
      });
      const raw = await sign(unsigned);
      const vsize = bitcoinVsize(raw);
      const due = feeFor(vsize);
      if (due <= fee && (paid === undefined || fee < paid.fee)) paid = { raw, vsize, fee };
      if (due === fee) break;
      fee = due;
    }
    if (paid === undefined) {
      throw new RemembrancerError('CHAIN_RPC_ERROR', `signatures kept outgrowing the fee in ${MAX_SIGNINGS} signings`);
    }
    return paid;
  }
}
