import { parseCadenceTarget, MAX_CADENCE_CONFIRMATIONS } from '@vaultmesh/core';
import {
  durationMs,
  httpUrl,
  integerIn,
  invalid,
  isObject,
  onlyMembers,
  readSecret,
  secretFile,
} from './anchoring-members.js';

/*
 * Chain targets in config.json's `anchoring.targets` (issue 11, items 1 and 3):
 *
 *   "eip155:31337": {
 *     "rpcUrl": "http://127.0.0.1:8545",
 *     "keyFile": "evm-anchor.key",          // 0x + 64 hex digits, mode 0600
 *     "maxFeePerGasWei": "50000000000",     // the cap: no attempt offers more per gas
 *     "maxPriorityFeePerGasWei": "2000000000",
 *     "confirmations": 2,
 *     "epochMs": 60000
 *   },
 *   "btc:regtest": {
 *     "rpcUrl": "http://127.0.0.1:18443/",
 *     "walletUrl": "http://127.0.0.1:18443/wallet/anchor",
 *     "passwordFile": "btc-rpc.pass",       // the RPC password, mode 0600
 *     "maxFeeRateSatVb": 50,
 *     "confirmations": 1,
 *     "epochMs": 600000
 *   }
 *
 * A chain anchor is final at `confirmations` blocks (its block is the first); a namespace's cadence
 * level naming the target must not ask for more (the node refuses that policy). An attempt not in a
 * block after `replaceAfterMs` is replaced by one paying more, up to the cap.
 */

interface ChainTargetCommon {
  readonly id: string;
  readonly epochMs: number;
  readonly rpcUrl: string;
  /** Blocks (the anchor's own included) before an anchor is final. */
  readonly confirmations: number;
  /** An attempt not included this long after it was sent is replaced by one paying more, ms. */
  readonly replaceAfterMs: number;
  /** How often the chain is asked about an anchor in flight, ms. */
  readonly pollMs: number;
  /** How long one leader has for an epoch before the next takes over, ms (blocks take time). */
  readonly leaderTimeoutMs: number;
  /** Bound on one RPC call, ms. */
  readonly rpcTimeoutMs: number;
}

export interface EvmTargetConfig extends ChainTargetCommon {
  readonly kind: 'eip155';
  readonly chainId: number;
  /** The path of the sending account's key file (0600); read when the target starts. */
  readonly keyFile: string;
  readonly maxFeePerGasWei: bigint;
  readonly maxPriorityFeePerGasWei: bigint;
  /** Where anchor transactions go (default: the sending account itself). */
  readonly to?: `0x${string}`;
}

export interface BitcoinTargetConfig extends ChainTargetCommon {
  readonly kind: 'btc';
  readonly network: string;
  /** The wallet's JSON-RPC endpoint (bitcoind: /wallet/<name>; default rpcUrl). */
  readonly walletUrl: string;
  readonly rpcUser: string;
  /** The path of the RPC password file (0600); read when the target starts. */
  readonly passwordFile: string;
  readonly maxFeeRateSatVb: number;
  /** The fee rate when the node has no estimate (a fresh regtest or signet node), sat/vB. */
  readonly fallbackFeeRateSatVb: number;
  /** The estimatesmartfee confirmation target, blocks. */
  readonly confTarget: number;
}

export const DEFAULT_CHAIN_EPOCH_MS = 600_000;
export const DEFAULT_CHAIN_POLL_MS = 1_000;
export const DEFAULT_CHAIN_RPC_TIMEOUT_MS = 10_000;

const COMMON = ['rpcUrl', 'confirmations', 'epochMs', 'replaceAfterMs', 'pollMs', 'leaderTimeoutMs', 'rpcTimeoutMs'];
const EVM_MEMBERS = new Set([...COMMON, 'keyFile', 'maxFeePerGasWei', 'maxPriorityFeePerGasWei', 'to']);
const BTC_MEMBERS = new Set([
  ...COMMON,
  'walletUrl',
  'rpcUser',
  'passwordFile',
  'maxFeeRateSatVb',
  'fallbackFeeRateSatVb',
  'confTarget',
]);
const DAY_MS = 86_400_000;
const PRIVATE_KEY = /^0x[0-9a-fA-F]{64}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const MAX_WEI = 10n ** 30n;

function wei(file: string, pointer: string, v: unknown, fallback: bigint | undefined): bigint {
  if (v === undefined && fallback !== undefined) return fallback;
  const text = typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : v;
  if (typeof text !== 'string' || !/^[0-9]{1,31}$/.test(text) || BigInt(text) === 0n || BigInt(text) > MAX_WEI)
    invalid(file, pointer, 'must be a positive whole number of wei (a decimal string; 1 gwei = "1000000000")');
  return BigInt(text);
}

function satPerVb(file: string, pointer: string, v: unknown, fallback: number | undefined): number {
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 1 || v > 100_000)
    invalid(file, pointer, 'must be a fee rate from 1 to 100000 sat/vB');
  return v;
}

