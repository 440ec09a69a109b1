import type { DevBitcoin } from './dev-bitcoin.js';

/** Mines a regtest block now and then, as the network would: anchor transactions need blocks to confirm. */
export interface DevBitcoinMiner {
  /** Blocks mined so far. */
  mined(): number;
  /** The last mining failure, if the last attempt failed (the node stopping, say). */
  lastError(): unknown;
  /** No more blocks; resolves once a block being mined is done. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Mines one block every `intervalMs` paying `address` (the wallet's by default, so the wallet's
 * coins keep maturing). A failure is kept for lastError() and mining goes on: a dev chain under
 * load can refuse one block and take the next. Its timer does not keep this process alive.
 */
export async function startDevBitcoinMiner(
  bitcoin: DevBitcoin,
  options: { intervalMs: number; address?: string },
): Promise<DevBitcoinMiner> {
  const address = options.address ?? (await bitcoin.walletAddress());
  let mined = 0;
  let lastError: unknown;
  let stopping = false;
  let current: Promise<void> = Promise.resolve();
  let timer: ReturnType<typeof setTimeout> | undefined;

  // One block at a time: the next is scheduled once the last is done, so a slow node never has two.
  const schedule = () => {
    if (stopping) return;
    timer = setTimeout(() => {
      current = bitcoin.call('generatetoaddress', [1, address]).then(
        () => {
          mined += 1;
          lastError = undefined;
        },
        (e: unknown) => {
          lastError = e;
        },
      );
      void current.then(schedule);
    }, options.intervalMs);
    timer.unref();
  };
  schedule();

  let stopped: Promise<void> | undefined;
  return {
    mined: () => mined,
    lastError: () => lastError,
    stop() {
      stopped ??= (async () => {
        stopping = true;
        clearTimeout(timer);
        await current;
      })();
      return stopped;
    },
  };
}
