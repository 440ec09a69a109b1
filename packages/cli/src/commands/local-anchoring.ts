import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RemembrancerError } from '@vaultmesh/core';
import { dataPaths, DevChainNotInstalledError, type DevChains, type DevTsa } from '@vaultmesh/node';
import type { ApiClient } from '../client/api-client.js';
import { DEMO_NAMESPACE } from './demo-command.js';

// What `federation up` anchors to — its local TSA and, when they run, its local dev chains — and
// how its demo shows that. Every node of the local federation gets the same targets; each sends
// EVM transactions from a dev account of its own (nonces are per account) and pays Bitcoin fees
// from the one bcoin wallet.

/** The local federation's TSA target: the TSA `federation up` starts. */
export const LOCAL_ANCHOR_TARGET = 'rfc3161:local';
/** The EVM target is `eip155:<the chain id anvil reports>`: 31337, anvil's default. */
const LOCAL_EVM_NAMESPACE = 'eip155';
export const LOCAL_BTC_TARGET = 'btc:regtest';

/** Epochs of the local federation: short, so the demo shows an anchored receipt within seconds. */
export const LOCAL_EPOCH_MS = 5_000;
/** anvil's block time, and how often the miner makes a regtest block: an anchor confirms within seconds. */
export const LOCAL_EVM_BLOCK_S = 1;
export const LOCAL_BTC_BLOCK_MS = 2_000;

/** Secret files in each node's data directory (mode 0600, as config.json's parser demands). */
const EVM_KEY_FILE = 'dev-evm.key';
const BTC_PASSWORD_FILE = 'dev-btc.pass';

/** The EVM target of a running anvil, e.g. `eip155:31337`. */
export function localEvmTarget(chains: DevChains | undefined): string | undefined {
  return chains?.anvil ? `${LOCAL_EVM_NAMESPACE}:${chains.anvil.chainId}` : undefined;
}

/** Every target the local federation anchors to in this run. */
export function localTargets(chains: DevChains | undefined): string[] {
  const evm = localEvmTarget(chains);
  return [LOCAL_ANCHOR_TARGET, ...(evm ? [evm] : []), ...(chains?.bitcoin ? [LOCAL_BTC_TARGET] : [])];
}

/** anvil accounts to ask for: one per node plus account 0, which no node uses (kept for a person trying things). */
export function devAccountsFor(nodes: number): number {
  return Math.max(10, nodes + 1);
}

function writeSecret(path: string, text: string): void {
  writeFileSync(path, `${text}\n`, { mode: 0o600 });
  // A file left by an earlier run keeps its mode through writeFileSync.
  chmodSync(path, 0o600);
}

interface TsaTargetJson {
  tsas?: { url?: string; trustAnchors?: string[] }[];
  [k: string]: unknown;
}

/**
 * Rewrites node `index`'s `anchoring` config for this run: the local TSA, and the dev chains that
 * run. The TSA makes a new CA each run; earlier CAs stay trusted, so epochs anchored by earlier
 * runs still verify. The dev chains are new each run too (in memory), and what was anchored on
 * earlier ones stays verifiable offline from its evidence. A chain not running this run is left
 * out, so no node tries to reach it.
 */
