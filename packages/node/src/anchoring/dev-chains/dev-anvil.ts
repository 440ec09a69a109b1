import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { RemembrancerError } from '@vaultmesh/core';
import { devChainScript, stopWithThisProcess, outputTail, resolveDevPackage, terminate } from './dev-chain-process.js';

/** anvil listens in well under a second; a loaded machine gets the rest. */
const DEFAULT_START_TIMEOUT_MS = 15_000;
/** The tail of anvil's output kept for error messages (its banner is about 4 KiB). */
const OUTPUT_TAIL_BYTES = 16 * 1024;

export interface StartDevAnvilOptions {
  /** Funded dev accounts (anvil's default is 10); `federation up` asks for one per node and one spare. */
  accounts?: number;
  /** Seconds between blocks (interval mining); default 1. */
  blockTimeS?: number;
  startTimeoutMs?: number;
}

/** A local EVM dev chain: anvil from the @foundry-rs/anvil npm package, on 127.0.0.1 only. */
export interface DevAnvil {
  /** The JSON-RPC endpoint, `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** From anvil's banner: 31337 unless configured otherwise. */
  readonly chainId: number;
  /** The funded dev accounts' private keys, in banner order (`(0) 0x…`). */
  readonly keys: readonly `0x${string}`[];
  /** SIGTERM, SIGKILL if it has not exited in time. Idempotent. */
  stop(): Promise<void>;
}

/** The anvil binary of @foundry-rs/anvil for this platform: the package ships it in an optional dependency per platform. */
export function devAnvilBinary(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  return join(dirname(resolveDevPackage('@foundry-rs/anvil', `${pkg}/package.json`)), 'bin', 'anvil');
}

/** What the banner says: the dev keys (its "Private Keys" section) and the chain id. */
function readBanner(out: string): { keys: `0x${string}`[]; chainId: number } {
  const keysAt = out.indexOf('Private Keys');
  const keys = [...out.slice(keysAt).matchAll(/^\((\d+)\) (0x[0-9a-fA-F]{64})$/gm)].map((m) => m[2] as `0x${string}`);
  const chain = /Chain ID\s*=+\s*(\d+)/.exec(out);
  if (keysAt < 0 || keys.length === 0 || chain === null)
    throw new RemembrancerError('CHAIN_RPC_ERROR', `no private keys or chain id in anvil's banner:\n${out}`);
  return { keys, chainId: Number(chain[1]) };
}

/**
 * Starts anvil on a port the OS picks (`--port 0`, read back from its "Listening on" line) with
 * interval mining, and resolves once it listens. It runs under exit-with-stdin.mjs, so it ends
 * with this process even when this process is killed outright.
 */
export async function startDevAnvil(options: StartDevAnvilOptions = {}): Promise<DevAnvil> {
  const binary = devAnvilBinary();
  const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const args = ['--port', '0', '--host', '127.0.0.1', '--block-time', String(options.blockTimeS ?? 1)];
  if (options.accounts !== undefined) args.push('--accounts', String(options.accounts));
  const child = spawn(process.execPath, [devChainScript('exit-with-stdin.mjs'), binary, ...args], {
    // stdin stays open and unused: the guard stops anvil when it closes.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const unhook = stopWithThisProcess(child);
  const output = outputTail(child, OUTPUT_TAIL_BYTES);
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= terminate(child).finally(unhook));

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          finish(
            new RemembrancerError(
              'CHAIN_RPC_UNREACHABLE',
              `anvil did not listen within ${startTimeoutMs} ms:\n${output()}`,
            ),
          ),
        startTimeoutMs,
      );
      const onData = () => {
        const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(output());
        if (m) finish(undefined, Number(m[1]));
      };
      const onExit = (code: number | null, signal: string | null) =>
        finish(
          new RemembrancerError(
            'CHAIN_RPC_UNREACHABLE',
            `anvil exited (${code ?? signal}) before it listened:\n${output()}`,
          ),
        );
      function finish(error: Error | undefined, listening?: number) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.removeListener('exit', onExit);
        child.removeListener('error', finish);
        if (error) reject(error);
        else resolve(listening!);
      }
      child.stdout.on('data', onData);
      child.once('exit', onExit);
      child.once('error', finish);
    });
  } catch (e) {
    await stop();
    throw e;
  }
  let banner: { keys: `0x${string}`[]; chainId: number };
  try {
    banner = readBanner(output());
  } catch (e) {
    await stop();
    throw e;
  }
  return { url: `http://127.0.0.1:${port}`, port, ...banner, stop };
}
