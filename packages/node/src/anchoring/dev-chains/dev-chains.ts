import { RemembrancerError, errorMessage } from '@vaultmesh/core';
import { startDevAnvil, type DevAnvil, type StartDevAnvilOptions } from './dev-anvil.js';
import { startDevBitcoin, type DevBitcoin, type StartDevBitcoinOptions } from './dev-bitcoin.js';
import { startDevBitcoinMiner, type DevBitcoinMiner } from './dev-bitcoin-miner.js';

/** A regtest block every this many ms unless asked otherwise: a confirmation a few seconds after an anchor. */
export const DEFAULT_DEV_BITCOIN_BLOCK_MS = 2_000;

export interface StartDevChainsOptions {
  /** anvil's options; false: no EVM chain. */
  evm?: StartDevAnvilOptions | false;
  /** bcoin's options and how often a block is mined; false: no Bitcoin chain. */
  bitcoin?: (StartDevBitcoinOptions & { blockMs?: number }) | false;
}

export interface DevChainUnavailable {
  chain: 'evm' | 'bitcoin';
  /** DevChainNotInstalledError when its package is missing, another RemembrancerError when it failed to start. */
  error: RemembrancerError;
}

/** The local dev chains of a federation: what runs, what does not and why, and how to stop it all. */
export interface DevChains {
  readonly anvil: DevAnvil | undefined;
  /** A funded wallet (DEV_BITCOIN_BLOCKS_TO_FUND blocks) with a miner adding blocks. */
  readonly bitcoin: DevBitcoin | undefined;
  readonly miner: DevBitcoinMiner | undefined;
  readonly unavailable: readonly DevChainUnavailable[];
  /** Stops the miner, then both chains. Idempotent. */
  stop(): Promise<void>;
}

function asRemembrancerError(e: unknown): RemembrancerError {
  return e instanceof RemembrancerError
    ? e
    : new RemembrancerError('CHAIN_RPC_UNREACHABLE', errorMessage(e), { cause: e });
}

async function startBitcoin(
  options: StartDevBitcoinOptions & { blockMs?: number },
): Promise<{ bitcoin: DevBitcoin; miner: DevBitcoinMiner }> {
  const bitcoin = await startDevBitcoin(options);
  try {
    // A wallet with mature coins before any node asks it to pay for an anchor.
    await bitcoin.fund();
    const miner = await startDevBitcoinMiner(bitcoin, { intervalMs: options.blockMs ?? DEFAULT_DEV_BITCOIN_BLOCK_MS });
    return { bitcoin, miner };
  } catch (e) {
    await bitcoin.stop();
    throw e;
  }
}

/**
 * Starts a local EVM chain (anvil) and a Bitcoin regtest node (bcoin, funded, mined) at once.
 * Never throws: a chain that is not installed or does not start is listed in `unavailable`, so a
 * caller goes on without it.
 */
export async function startDevChains(options: StartDevChainsOptions = {}): Promise<DevChains> {
  const unavailable: DevChainUnavailable[] = [];
  const [evm, btc] = await Promise.all([
    options.evm === false
      ? undefined
      : startDevAnvil(options.evm).catch((e: unknown) => {
          unavailable.push({ chain: 'evm', error: asRemembrancerError(e) });
          return undefined;
        }),
    options.bitcoin === false
      ? undefined
      : startBitcoin(options.bitcoin ?? {}).catch((e: unknown) => {
          unavailable.push({ chain: 'bitcoin', error: asRemembrancerError(e) });
          return undefined;
        }),
  ]);
  let stopped: Promise<void> | undefined;
  return {
    anvil: evm,
    bitcoin: btc?.bitcoin,
    miner: btc?.miner,
    unavailable: unavailable.sort((a, b) => a.chain.localeCompare(b.chain)),
    stop() {
      stopped ??= (async () => {
        await btc?.miner.stop();
        await Promise.all([evm?.stop(), btc?.bitcoin.stop()]);
      })();
      return stopped;
    },
  };
}