export function configureLocalAnchoring(dir: string, index: number, tsa: DevTsa, chains: DevChains | undefined): void {
  const file = dataPaths(dir).config;
  const cfg = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & {
    anchoring?: { targets?: Record<string, unknown>; [k: string]: unknown };
  };
  const earlier =
    (cfg.anchoring?.targets?.[LOCAL_ANCHOR_TARGET] as TsaTargetJson | undefined)?.tsas?.flatMap(
      (t) => t.trustAnchors ?? [],
    ) ?? [];
  const anchors = [...new Set([...earlier.filter((a) => a.includes('-----BEGIN')), tsa.caCertPem])];
  const targets: Record<string, unknown> = {
    [LOCAL_ANCHOR_TARGET]: { tsas: [{ url: tsa.url, trustAnchors: anchors }], require: 'any', epochMs: LOCAL_EPOCH_MS },
  };
  const anvil = chains?.anvil;
  const evm = localEvmTarget(chains);
  if (anvil && evm) {
    const key = anvil.keys[index + 1];
    if (key === undefined)
      throw new RemembrancerError('INTERNAL', `anvil has no dev account ${index + 1} for node ${index}`);
    writeSecret(join(dir, EVM_KEY_FILE), key);
    targets[evm] = {
      rpcUrl: anvil.url,
      keyFile: EVM_KEY_FILE,
      // 200 gwei: far above what an idle anvil asks, so a dev anchor is never held back by the cap.
      maxFeePerGasWei: '200000000000',
      // anvil makes a block every LOCAL_EVM_BLOCK_S: final at the first one keeps the demo quick.
      confirmations: 1,
      epochMs: LOCAL_EPOCH_MS,
      pollMs: 250,
      leaderTimeoutMs: 10_000,
      replaceAfterMs: 5_000,
    };
  }
  const bitcoin = chains?.bitcoin;
  if (bitcoin) {
    writeSecret(join(dir, BTC_PASSWORD_FILE), bitcoin.apiKey);
    targets[LOCAL_BTC_TARGET] = {
      rpcUrl: bitcoin.rpcUrl,
      walletUrl: bitcoin.walletUrl,
      passwordFile: BTC_PASSWORD_FILE,
      maxFeeRateSatVb: 50,
      // A fresh regtest chain has no fee estimate.
      fallbackFeeRateSatVb: 2,
      confirmations: 1,
      epochMs: LOCAL_EPOCH_MS,
      pollMs: 250,
      // A block comes every few seconds: a leader gets several before the next takes over.
      leaderTimeoutMs: 15_000,
      // bcoin replaces no mempool transaction, so a replacement would only be refused.
      replaceAfterMs: 120_000,
    };
  }
  cfg.anchoring = {
    targets,
    leaderTimeoutMs: 3_000,
    // The nodes share this machine's clock.
    maxClockSkewMs: 1_000,
  };
  writeFileSync(file, JSON.stringify(cfg, null, 2) + '\n', { mode: 0o600 });
}

/** A cadence level as the API takes it. */
export interface CadenceLevelJson {
  target: string;
  every: string;
  confirmations: number;
}

/**
 * The demo namespace's cadence: fast at the TSA, strong on the EVM chain, cold on Bitcoin — the
 * targets of this run — each due every epoch, so the demo entry gets all its anchors within
 * seconds. Chain levels ask for the confirmations the targets make final (1).
 */
export function demoCadence(chains: DevChains | undefined): Record<string, CadenceLevelJson> {
  const evm = localEvmTarget(chains);
  const every = `${LOCAL_EPOCH_MS / 1000}s`;
  return {
    fast: { target: LOCAL_ANCHOR_TARGET, every, confirmations: 0 },
    ...(evm ? { strong: { target: evm, every, confirmations: 1 } } : {}),
    ...(chains?.bitcoin ? { cold: { target: LOCAL_BTC_TARGET, every, confirmations: 1 } } : {}),
  };
}

/** One line saying which dev chains are not running and why, or undefined when all that were asked for run. */
export function unavailableChainsLine(chains: DevChains): string | undefined {
  if (chains.unavailable.length === 0) return undefined;
  const notInstalled = chains.unavailable.filter((u) => u.error instanceof DevChainNotInstalledError);
  const failed = chains.unavailable.filter((u) => !(u.error instanceof DevChainNotInstalledError));
  const name = (chain: 'evm' | 'bitcoin') => (chain === 'evm' ? 'EVM (anvil)' : `${LOCAL_BTC_TARGET} (bcoin)`);
  const parts = [
    ...(notInstalled.length > 0
      ? [
          `${notInstalled.map((u) => (u.error as DevChainNotInstalledError).packageName).join(' and ')} ${notInstalled.length > 1 ? 'are' : 'is'} not installed (development dependencies: npm install in the repository installs them)`,
        ]
      : []),
    ...failed.map((u) => `${name(u.chain)} did not start: ${u.error.message.split('\n')[0]}`),
  ];
  const skipped = chains.unavailable.map((u) => name(u.chain)).join(' and ');
  return `dev chains: ${parts.join('; ')}; anchoring without ${skipped}`;
}

// The demo's anchors: its namespace's cadence, its anchored receipt, and what the summary says
// about the local anchor targets.

type CadenceJson = Record<string, { target?: unknown; every?: unknown; confirmations?: unknown } | undefined>;

function sameCadence(a: CadenceJson, b: CadenceJson): boolean {
  const levels = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const l of levels) {
    const x = a[l];
    const y = b[l];
    if (x === undefined || y === undefined) return false;
    if (x.target !== y.target || x.every !== y.every || x.confirmations !== y.confirmations) return false;
  }
  return true;
}

/**
 * Gives the demo namespace this run's cadence. A data directory from an earlier run keeps its
 * namespace, whose cadence may name targets this run does not have (`--no-chains`) or lack ones
 * it has (a run before the dev chains): it is replaced, and only then, by an admin cadence change.
 */
