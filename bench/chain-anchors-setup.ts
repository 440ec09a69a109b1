// The chain-anchors benchmark's world (issue 11, item 9): a real anvil (one block a second) and a
// real bcoin regtest node (one block a second, mined here), and five real node processes (the
// compiled CLI's `serve`, founded by the e2e harness) with twenty namespaces each, due at both
// chain targets once an epoch and written to continuously. Not a benchmark itself: it starts,
// watches and stops what bench/chain-anchors.ts measures.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnchorStrategy } from '@vaultmesh/core';
import type { Anvil } from '../test/e2e/harness/anvil.ts';
import type { BitcoinRegtest } from '../test/e2e/harness/bitcoin-regtest.ts';
import type { FederationNode, LocalFederation } from '../test/e2e/harness/local-federation.ts';

export const EVM = 'eip155:31337';
export const BTC = 'btc:regtest';
export const NODES = 5;
/** 5 nodes × 20 namespaces, as issue 11's item 9 asks (100 namespaces across the federation). */
export const NAMESPACES_PER_NODE = 20;
/**
 * 5 s epochs, every namespace due once an epoch at each chain target (the anchoring bench's
 * cadence: faster ones cost this 2-core machine more witness cosignatures than five nodes serve).
 */
export const EPOCH_MS = 5_000;
/** Both local chains make a block a second (anvil `--block-time 1`; bcoin mined here). */
export const BLOCK_MS = 1_000;
/** Each target's `confirmations` (the anchor's own block included), and what the cadences ask. */
export const CONFIRMATIONS: Readonly<Record<string, number>> = { [EVM]: 2, [BTC]: 2 };
/**
 * The coordinator's tick and the global leader timeout: no target here uses the latter as its
 * leader timeout (chain targets have their own), but a third of it bounds each peer exchange, and
 * with two chain targets on this loaded 2-core machine 1 s (the anchoring bench's) was too short.
 */
export const TICK_MS = 100;
export const LEADER_TIMEOUT_MS = 9_000;
/**
 * A chain target's leader timeout: a leader waits for its blocks, so this covers the signing round
 * and `confirmations` blocks on a loaded machine with room to spare (a failover leader's anchor is
 * a second transaction, paid twice).
 */
export const CHAIN_LEADER_TIMEOUT_MS = 15_000;
export const CHAIN_POLL_MS = 200;
/**
 * One entry per namespace per epoch, written half a second into it: each due time (an epoch close)
 * finds a checkpoint sealed since the one before, with 4.5 s to seal it (a witness cosignature
 * waits on a loaded machine). Twice an epoch, as the anchoring bench writes, doubles the witness
 * cosignatures this 2-core machine serves.
 */
export const WRITE_AT_MS = 500;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface BenchNamespace {
  /** Index of its node in fed.nodes. */
  i: number;
  node: FederationNode;
  ns: string;
}

export interface LocalChains {
  anvil: Anvil;
  btc: BitcoinRegtest;
  /** Wall-clock ms at which each anvil block height was first seen (polled every 50 ms). */
  evmSeenAt: Map<number, number>;
  /** Wall-clock ms at which each bcoin block (by hash) was mined (generatetoaddress returned). */
  btcMinedAt: Map<string, number>;
  /** The bcoin height after fund(): blocks above it are the run's. */
  btcFundedHeight: number;
  /** Mining or watching calls that failed (a loaded machine), counted. */
  errors(): number;
  stop(): Promise<void>;
}

/**
 * Starts anvil (`--block-time 1`) and a bcoin regtest node, funds the bcoin wallet (110 blocks:
 * ten mature coinbase outputs), then mines a block to the wallet every BLOCK_MS and watches anvil's
 * height every 50 ms, recording when each block appeared.
 */
