import { RemembrancerError, decodeEvmBlockHeader, encodeEvmAnchorData, toHex, type ErrorCode } from '@vaultmesh/core';
import { hexToBytes, keccak256, numberToHex, type Hex } from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import type { ChainAttempt, ChainEvidence, ChainPayload, ChainSender, ChainTxStatus } from '../chain/chain-sender.js';
import { evmAnchorEvidence } from './evm-anchor-evidence.js';
import { gasLimitFor, initialFees, replacementFees, type EvmFeeCaps, type EvmFees } from './evm-fees.js';
import { rpcHash, rpcObject, rpcQuantity, rpcSafeInteger } from './evm-rpc-answer.js';
import { EvmRpcError, evmRpc, type EvmRpc } from './evm-rpc.js';

/** The tip cap when none is configured: what mainnet blocks have needed outside congestion. */
export const DEFAULT_EVM_MAX_PRIORITY_FEE_WEI = 2_000_000_000n;
/** The tip offered when the node has no eth_maxPriorityFeePerGas (within the caps). */
const FALLBACK_TIP_WEI = 1_000_000_000n;
/** 32-byte private key, 20-byte address. */
const PRIVATE_KEY = /^0x[0-9a-fA-F]{64}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
/** A signed anchor transaction is about 200 bytes; an attempt's raw beyond this is not ours. */
const MAX_RAW_HEX = 2 * 4096;

export interface EvmSenderOptions {
  /** The EIP-155 chain id the node must report and every transaction is signed for. */
  readonly chainId: number;
  readonly rpcUrl: string;
  /** The sending account's secp256k1 private key, `0x` and 64 hex digits. */
  readonly privateKey: `0x${string}`;
  /** The cap on the fee per gas any attempt offers, wei. */
  readonly maxFeePerGasWei: bigint;
  /** The cap on the tip per gas (default 2 gwei, never above maxFeePerGasWei). */
  readonly maxPriorityFeePerGasWei?: bigint;
  /** Where anchor transactions go (default: the sending account itself; nothing runs, the data is read back). */
  readonly to?: `0x${string}`;
  /** Bound on each RPC call, ms (default 10 s). */
  readonly timeoutMs?: number;
  /** The fetch the RPC client uses (default: the global one). */
  readonly fetch?: typeof globalThis.fetch;
}

/**
 * Node answers to eth_sendRawTransaction that refuse this transaction for good: its nonce is
 * used, a transaction of the same nonce pays more, or the transaction itself is unacceptable
 * (another chain, bad signature, too little gas). Messages of geth, anvil, Nethermind (OldNonce,
 * …) and Besu (NONCE_TOO_LOW, …). A base fee above the fee cap is not among them: it can fall.
 */
const REFUSED_FOR_GOOD =
  /nonce too low|oldnonce|nonce_too_low|underpriced|invalid chain ?id|wrong_chain_id|invalid sender|invalid signature|intrinsic gas too low|intrinsic_gas_exceeds_gas_limit|exceeds block gas limit|oversized|type not supported/i;
/** The node already has this very transaction: a broadcast that already happened. */
const ALREADY_KNOWN = /already known|already imported|known transaction|alreadyknown/i;
const NO_FUNDS = /insufficient funds|insufficient_funds|insufficientfunds/i;

const invalid = (message: string) => new RemembrancerError('INVALID_ARGUMENT', message);

function weiOption(name: string, value: unknown): bigint {
  if (typeof value !== 'bigint' || value <= 0n || value >= 1n << 256n) {
    throw invalid(`${name} must be a positive bigint of wei below 2^256`);
  }
  return value;
}

function decimalWei(value: unknown, what: string): bigint {
  if (typeof value !== 'string' || !/^(?:0|[1-9][0-9]{0,77})$/.test(value)) {
    throw invalid(`${what} must be a decimal string of wei`);
  }
  return BigInt(value);
}

interface AttemptFields {
  readonly txid: Hex;
  readonly raw: Uint8Array;
  readonly nonce: number;
}

/** Checks an attempt (from the journal, so from disk) before anything is sent or looked up for it. */
function attemptFields(attempt: ChainAttempt): AttemptFields {
  if (typeof attempt !== 'object' || attempt === null) throw invalid('an attempt must be an object');
  const { txid, raw, nonce } = attempt;
  if (typeof txid !== 'string' || !/^0x[0-9a-f]{64}$/.test(txid))
    throw invalid('an EVM attempt txid is 0x and 64 lower-case hex digits');
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_RAW_HEX || !/^(?:[0-9a-f]{2})+$/.test(raw)) {
    throw invalid('an EVM attempt raw is lower-case hex without 0x');
  }
  if (typeof nonce !== 'number' || !Number.isSafeInteger(nonce) || nonce < 0) {
    throw invalid('an EVM attempt has a non-negative integer nonce');
  }
  const bytes = hexToBytes(`0x${raw}`);
  if (keccak256(bytes) !== txid) throw invalid(`attempt ${txid}: its raw transaction hashes to another txid`);
  return { txid, raw: bytes, nonce };
}

