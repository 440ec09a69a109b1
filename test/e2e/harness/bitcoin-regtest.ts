import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./bcoin-regtest-main.mjs', import.meta.url));
/** bcoin opens in well under a second here; its JS crypto and a loaded CI machine get the rest. */
const DEFAULT_START_TIMEOUT_MS = 20_000;
const DEFAULT_CALL_TIMEOUT_MS = 15_000;
/** How long stop() waits after SIGTERM, and again after SIGKILL. */
const STOP_TIMEOUT_MS = 5_000;
/** The tail of the node's stderr kept for error messages. */
const STDERR_TAIL_BYTES = 8 * 1024;

/** A bcoin regtest node (with its wallet) in a child process, reachable only on 127.0.0.1. */
export interface BitcoinRegtest {
  /** The node's bitcoind-compatible JSON-RPC endpoint. */
  readonly rpcUrl: string;
  /** The wallet's JSON-RPC endpoint (bcoin serves wallet methods on a server of their own). */
  readonly walletUrl: string;
  /** The basic-auth password of both endpoints (any user name). */
  readonly apiKey: string;
  /** A node RPC call: its result, or an Error with the node's error message and code. */
  call(method: string, params?: readonly unknown[]): Promise<unknown>;
  walletCall(method: string, params?: readonly unknown[]): Promise<unknown>;
  /**
   * The wallet's receiving address, encoded for regtest (bcoin 1.0.2's getnewaddress and
   * getrawchangeaddress encode for mainnet; getaccountaddress uses the wallet's network).
   */
  walletAddress(): Promise<string>;
  /**
   * Mines `blocks` blocks paying `address` (default: the wallet) and returns their hashes. When
   * they pay the wallet, resolves once the wallet has seen the last one (it follows the chain
   * asynchronously), so its listunspent counts them.
   */
  mine(blocks: number, address?: string): Promise<string[]>;
  /**
   * Mines BLOCKS_TO_FUND blocks to the wallet: coinbase outputs mature at 100 confirmations, so
   * the first ten are spendable (at 101 confirmations and more: see COINBASE_SPEND_CONFIRMATIONS).
   */
  fund(): Promise<string[]>;
  /**
   * invalidateblock: the block and its descendants leave the best chain. bcoin resets its chain to
   * the block's parent and empties its mempool: the transactions of those blocks are gone from the
   * node, not back in its mempool as Bitcoin Core would put them.
   */
  invalidateBlock(hash: string): Promise<void>;
  /** SIGTERM, SIGKILL if it has not exited in time, then removes its directory. Idempotent. */
  stop(): Promise<void>;
}

export interface StartBitcoinRegtestOptions {
  startTimeoutMs?: number;
  callTimeoutMs?: number;
  /**
   * Whether the mempool takes transactions signalling BIP 125 replaceability (default true, as
   * Bitcoin Core does). bcoin 1.0.2 replaces nothing either way: a transaction spending an output
   * a mempool transaction spends is refused whatever its fee.
   */
  replaceByFee?: boolean;
}

/** Blocks fund() mines: 10 coinbase outputs of 50 BTC past maturity. */
export const BLOCKS_TO_FUND = 110;
/** How long mine() waits for the wallet to catch up. */
const WALLET_SYNC_TIMEOUT_MS = 15_000;
const WALLET_SYNC_POLL_MS = 25;

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

/** A JSON-RPC 1.0 call, kept apart from the client under test so the two check each other. */
async function jsonRpc(
  url: string,
  apiKey: string,
  timeoutMs: number,
  method: string,
  params: readonly unknown[],
): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`x:${apiKey}`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ method, params, id: 1 }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let body: { result?: unknown; error?: { code?: number; message?: string } | null };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(`${method}: HTTP ${res.status} ${text.slice(0, 200)}`);
  }
  if (body.error) throw new Error(`${method}: ${body.error.message} (RPC error ${body.error.code})`);
  return body.result;
}

/**
 * Starts bcoin-regtest-main.mjs with this Node (`process.execPath`) and resolves once its node
 * and wallet HTTP servers listen on the ports the OS picked. Nothing is shared between two
 * nodes: each has its own random API key and its own empty directory.
 */