export async function startChains(): Promise<LocalChains> {
  const { startAnvil } = await import('../test/e2e/harness/anvil.ts');
  const { startBitcoinRegtest } = await import('../test/e2e/harness/bitcoin-regtest.ts');
  let anvil: Anvil | undefined;
  let btc: BitcoinRegtest | undefined;
  let running = true;
  let errors = 0;
  const loops: Promise<void>[] = [];
  const stop = async () => {
    running = false;
    await Promise.allSettled(loops);
    await Promise.allSettled([anvil?.stop(), btc?.stop()]);
  };
  try {
    anvil = await startAnvil({ args: ['--block-time', String(BLOCK_MS / 1000)] });
    btc = await startBitcoinRegtest();
    const a = anvil;
    const b = btc;
    const address = await b.walletAddress();
    await b.fund();
    const btcFundedHeight = (await b.call('getblockcount')) as number;
    const evmSeenAt = new Map<number, number>();
    const btcMinedAt = new Map<string, number>();
    loops.push(
      (async () => {
        let last = -1;
        while (running) {
          try {
            const h = Number(BigInt((await a.rpc('eth_blockNumber')) as string));
            const now = Date.now();
            for (let k = Math.max(last + 1, 0); k <= h; k++) if (!evmSeenAt.has(k)) evmSeenAt.set(k, now);
            last = Math.max(last, h);
          } catch {
            errors++;
          }
          await sleep(50);
        }
      })(),
      (async () => {
        let next = Date.now() + BLOCK_MS;
        while (running) {
          await sleep(Math.max(0, next - Date.now()));
          next += BLOCK_MS;
          if (!running) break;
          try {
            const hashes = (await b.call('generatetoaddress', [1, address])) as string[];
            const now = Date.now();
            for (const h of hashes) btcMinedAt.set(h, now);
          } catch {
            errors++;
          }
        }
      })(),
    );
    return { anvil: a, btc: b, evmSeenAt, btcMinedAt, btcFundedHeight, errors: () => errors, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

export interface ChainFederation {
  /** Removed by stop(). */
  dir: string;
  fed: LocalFederation;
  namespaces: BenchNamespace[];
  /** When the namespaces' cadences took effect (an epoch boundary), ms. */
  alignedAtMs: number;
  /** Stops the nodes gracefully (SIGTERM, so their databases are closed), then anything left; keeps `dir`. */
  stopNodes(): Promise<void>;
  /** stopNodes() and removes `dir` (kept when CHAIN_ANCHORS_KEEP=1, for a look at the nodes' databases). */
  stop(): Promise<void>;
}

/**
 * Builds the compiled CLI the nodes run (the e2e harness refuses a dist/ older than its sources),
 * founds a federation of NODES processes under `strategy`, each anchoring to both chains with a
 * dev key of its own (anvil account i+1, mode 0600) and the shared bcoin wallet (password file
 * 0600), then creates the namespaces (each cosigned by any other node) and gives each the cadence
 * `strong` → EVM and `cold` → BTC, every epoch, effective at one epoch boundary so its due times
 * fall on epoch closes (docs/anchoring.md, "Aligning a cadence with the epochs").
 */
export async function startChainFederation(strategy: AnchorStrategy, chains: LocalChains): Promise<ChainFederation> {
  execFileSync('npx', ['tsc', '-b', 'packages/core', 'packages/node', 'packages/cli'], { stdio: 'inherit' });
  // Imported after the build: loading the harness checks that the compiled CLI is fresh.
  const { startLocalFederation } = await import('../test/e2e/harness/local-federation.ts');
  const { adminHeaders, fetchJson } = await import('../test/e2e/harness/anchoring-client.ts');
  const dir = mkdtempSync(join(tmpdir(), `remembrancer-bench-chain-anchors-${strategy}-`));
  let fed: LocalFederation | undefined;
  // A bench interrupted (Ctrl-C, or killed with SIGTERM) must not leave five serve processes behind.
  const killOnExit = () => {
    for (const n of fed?.nodes ?? []) n.proc?.child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  let nodesStopped: Promise<void> | undefined;
  const stopNodes = () =>
    (nodesStopped ??= (async () => {
      await Promise.allSettled((fed?.nodes ?? []).flatMap((n) => (n.proc === undefined ? [] : [n.proc.stop()])));
      await fed?.stopAll();
      process.removeListener('exit', killOnExit);
    })());
  const stop = async () => {
    await stopNodes();
    if (process.env.CHAIN_ANCHORS_KEEP === '1') console.error(`chain-anchors: kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };
  const { anvil, btc } = chains;
  try {
    fed = await startLocalFederation(
      dir,
      NODES,
      { checkpointIntervalMs: 100 },
      {
        anchorStrategy: strategy,
        nodeConfig: (i, nodeDir) => {
          writeFileSync(join(nodeDir, 'evm.key'), `${anvil.keys[i + 1]}\n`, { mode: 0o600 });
          writeFileSync(join(nodeDir, 'btc.pass'), `${btc.apiKey}\n`, { mode: 0o600 });
          return {
            anchoring: {
              targets: {
                [EVM]: {
                  rpcUrl: anvil.url,
                  keyFile: 'evm.key',
                  maxFeePerGasWei: '200000000000',
                  confirmations: CONFIRMATIONS[EVM],
                  epochMs: EPOCH_MS,
                  pollMs: CHAIN_POLL_MS,
                  leaderTimeoutMs: CHAIN_LEADER_TIMEOUT_MS,
                  replaceAfterMs: 5 * BLOCK_MS,
                },
                [BTC]: {
                  rpcUrl: btc.rpcUrl,
                  walletUrl: btc.walletUrl,
                  passwordFile: 'btc.pass',
                  maxFeeRateSatVb: 50,
                  fallbackFeeRateSatVb: 2,
                  confirmations: CONFIRMATIONS[BTC],
                  epochMs: EPOCH_MS,
                  pollMs: CHAIN_POLL_MS,
                  leaderTimeoutMs: CHAIN_LEADER_TIMEOUT_MS,
                  // bcoin 1.0.2 replaces nothing (its mempool refuses any double spend).
                  replaceAfterMs: 60_000,
                },
              },
              leaderTimeoutMs: LEADER_TIMEOUT_MS,
              maxClockSkewMs: 500,
              tickMs: TICK_MS,
            },
          };
        },
      },
    );
    const namespaces: BenchNamespace[] = [];
    for (const [i, node] of fed.nodes.entries()) {
      const others = fed.nodes.filter((_, j) => j !== i).map((x) => x.name);
      for (let k = 0; k < NAMESPACES_PER_NODE; k++) {
        const ns = `c${i}:ns${k}`;
        const r = await fetchJson(`${node.url}/v1/ns/${ns}`, {
          method: 'PUT',
          headers: adminHeaders(node),
          body: JSON.stringify({ witness_policy: { min_required: 1, allowlist: others } }),
        });
        if (r.status !== 201) throw new Error(`creating ${ns}: ${r.status} ${JSON.stringify(r.body)}`);
        namespaces.push({ i, node, ns });
      }
    }
    // The next epoch boundary at least two seconds away: every cadence below is recorded before it.
    const alignedAtMs = Math.ceil((Date.now() + 2_000) / EPOCH_MS) * EPOCH_MS;
    const alignedAt = new Date(alignedAtMs).toISOString();
    const every = `${EPOCH_MS / 1000}s`;
    const cadence = JSON.stringify({
      strong: { target: EVM, every, confirmations: CONFIRMATIONS[EVM] },
      cold: { target: BTC, every, confirmations: CONFIRMATIONS[BTC] },
    });
    for (const { node, ns } of namespaces) {
      const r = await fetchJson(`${node.url}/v1/ns/${ns}/cadence?effective_after=${alignedAt}`, {
        method: 'PUT',
        headers: adminHeaders(node),
        body: cadence,
      });
      if (r.status !== 200 && r.status !== 202)
        throw new Error(`cadence of ${ns}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    return { dir, fed, namespaces, alignedAtMs, stopNodes, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * Writes one entry to every namespace once an epoch, WRITE_AT_MS into it, until stopped; stop()
 * gives the writes made and those that failed (a timeout or another status than 201).
 */
export function startWriting(namespaces: readonly BenchNamespace[]): {
  written: Map<string, number>;
  stop: () => Promise<{ writes: number; failed: number }>;
} {
  let running = true;
  let writes = 0;
  let failed = 0;
  /** Entries each namespace holds (indices 0 … n−1). */
  const written = new Map<string, number>();
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (running) {
      const next = Math.ceil((Date.now() - WRITE_AT_MS) / EPOCH_MS) * EPOCH_MS + WRITE_AT_MS;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, Math.max(0, next - Date.now()));
      });
      if (!running) break;
      await Promise.all(
        namespaces.map(async ({ node, ns }) => {
          writes++;
          try {
            const r = await fetch(`${node.url}/v1/ns/${ns}/entries`, {
              method: 'POST',
              headers: { authorization: `Bearer ${node.token}`, 'content-type': 'application/json' },
              body: JSON.stringify({ n: written.get(ns) ?? 0, ns }),
              signal: AbortSignal.timeout(10_000),
            });
            await r.arrayBuffer();
            if (r.status === 201) written.set(ns, (written.get(ns) ?? 0) + 1);
            else failed++;
          } catch {
            failed++;
          }
        }),
      );
    }
  })();
  return {
    written,
    async stop() {
      running = false;
      wake?.();
      await loop;
      return { writes, failed };
    },
  };
}