function common(file: string, pointer: string, v: Record<string, unknown>, confirmationsFallback: number) {
  const pollMs = durationMs(file, `${pointer}.pollMs`, v.pollMs, DEFAULT_CHAIN_POLL_MS, 10, 600_000);
  const epochMs = durationMs(file, `${pointer}.epochMs`, v.epochMs, DEFAULT_CHAIN_EPOCH_MS, 1_000, 366 * DAY_MS);
  return {
    rpcUrl: httpUrl(file, `${pointer}.rpcUrl`, v.rpcUrl),
    confirmations: integerIn(
      file,
      `${pointer}.confirmations`,
      v.confirmations,
      confirmationsFallback,
      1,
      MAX_CADENCE_CONFIRMATIONS,
    ),
    epochMs,
    replaceAfterMs: durationMs(file, `${pointer}.replaceAfterMs`, v.replaceAfterMs, 10 * epochMs, 100, 30 * DAY_MS),
    pollMs,
    leaderTimeoutMs: durationMs(file, `${pointer}.leaderTimeoutMs`, v.leaderTimeoutMs, epochMs, 100, 30 * DAY_MS),
    rpcTimeoutMs: durationMs(
      file,
      `${pointer}.rpcTimeoutMs`,
      v.rpcTimeoutMs,
      DEFAULT_CHAIN_RPC_TIMEOUT_MS,
      100,
      600_000,
    ),
  };
}

export function parseEvmTarget(file: string, id: string, v: unknown, dataDir: string): EvmTargetConfig {
  const pointer = `.targets["${id}"]`;
  let chainId: number;
  try {
    const t = parseCadenceTarget(id);
    if (t.kind !== 'eip155') throw new Error();
    chainId = t.chainId;
  } catch {
    invalid(file, pointer, 'is not eip155:<chain id> (a decimal chain id from 1 to 2^53-1)');
  }
  if (!isObject(v)) invalid(file, pointer, 'must be an object {rpcUrl, keyFile, maxFeePerGasWei, ...}');
  onlyMembers(file, pointer, v, EVM_MEMBERS);
  const keyFile = secretFile(file, `${pointer}.keyFile`, v.keyFile, dataDir);
  if (!PRIVATE_KEY.test(readSecret(keyFile)))
    invalid(file, `${pointer}.keyFile`, `names ${keyFile}, which does not hold one 0x-prefixed 32-byte hex key`);
  const maxFeePerGasWei = wei(file, `${pointer}.maxFeePerGasWei`, v.maxFeePerGasWei, undefined);
  const maxPriorityFeePerGasWei = wei(
    file,
    `${pointer}.maxPriorityFeePerGasWei`,
    v.maxPriorityFeePerGasWei,
    maxFeePerGasWei < 2_000_000_000n ? maxFeePerGasWei : 2_000_000_000n,
  );
  if (maxPriorityFeePerGasWei > maxFeePerGasWei)
    invalid(file, `${pointer}.maxPriorityFeePerGasWei`, 'must not exceed maxFeePerGasWei');
  if (v.to !== undefined && (typeof v.to !== 'string' || !ADDRESS.test(v.to)))
    invalid(file, `${pointer}.to`, 'must be a 0x-prefixed 20-byte hex address');
  return {
    kind: 'eip155',
    id,
    chainId,
    keyFile,
    maxFeePerGasWei,
    maxPriorityFeePerGasWei,
    ...(v.to === undefined ? {} : { to: v.to as `0x${string}` }),
    ...common(file, pointer, v, 2),
  };
}

export function parseBitcoinTarget(file: string, id: string, v: unknown, dataDir: string): BitcoinTargetConfig {
  const pointer = `.targets["${id}"]`;
  let network: string;
  try {
    const t = parseCadenceTarget(id);
    if (t.kind !== 'btc') throw new Error();
    network = t.network;
  } catch {
    invalid(file, pointer, 'is not btc:<network> (mainnet, testnet, testnet4, signet or regtest)');
  }
  if (!isObject(v)) invalid(file, pointer, 'must be an object {rpcUrl, passwordFile, maxFeeRateSatVb, ...}');
  onlyMembers(file, pointer, v, BTC_MEMBERS);
  const c = common(file, pointer, v, 1);
  if (v.rpcUser !== undefined && (typeof v.rpcUser !== 'string' || !/^[!-9;-~]{1,64}$/.test(v.rpcUser)))
    invalid(file, `${pointer}.rpcUser`, 'must be 1 to 64 printable characters without ":"');
  const maxFeeRateSatVb = satPerVb(file, `${pointer}.maxFeeRateSatVb`, v.maxFeeRateSatVb, undefined);
  const fallbackFeeRateSatVb = satPerVb(
    file,
    `${pointer}.fallbackFeeRateSatVb`,
    v.fallbackFeeRateSatVb,
    Math.min(2, maxFeeRateSatVb),
  );
  if (fallbackFeeRateSatVb > maxFeeRateSatVb)
    invalid(file, `${pointer}.fallbackFeeRateSatVb`, 'must not exceed maxFeeRateSatVb');
  return {
    kind: 'btc',
    id,
    network,
    ...c,
    walletUrl: v.walletUrl === undefined ? c.rpcUrl : httpUrl(file, `${pointer}.walletUrl`, v.walletUrl),
    rpcUser: typeof v.rpcUser === 'string' ? v.rpcUser : 'x',
    passwordFile: secretFile(file, `${pointer}.passwordFile`, v.passwordFile, dataDir),
    maxFeeRateSatVb,
    fallbackFeeRateSatVb,
    confTarget: integerIn(file, `${pointer}.confTarget`, v.confTarget, 6, 1, 1008),
  };
}