export async function startBitcoinRegtest(options: StartBitcoinRegtestOptions = {}): Promise<BitcoinRegtest> {
  const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const apiKey = randomBytes(24).toString('hex');
  const prefix = mkdtempSync(join(tmpdir(), 'remembrancer-bcoin-'));
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      BCOIN_REGTEST_API_KEY: apiKey,
      BCOIN_REGTEST_PREFIX: prefix,
      BCOIN_REGTEST_REPLACE_BY_FEE: options.replaceByFee === false ? '0' : '1',
    },
    // stdin stays open: the node exits when it closes, so it does not outlive a killed test.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // A test process that exits without stop() (a crash, process.exit) takes the node with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-STDERR_TAIL_BYTES);
  });

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      try {
        await terminate(child);
      } finally {
        process.removeListener('exit', killOnExit);
        rmSync(prefix, { recursive: true, force: true });
      }
    })());

  let ready: { rpcUrl: string; walletUrl: string };
  try {
    ready = await new Promise((resolve, reject) => {
      const lines = createInterface({ input: child.stdout });
      const timer = setTimeout(
        () => reject(new Error(`bcoin regtest did not start within ${startTimeoutMs} ms; stderr: ${stderr}`)),
        startTimeoutMs,
      );
      const done = () => {
        clearTimeout(timer);
        child.removeListener('exit', onExit);
        child.removeListener('error', reject);
      };
      const onExit = (code: number | null, signal: string | null) => {
        done();
        reject(new Error(`bcoin regtest exited (${code ?? signal}) before it was ready; stderr: ${stderr}`));
      };
      child.once('exit', onExit);
      child.once('error', reject);
      lines.once('line', (line) => {
        done();
        try {
          const parsed = JSON.parse(line) as { rpcUrl?: unknown; walletUrl?: unknown };
          if (typeof parsed.rpcUrl !== 'string' || typeof parsed.walletUrl !== 'string') throw new Error('no URLs');
          resolve({ rpcUrl: parsed.rpcUrl, walletUrl: parsed.walletUrl });
        } catch {
          reject(new Error(`bcoin regtest printed ${JSON.stringify(line)}, not its ready line; stderr: ${stderr}`));
        }
      });
    });
  } catch (e) {
    await stop();
    throw e;
  }

  const call = (method: string, params: readonly unknown[] = []) =>
    jsonRpc(ready.rpcUrl, apiKey, callTimeoutMs, method, params);
  const walletCall = (method: string, params: readonly unknown[] = []) =>
    jsonRpc(ready.walletUrl, apiKey, callTimeoutMs, method, params);
  const walletAddress = async () => (await walletCall('getaccountaddress', [''])) as string;

  /** Resolves once the wallet knows the coinbase transaction of block `hash` (so it has seen the block). */
  const walletSaw = async (hash: string) => {
    const block = (await call('getblock', [hash, 1])) as { tx: string[] };
    const coinbase = block.tx[0]!;
    const deadline = Date.now() + WALLET_SYNC_TIMEOUT_MS;
    for (;;) {
      try {
        // bcoin's gettransaction has no confirmations; the block it names says the wallet saw it.
        const tx = (await walletCall('gettransaction', [coinbase])) as { blockhash?: string | null };
        if (tx.blockhash === hash) return;
      } catch {
        // Not seen yet.
      }
      if (Date.now() > deadline)
        throw new Error(`the wallet did not see block ${hash} within ${WALLET_SYNC_TIMEOUT_MS} ms`);
      await new Promise((r) => setTimeout(r, WALLET_SYNC_POLL_MS));
    }
  };

  const mine = async (blocks: number, address?: string) => {
    const to = address ?? (await walletAddress());
    const hashes = (await call('generatetoaddress', [blocks, to])) as string[];
    if (address === undefined && hashes.length > 0) await walletSaw(hashes.at(-1)!);
    return hashes;
  };

  return {
    rpcUrl: ready.rpcUrl,
    walletUrl: ready.walletUrl,
    apiKey,
    call,
    walletCall,
    walletAddress,
    mine,
    fund: () => mine(BLOCKS_TO_FUND),
    invalidateBlock: async (hash) => {
      await call('invalidateblock', [hash]);
    },
    stop,
  };
}