export async function ensureDemoCadence(client: ApiClient, cadence: CadenceJson): Promise<void> {
  const ns = await client.json<{ cadence?: CadenceJson }>('GET', client.nsPath(DEMO_NAMESPACE));
  if (!sameCadence(ns.cadence ?? {}, cadence))
    await client.json('PUT', client.nsPath(DEMO_NAMESPACE, '/cadence'), cadence);
}

export interface AnchoredDemoReceipt {
  path: string;
  /** The targets it carries an anchor at. */
  targets: string[];
  /** The targets it was awaited at but carries no anchor at yet. */
  missing: string[];
}

/** The targets a receipt (`?anchored=1`) carries anchors at. */
function anchorTargets(body: string): string[] {
  let anchors: { federation_receipt?: { statement?: { target?: unknown } } }[] | undefined;
  try {
    anchors = (JSON.parse(body) as { anchors?: typeof anchors }).anchors;
  } catch {
    return [];
  }
  const targets = (anchors ?? []).map((a) => a.federation_receipt?.statement?.target);
  return [...new Set(targets.filter((t): t is string => typeof t === 'string'))];
}

/**
 * Waits (bounded) until entry `index` of the demo namespace is anchored at every one of `targets`
 * and saves that receipt, with its federation receipts, to DIR/demo-anchored-receipt.json. At the
 * deadline a receipt anchored at some of them is saved as it is; undefined if none is anchored.
 */
export async function saveAnchoredReceipt(
  client: ApiClient,
  index: number,
  dir: string,
  targets: readonly string[],
  waitMs: number,
): Promise<AnchoredDemoReceipt | undefined> {
  const deadline = Date.now() + waitMs;
  let best: { body: string; targets: string[] } | undefined;
  for (;;) {
    const res = await client
      .request('GET', client.nsPath(DEMO_NAMESPACE, `/receipt/${index}?anchored=1`))
      .catch(() => undefined);
    if (res !== undefined) {
      const body = await res.text();
      if (res.headers.get('x-anchored') === 'true') {
        const have = anchorTargets(body);
        if (best === undefined || have.length > best.targets.length) best = { body, targets: have };
      }
    }
    const complete = best !== undefined && targets.every((t) => best!.targets.includes(t));
    if (complete || Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  if (best === undefined) return undefined;
  const path = join(dir, 'demo-anchored-receipt.json');
  writeFileSync(path, best.body.endsWith('\n') ? best.body : best.body + '\n');
  return { path, targets: best.targets, missing: targets.filter((t) => !best.targets.includes(t)) };
}

/** Where the local anchor targets listen, for the ready line. */
export function localTargetsView(tsa: DevTsa, chains: DevChains | undefined): Record<string, Record<string, unknown>> {
  const evm = localEvmTarget(chains);
  return {
    [LOCAL_ANCHOR_TARGET]: { kind: 'dev TSA', url: tsa.url },
    ...(chains?.anvil && evm
      ? { [evm]: { kind: 'anvil', rpc_url: chains.anvil.url, block_ms: LOCAL_EVM_BLOCK_S * 1000 } }
      : {}),
    ...(chains?.bitcoin
      ? {
          [LOCAL_BTC_TARGET]: {
            kind: 'bcoin regtest',
            rpc_url: chains.bitcoin.rpcUrl,
            wallet_url: chains.bitcoin.walletUrl,
            block_ms: LOCAL_BTC_BLOCK_MS,
          },
        }
      : {}),
  };
}

/** The summary's lines about the local anchor targets. */
export function localTargetsLines(tsa: DevTsa, chains: DevChains | undefined): string[] {
  const evm = localEvmTarget(chains);
  return [
    'Anchor targets (stopped with the federation):',
    `  ${LOCAL_ANCHOR_TARGET.padEnd(14)} dev TSA (openssl)     ${tsa.url}`,
    ...(chains?.anvil && evm
      ? [
          `  ${evm.padEnd(14)} anvil                 ${chains.anvil.url}   a block every ${LOCAL_EVM_BLOCK_S} s; node i sends from dev account i+1`,
        ]
      : []),
    ...(chains?.bitcoin
      ? [
          `  ${LOCAL_BTC_TARGET.padEnd(14)} bcoin regtest node    ${chains.bitcoin.rpcUrl}   wallet ${chains.bitcoin.walletUrl}, a block every ${LOCAL_BTC_BLOCK_MS / 1000} s`,
        ]
      : []),
  ];
}
