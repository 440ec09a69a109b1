import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { RemembrancerError } from '@vaultmesh/core';
import { devChainScript, stopWithThisProcess, outputTail, resolveDevPackage, terminate } from './dev-chain-process.js';

/** bcoin opens in well under a second here; its JS crypto and a loaded machine get the rest. */
const DEFAULT_START_TIMEOUT_MS = 20_000;
const DEFAULT_CALL_TIMEOUT_MS = 15_000;
/** The tail of the node's stderr kept for error messages. */
const STDERR_TAIL_BYTES = 8 * 1024;
/** How long mine() waits for the wallet to catch up. */
const WALLET_SYNC_TIMEOUT_MS = 15_000;
const WALLET_SYNC_POLL_MS = 25;

/** Blocks fund() mines: coinbase outputs mature after 100 blocks, so 10 of 50 BTC become spendable. */
export const DEV_BITCOIN_BLOCKS_TO_FUND = 110;

/** A bcoin regtest node (with its wallet) in a child process, reachable only on 127.0.0.1. */
export interface DevBitcoin {
  /** The node's bitcoind-compatible JSON-RPC endpoint. */
  readonly rpcUrl: string;
  /** The wallet's JSON-RPC endpoint (bcoin serves wallet methods on a server of their own). */
  readonly walletUrl: string;
  /** The basic-auth password of both endpoints (any user name); random per start. */
  readonly apiKey: string;
  /** A node RPC call: its result, or CHAIN_RPC_ERROR with the node's error message and code. */
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
  /** Mines DEV_BITCOIN_BLOCKS_TO_FUND blocks to the wallet, so it can pay for transactions. */
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

export interface StartDevBitcoinOptions {
  startTimeoutMs?: number;
  callTimeoutMs?: number;
  /**
   * Whether the mempool takes transactions signalling BIP 125 replaceability (default true, as
   * Bitcoin Core does). bcoin 1.0.2 replaces nothing either way: a transaction spending an output
   * a mempool transaction spends is refused whatever its fee.
   */
  replaceByFee?: boolean;
}

/**
 * A JSON-RPC 1.0 call. Deliberately not the node's BitcoinRpc client: tests drive the chain with
 * this one and check the client's answers against it.
 */
async function jsonRpc(
  url: string,
  apiKey: string,
  timeoutMs: number,
  method: string,
  params: readonly unknown[],
): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`x:${apiKey}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ method, params, id: 1 }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    throw new RemembrancerError('CHAIN_RPC_UNREACHABLE', `${method}: ${url} did not answer`, { cause: e });
  }
  const text = await res.text();
  let body: { result?: unknown; error?: { code?: number; message?: string } | null };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new RemembrancerError('CHAIN_RPC_ERROR', `${method}: HTTP ${res.status} ${text.slice(0, 200)}`);
  }
  if (body.error)
    throw new RemembrancerError('CHAIN_RPC_ERROR', `${method}: ${body.error.message} (RPC error ${body.error.code})`);
  return body.result;
}

/** Resolves with the ready line's URLs, or rejects when the node exits, prints something else, or is late. */
function readyLine(
  child: ReturnType<typeof spawn>,
  stderr: () => string,
  timeoutMs: number,
): Promise<{ rpcUrl: string; walletUrl: string }> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const fail = (message: string) => new RemembrancerError('CHAIN_RPC_UNREACHABLE', `${message}; stderr: ${stderr()}`);
    const timer = setTimeout(() => reject(fail(`bcoin regtest did not start within ${timeoutMs} ms`)), timeoutMs);
    const done = () => {
      clearTimeout(timer);
      child.removeListener('exit', onExit);
      child.removeListener('error', reject);
    };
    const onExit = (code: number | null, signal: string | null) => {
      done();
      reject(fail(`bcoin regtest exited (${code ?? signal}) before it was ready`));
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
        reject(fail(`bcoin regtest printed ${JSON.stringify(line)}, not its ready line`));
      }
    });
  });
}

/**
 * Starts bcoin-regtest-main.mjs with this Node (`process.execPath`) and resolves once its node
 * and wallet HTTP servers listen on the ports the OS picked. Its chain and wallet are in memory;
 * each start has its own random API key and its own empty home directory, removed by stop().
 */
export async function startDevBitcoin(options: StartDevBitcoinOptions = {}): Promise<DevBitcoin> {
  // Checked here, not left to the child, so a missing bcoin is told apart from one that fails.
  resolveDevPackage('bcoin', 'bcoin/lib/node/fullnode.js');
  const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const apiKey = randomBytes(24).toString('hex');
  const prefix = mkdtempSync(join(tmpdir(), 'remembrancer-bcoin-'));
  const child = spawn(process.execPath, [devChainScript('bcoin-regtest-main.mjs')], {
    env: {
      ...process.env,
      BCOIN_REGTEST_API_KEY: apiKey,
      BCOIN_REGTEST_PREFIX: prefix,
      BCOIN_REGTEST_REPLACE_BY_FEE: options.replaceByFee === false ? '0' : '1',
    },
    // stdin stays open: the node exits when it closes, so it does not outlive a killed starter.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const unhook = stopWithThisProcess(child);
  const stderr = outputTail(child, STDERR_TAIL_BYTES, ['stderr']);
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= terminate(child).finally(() => {
      unhook();
      rmSync(prefix, { recursive: true, force: true });
    }));

  let ready: { rpcUrl: string; walletUrl: string };
  try {
    ready = await readyLine(child, stderr, startTimeoutMs);
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
        throw new RemembrancerError(
          'CHAIN_RPC_ERROR',
          `the wallet did not see block ${hash} within ${WALLET_SYNC_TIMEOUT_MS} ms`,
        );
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
    fund: () => mine(DEV_BITCOIN_BLOCKS_TO_FUND),
    invalidateBlock: async (hash) => {
      await call('invalidateblock', [hash]);
    },
    stop,
  };
}
