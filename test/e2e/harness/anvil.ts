import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** anvil listens in well under a second; a loaded CI machine gets the rest. */
const DEFAULT_START_TIMEOUT_MS = 15_000;
const DEFAULT_CALL_TIMEOUT_MS = 10_000;
/** How long stop() waits after SIGTERM, and again after SIGKILL. */
const STOP_TIMEOUT_MS = 5_000;
/** The tail of anvil's output kept for error messages. */
const OUTPUT_TAIL_BYTES = 16 * 1024;

/** A local EVM chain: anvil from @foundry-rs/anvil in a child process, reachable only on 127.0.0.1. */
export interface Anvil {
  /** The JSON-RPC endpoint, `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** The chain id from anvil's banner (31337 unless `--chain-id` says otherwise). */
  readonly chainId: number;
  /** The funded dev accounts' private keys, in banner order (`(0) 0x…`). */
  readonly keys: readonly `0x${string}`[];
  /**
   * A JSON-RPC call, apart from any client under test so the two check each other: its result,
   * or an AnvilRpcError with anvil's error message and code.
   */
  rpc(method: string, params?: readonly unknown[]): Promise<unknown>;
  /** SIGTERM, SIGKILL if it has not exited in time. Idempotent. */
  stop(): Promise<void>;
}

export interface StartAnvilOptions {
  /** Extra arguments, e.g. `['--no-mining']`, `['--block-time', '1']`, `['--chain-id', '5']`. */
  args?: readonly string[];
  startTimeoutMs?: number;
  callTimeoutMs?: number;
}

export class AnvilRpcError extends Error {
  readonly code: number | undefined;

  constructor(method: string, message: string, code: number | undefined) {
    super(`${method}: ${message} (RPC error ${String(code)})`);
    this.name = 'AnvilRpcError';
    this.code = code;
  }
}

/** The anvil binary of @foundry-rs/anvil for this platform (its optional dependency). */
export function anvilBinary(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}/package.json`;
  return join(dirname(createRequire(import.meta.url).resolve(pkg)), 'bin', 'anvil');
}

/** Resolves once the child has exited, or after `ms` (then whether it exited is in child.exitCode). */
function exited(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await exited(child, STOP_TIMEOUT_MS);
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await exited(child, STOP_TIMEOUT_MS);
}

async function jsonRpc(url: string, timeoutMs: number, method: string, params: readonly unknown[]): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let body: { result?: unknown; error?: { code?: number; message?: string } | null };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new AnvilRpcError(method, `HTTP ${res.status} ${text.slice(0, 200)}`, undefined);
  }
  if (body.error) throw new AnvilRpcError(method, body.error.message ?? JSON.stringify(body.error), body.error.code);
  return body.result;
}

/** What the banner says: the dev keys (the "Private Keys" section) and the chain id. */
function readBanner(out: string): { keys: `0x${string}`[]; chainId: number } {
  const keysAt = out.indexOf('Private Keys');
  const keys = [...out.slice(keysAt).matchAll(/^\((\d+)\) (0x[0-9a-fA-F]{64})$/gm)].map((m) => m[2] as `0x${string}`);
  const chain = /Chain ID\s*=+\s*(\d+)/.exec(out);
  if (keysAt < 0 || keys.length === 0 || chain === null) {
    throw new Error(`no private keys or chain id in anvil's banner:\n${out}`);
  }
  return { keys, chainId: Number(chain[1]) };
}

/**
 * Starts anvil on a port the OS picks (`--port 0`, read back from its "Listening on" line) with
 * `args` added, and resolves once it listens. A test process that exits without stop() takes
 * anvil with it.
 */
export async function startAnvil(options: StartAnvilOptions = {}): Promise<Anvil> {
  const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const child = spawn(anvilBinary(), ['--port', '0', '--host', '127.0.0.1', ...(options.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let out = '';
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
  };
  // Drained for the whole run so a full pipe never blocks anvil (it logs every call).
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      try {
        await terminate(child);
      } finally {
        process.removeListener('exit', killOnExit);
      }
    })());

  let started: { port: number; keys: `0x${string}`[]; chainId: number };
  try {
    started = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => finish(new Error(`anvil did not listen within ${startTimeoutMs} ms:\n${out}`)),
        startTimeoutMs,
      );
      const onData = () => {
        const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(out);
        if (m) finish(undefined, Number(m[1]));
      };
      const onExit = (code: number | null, signal: string | null) =>
        finish(new Error(`anvil exited (${code ?? signal}) before it listened:\n${out}`));
      function finish(error: Error | undefined, port?: number) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.removeListener('exit', onExit);
        child.removeListener('error', finish);
        if (error) reject(error);
        else {
          try {
            resolve({ port: port!, ...readBanner(out) });
          } catch (e) {
            reject(e as Error);
          }
        }
      }
      child.stdout.on('data', onData);
      child.once('exit', onExit);
      child.once('error', finish);
    });
  } catch (e) {
    await stop();
    throw e;
  }
  const { port, keys, chainId } = started;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    chainId,
    keys,
    rpc: (method, params = []) => jsonRpc(url, callTimeoutMs, method, params),
    stop,
  };
}