function attemptFees(attempt: ChainAttempt): EvmFees & { gasLimit: bigint } {
  const fee = attempt.fee;
  if (fee?.kind !== 'eip1559') throw invalid(`attempt ${attempt.txid} has no EIP-1559 fee`);
  return {
    maxFeePerGas: decimalWei(fee.maxFeePerGas, 'maxFeePerGas'),
    maxPriorityFeePerGas: decimalWei(fee.maxPriorityFeePerGas, 'maxPriorityFeePerGas'),
    gasLimit: decimalWei(fee.gasLimit, 'gasLimit'),
  };
}

/** RFC 3339 UTC of a block timestamp, whole seconds. */
function rfc3339(seconds: number): string {
  // Date holds up to 8.64e15 ms; a timestamp past year 9999 has no 4-digit RFC 3339 year either.
  if (seconds > 253_402_300_799) {
    throw new RemembrancerError('CHAIN_RPC_ERROR', `the block timestamp ${seconds} is past the year 9999`);
  }
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Sends epoch anchors to an EVM chain from one account (issue 11, item 1): one EIP-1559
 * transaction per anchor, its data the 81-byte anchor layout (core's encodeEvmAnchorData), signed
 * here with the configured key (the node never holds it). Nonces come from the node's pending
 * count and from what this instance has handed out, one prepare at a time; fees from the latest
 * base fee and the node's tip estimate, within the caps; a replacement keeps the nonce and pays
 * more. Every failure is a RemembrancerError: CHAIN_RPC_UNREACHABLE, CHAIN_RPC_ERROR,
 * CHAIN_MISMATCH (the node is on another chain), CHAIN_TX_REJECTED, CHAIN_FUNDS, or
 * INVALID_ARGUMENT for unusable options or attempts.
 */
export class EvmSender implements ChainSender {
  readonly target: string;
  /** The sending account's address (checksummed). */
  readonly address: `0x${string}`;
  readonly #chainId: number;
  readonly #rpc: EvmRpc;
  readonly #account: PrivateKeyAccount;
  readonly #caps: EvmFeeCaps;
  readonly #to: `0x${string}`;
  #chainChecked = false;
  /** The highest nonce this instance has signed a new transaction with. */
  #highestNonce: number | undefined;
  /** Prepares run one after another, so two never read the same next nonce. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: EvmSenderOptions) {
    if (typeof options !== 'object' || options === null) throw invalid('EVM sender options must be an object');
    const { chainId, privateKey, to } = options;
    if (typeof chainId !== 'number' || !Number.isSafeInteger(chainId) || chainId < 1) {
      throw invalid('chainId must be a positive integer');
    }
    if (typeof privateKey !== 'string' || !PRIVATE_KEY.test(privateKey)) {
      throw invalid('the private key must be 0x and 64 hex digits');
    }
    try {
      this.#account = privateKeyToAccount(privateKey);
    } catch (cause) {
      // Zero or beyond the curve order: the message must not carry the key.
      throw new RemembrancerError('INVALID_ARGUMENT', 'the private key is not a valid secp256k1 key', { cause });
    }
    if (to !== undefined && (typeof to !== 'string' || !ADDRESS.test(to))) {
      throw invalid('to must be 0x and 40 hex digits');
    }
    const maxFee = weiOption('maxFeePerGasWei', options.maxFeePerGasWei);
    const tipCap = weiOption(
      'maxPriorityFeePerGasWei',
      options.maxPriorityFeePerGasWei ?? DEFAULT_EVM_MAX_PRIORITY_FEE_WEI,
    );
    this.#chainId = chainId;
    this.#caps = { maxFeePerGas: maxFee, maxPriorityFeePerGas: tipCap < maxFee ? tipCap : maxFee };
    this.#rpc = evmRpc({
      url: options.rpcUrl,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    });
    this.address = this.#account.address;
    this.#to = to ?? this.#account.address;
    this.target = `eip155:${chainId}`;
  }

  async prepare(payload: ChainPayload, replacing?: ChainAttempt): Promise<ChainAttempt | undefined> {
    const data = encodeEvmAnchorData(payload);
    if (replacing !== undefined) return this.#serially(() => this.#prepareReplacement(data, replacing));
    return this.#serially(async () => {
      await this.#checkChain();
      const pending = rpcSafeInteger(
        'eth_getTransactionCount',
        await this.#rpc.call('eth_getTransactionCount', [this.address, 'pending']),
        'a transaction count',
      );
      // The node's count misses a transaction this instance signed and the node has not seen
      // (not broadcast yet, or dropped): reusing its nonce would make the two conflict.
      const nonce = this.#highestNonce === undefined ? pending : Math.max(pending, this.#highestNonce + 1);
      const estimate = rpcQuantity(
        'eth_estimateGas',
        await this.#rpc.call('eth_estimateGas', [
          { from: this.address, to: this.#to, data: `0x${toHex(data)}`, value: '0x0' },
        ]),
        'a gas estimate',
      );
      const gasLimit = gasLimitFor(estimate, data);
      const fees = await this.#currentFees();
      const attempt = await this.#sign(data, nonce, gasLimit, fees);
      // Only a signed transaction takes the nonce: a failure before leaves no gap.
      this.#highestNonce = nonce;
      return attempt;
    });
  }

  async #prepareReplacement(data: Uint8Array, replacing: ChainAttempt): Promise<ChainAttempt | undefined> {
    const { txid, nonce } = attemptFields(replacing);
    const old = attemptFees(replacing);
    await this.#checkChain();
    const fees = replacementFees(old, await this.#currentFees(), this.#caps);
    if (fees === undefined) return undefined;
    // A replacement made after a restart tells this instance the nonce is taken.
    if (this.#highestNonce === undefined || nonce > this.#highestNonce) this.#highestNonce = nonce;
    return { ...(await this.#sign(data, nonce, old.gasLimit, fees)), replaces: txid };
  }

  async broadcast(attempt: ChainAttempt): Promise<void> {
    const { txid, raw } = attemptFields(attempt);
    await this.#checkChain();
    let answer: unknown;
    try {
      answer = await this.#rpc.call('eth_sendRawTransaction', [`0x${toHex(raw)}`]);
    } catch (e) {
      if (!(e instanceof EvmRpcError)) throw e;
      if (ALREADY_KNOWN.test(e.rpcMessage)) return;
      // Resent after it was mined, a transaction is refused as "nonce too low" by its own nonce.
      if ((await this.#rpc.call('eth_getTransactionByHash', [txid])) !== null) return;
      const code: ErrorCode | undefined = NO_FUNDS.test(e.rpcMessage)
        ? 'CHAIN_FUNDS'
        : REFUSED_FOR_GOOD.test(e.rpcMessage)
          ? 'CHAIN_TX_REJECTED'
          : undefined;
      if (code === undefined) throw e;
      throw new RemembrancerError(code, `${this.target} refused transaction ${txid}: ${e.rpcMessage}`, { cause: e });
    }
    const sent = rpcHash('eth_sendRawTransaction', answer, 'a transaction hash');
    if (sent !== txid) {
      throw new RemembrancerError('CHAIN_RPC_ERROR', `eth_sendRawTransaction answered hash ${sent} for ${txid}`);
    }
  }

  async status(attempt: ChainAttempt): Promise<ChainTxStatus> {
    const { txid, nonce } = attemptFields(attempt);
    await this.#checkChain();
    // Read before the receipt: a nonce already used then was used by a transaction whose receipt
    // the next call sees if it is ours, so "conflicted" never races our own inclusion.
    const used = rpcSafeInteger(
      'eth_getTransactionCount',
      await this.#rpc.call('eth_getTransactionCount', [this.address, 'latest']),
      'a transaction count',
    );
    const included = await this.#included(txid);
    if (included !== undefined) return included;
    if (used > nonce) return { state: 'conflicted' };
    const known = await this.#rpc.call('eth_getTransactionByHash', [txid]);
    return known === null ? { state: 'missing' } : { state: 'pending' };
  }

  async evidence(attempt: ChainAttempt, blockHash: string): Promise<ChainEvidence> {
    const { txid } = attemptFields(attempt);
    await this.#checkChain();
    const evidence = await evmAnchorEvidence(this.#rpc, txid, blockHash);
    const header = decodeEvmBlockHeader(hexToBytes(evidence.header as Hex));
    return {
      evidence: { type: 'eip155', chain_id: this.#chainId, ...evidence },
      blockHash: blockHash.toLowerCase(),
      height: header.number,
      blockTime: rfc3339(header.timestamp),
    };
  }

  async close(): Promise<void> {
    // Each call is one HTTP request: nothing stays open.
  }

  /** The receipt's block, if it is the node's canonical block at that height. */
  async #included(txid: Hex): Promise<ChainTxStatus | undefined> {
    const method = 'eth_getTransactionReceipt';
    const answer = await this.#rpc.call(method, [txid]);
    if (answer === null) return undefined;
    const receipt = rpcObject(method, answer, 'a receipt');
    // Some nodes answer a receipt for a pending transaction, without a block.
    if (receipt.blockHash === null || receipt.blockHash === undefined) return undefined;
    const blockHash = rpcHash(method, receipt.blockHash, 'a block hash');
    const height = rpcSafeInteger(method, receipt.blockNumber, 'a block number');
    const gasUsed = rpcQuantity(method, receipt.gasUsed, 'gasUsed');
    const price = rpcQuantity(method, receipt.effectiveGasPrice, 'effectiveGasPrice');

    const canonical = await this.#rpc.call('eth_getBlockByNumber', [numberToHex(height), false]);
    if (canonical === null) return undefined;
    const at = rpcHash(
      'eth_getBlockByNumber',
      rpcObject('eth_getBlockByNumber', canonical, 'a block').hash,
      'a block hash',
    );
    if (at !== blockHash) return undefined;
    const head = rpcSafeInteger('eth_blockNumber', await this.#rpc.call('eth_blockNumber', []), 'a block number');
    // A head below the block: the chain was cut back between the two calls.
    if (head < height) return undefined;
    return {
      state: 'included',
      blockHash,
      height,
      confirmations: head - height + 1,
      cost: { kind: 'eip1559', gasUsed: gasUsed.toString(), feeWei: (gasUsed * price).toString() },
    };
  }

  /** What a new attempt would offer now: twice the latest base fee plus the node's tip, capped. */
  async #currentFees(): Promise<EvmFees> {
    const method = 'eth_getBlockByNumber';
    const latest = rpcObject(method, await this.#rpc.call(method, ['latest', false]), 'a block');
    if (latest.baseFeePerGas === undefined || latest.baseFeePerGas === null) {
      throw new RemembrancerError(
        'CHAIN_RPC_ERROR',
        `${this.target}'s latest block has no base fee (EIP-1559 is not active)`,
      );
    }
    const baseFee = rpcQuantity(method, latest.baseFeePerGas, 'a base fee');
    let tip: bigint;
    try {
      tip = rpcQuantity('eth_maxPriorityFeePerGas', await this.#rpc.call('eth_maxPriorityFeePerGas', []), 'a tip');
    } catch (e) {
      if (!(e instanceof EvmRpcError)) throw e;
      tip = FALLBACK_TIP_WEI;
    }
    return initialFees(baseFee, tip, this.#caps);
  }

  async #sign(data: Uint8Array, nonce: number, gasLimit: bigint, fees: EvmFees): Promise<ChainAttempt> {
    const balance = rpcQuantity(
      'eth_getBalance',
      await this.#rpc.call('eth_getBalance', [this.address, 'latest']),
      'a balance',
    );
    const most = gasLimit * fees.maxFeePerGas;
    if (balance < most) {
      throw new RemembrancerError(
        'CHAIN_FUNDS',
        `${this.address} holds ${balance} wei on ${this.target}, less than the ${most} wei an anchor may cost (gas ${gasLimit} × ${fees.maxFeePerGas})`,
      );
    }
    const signed = await this.#account.signTransaction({
      type: 'eip1559',
      chainId: this.#chainId,
      nonce,
      to: this.#to,
      value: 0n,
      data: `0x${toHex(data)}`,
      gas: gasLimit,
      maxFeePerGas: fees.maxFeePerGas,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    });
    return {
      txid: keccak256(signed),
      raw: signed.slice(2).toLowerCase(),
      nonce,
      fee: {
        kind: 'eip1559',
        maxFeePerGas: fees.maxFeePerGas.toString(),
        maxPriorityFeePerGas: fees.maxPriorityFeePerGas.toString(),
        gasLimit: gasLimit.toString(),
      },
    };
  }

  /** The node must be on this sender's chain; checked once, then trusted for this instance. */
  async #checkChain(): Promise<void> {
    if (this.#chainChecked) return;
    const reported = rpcQuantity('eth_chainId', await this.#rpc.call('eth_chainId', []), 'a chain id');
    if (reported !== BigInt(this.#chainId)) {
      throw new RemembrancerError(
        'CHAIN_MISMATCH',
        `the node at ${this.#rpc.url} is on chain ${reported}, not ${this.#chainId} (${this.target})`,
      );
    }
    this.#chainChecked = true;
  }

  #serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
