import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { createGenesis, type RegistrySet } from '@vaultmesh/core';
import {
  dataPaths,
  initNode,
  loadNode,
  localPeerEntry,
  startDevChains,
  startDevTsa,
  type DevChains,
  type DevTsa,
} from '@vaultmesh/node';
import { ApiClient } from '../client/api-client.js';
import { DEMO_NAMESPACE, ensureNamespace, recordDemoMemories, type DemoRecord } from './demo-command.js';
import { UsageError, printResult } from '../output.js';
import { stopOnSignal } from '../stop-on-signal.js';
import { readRegistryFile, signWithNodes } from './federation-registry-commands.js';
import {
  LOCAL_ANCHOR_TARGET,
  LOCAL_BTC_BLOCK_MS,
  LOCAL_EPOCH_MS,
  LOCAL_EVM_BLOCK_S,
  configureLocalAnchoring,
  demoCadence,
  devAccountsFor,
  ensureDemoCadence,
  localTargets,
  localTargetsLines,
  localTargetsView,
  saveAnchoredReceipt,
  unavailableChainsLine,
  type AnchoredDemoReceipt,
} from './local-anchoring.js';

export const LOCAL_NODE_NAMES = [
  'alpha',
  'beta',
  'gamma',
  'delta',
  'epsilon',
  'zeta',
  'eta',
  'theta',
  'iota',
  'kappa',
  'lambda',
  'mu',
];

export interface LocalNode {
  name: string;
  dir: string;
  url: string;
  child: ChildProcess;
}

/** The same CLI, as a child process: the bin in production, tsx + source in development. */
function selfCommand(): { cmd: string; args: string[] } {
  return { cmd: process.execPath, args: [...process.execArgv, process.argv[1]!] };
}

function startNodeProcess(
  dir: string,
  logPath: string,
  timeoutMs = 30_000,
): Promise<{ child: ChildProcess; url: string }> {
  const { cmd, args } = selfCommand();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args, 'serve', '--data', dir, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(logPath, { flags: 'a' });
    child.stderr.pipe(log);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node in ${dir} did not start within ${timeoutMs / 1000} s; see ${logPath}`));
    }, timeoutMs);
    // The first line is the ready line; anything else is the node's error, printed as it exits
    // ('close': once all it printed has been read).
    let printed = '';
    child.once('close', (code) => {
      clearTimeout(timer);
      const said = printed.replace(/\s+/g, ' ').trim().slice(0, 500);
      reject(new Error(`node in ${dir} exited with ${code} while starting${said ? `: ${said}` : ''}; see ${logPath}`));
    });
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      let url: unknown;
      try {
        url = printed === '' ? (JSON.parse(line) as { url?: unknown }).url : undefined;
      } catch {
        url = undefined;
      }
      if (typeof url !== 'string') {
        printed += `${line}\n`;
        return;
      }
      clearTimeout(timer);
      child.removeAllListeners('close');
      lines.removeAllListeners('line');
      resolve({ child, url });
    });
  });
}

function stopAll(nodes: readonly { child: ChildProcess }[], timeoutMs = 15_000): Promise<void> {
  return Promise.all(
    nodes.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  ).then(() => undefined);
}

/** The genesis registry `federation up` writes into --data: what `verify --registry` pins. */
const GENESIS_FILE = 'registry-genesis.json';

/**
 * Creates (first run) or reuses N node identities under DIR, a genesis registry signed by all of
 * them, starts every node, hands each the registry, and returns the running nodes.
 */
export async function startLocalFederation(opts: {
  nodes: number;
  basePort: number;
  data: string;
  federationId?: string;
  /** A local RFC 3161 TSA every node anchors to (LOCAL_ANCHOR_TARGET). */
  tsa?: DevTsa;
  /** Local dev chains every node also anchors to (with a TSA only). */
  chains?: DevChains;
}): Promise<{ nodes: LocalNode[]; registry: RegistrySet; stop(): Promise<void> }> {
  if (opts.nodes < 1 || opts.nodes > LOCAL_NODE_NAMES.length)
    throw new UsageError(`--nodes must be 1..${LOCAL_NODE_NAMES.length}`);
  mkdirSync(opts.data, { recursive: true });
  const dirs: string[] = [];
  for (let i = 0; i < opts.nodes; i++) {
    const name = `${LOCAL_NODE_NAMES[i]}.vaultmesh.local`;
    const dir = join(opts.data, name);
    if (!existsSync(dataPaths(dir).config)) initNode(dir, name, { listen: `127.0.0.1:${opts.basePort + i}` });
    else if (loadNode(dir).config.listen !== `127.0.0.1:${opts.basePort + i}`) {
      throw new UsageError(
        `${dir} listens on ${loadNode(dir).config.listen}, not 127.0.0.1:${opts.basePort + i}; use the --base-port of the first run`,
      );
    }
    if (opts.tsa) configureLocalAnchoring(dir, i, opts.tsa, opts.chains);
    dirs.push(dir);
  }
  const genesisPath = join(opts.data, GENESIS_FILE);
  let registry: RegistrySet;
  if (existsSync(genesisPath)) registry = readRegistryFile(genesisPath);
  else {
    const n = dirs.length;
    registry = signWithNodes(
      createGenesis({
        federation_id: opts.federationId ?? 'vaultmesh-local',
        peers: dirs.map((d) => localPeerEntry(loadNode(d))),
        quorum: { witness: Math.max(1, Math.floor(n / 2)), registry: Math.floor(n / 2) + 1 },
        anchor_strategy: 'collaborative',
        memo: 'local federation started by remembrancer federation up',
        effective_after: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      }),
      dirs,
    );
    writeFileSync(genesisPath, JSON.stringify(registry, null, 2) + '\n');
  }
  const started: LocalNode[] = [];
  try {
    for (const dir of dirs) {
      const { child, url } = await startNodeProcess(dir, join(dir, 'node.log'));
      started.push({ name: loadNode(dir).config.name, dir, url, child });
    }
    for (const n of started) {
      const client = new ApiClient({ url: n.url, token: loadNode(n.dir).adminToken });
      await client.json('PUT', '/v1/federation/registry', registry);
    }
  } catch (e) {
    await stopAll(started);
    throw e;
  }
  return { nodes: started, registry, stop: () => stopAll(started) };
}

interface UpOptions {
  nodes: string;
  basePort: string;
  data: string;
  demo?: boolean;
  /** false with --no-chains */
  chains: boolean;
  json?: boolean;
}

export function registerFederationUp(federation: Command): void {
  federation
    .command('up')
    .description('run a local federation: N node processes on 127.0.0.1 (node i on port P+i) with a genesis registry')
    .option('--nodes <n>', 'number of nodes', '3')
    .option('--base-port <p>', 'port of the first node', '7801')
    .option('--data <dir>', 'directory holding one data directory per node', './federation')
    .option('--demo', `create the namespace ${DEMO_NAMESPACE} on every node and record a few memories on the first`)
    .option(
      '--no-chains',
      'do not start the local dev chains (anvil for eip155:31337, a bcoin regtest node for btc:regtest); anchor to the local TSA only',
    )
    .option('--json', 'machine-readable output (one JSON line once all nodes run)')
    .action(async (opts: UpOptions) => {
      const nodes = Number(opts.nodes);
      const basePort = Number(opts.basePort);
      if (!Number.isInteger(nodes)) throw new UsageError('--nodes must be an integer');
      if (!Number.isInteger(basePort) || basePort < 1 || basePort + nodes > 65536)
        throw new UsageError('--base-port must leave room for every node below 65536');
      mkdirSync(opts.data, { recursive: true });
      // The TSA and the dev chains start at once; startDevChains never throws (a chain that is
      // not installed or does not start is listed as unavailable, and the federation goes on).
      const chainsStarting: Promise<DevChains | undefined> = opts.chains
        ? startDevChains({
            evm: { accounts: devAccountsFor(nodes), blockTimeS: LOCAL_EVM_BLOCK_S },
            bitcoin: { blockMs: LOCAL_BTC_BLOCK_MS },
          })
        : Promise.resolve(undefined);
      let tsa: DevTsa;
      try {
        // An absolute directory: the TSA runs openssl inside it with a config naming its files by
        // this path, which a relative --data (npm start's ./data) would resolve twice.
        tsa = await startDevTsa({ dir: resolve(opts.data, 'tsa'), name: 'vaultmesh-local' });
      } catch (e) {
        await (await chainsStarting)?.stop();
        throw e;
      }
      const chains = await chainsStarting;
      const unavailable = chains && unavailableChainsLine(chains);
      if (unavailable !== undefined) process.stderr.write(`${unavailable}\n`);
      // Nodes first: they stop anchoring before what they anchor to goes away.
      const stopAll = async (stopNodes: () => Promise<void>) => {
        await stopNodes();
        await Promise.all([tsa.stop(), chains?.stop()]);
      };
      let fed: Awaited<ReturnType<typeof startLocalFederation>>;
      try {
        fed = await startLocalFederation({ nodes, basePort, data: opts.data, tsa, ...(chains ? { chains } : {}) });
      } catch (e) {
        await stopAll(async () => undefined);
        throw e;
      }
      const caFile = join(opts.data, 'tsa-ca.pem');
      const genesisFile = join(opts.data, GENESIS_FILE);
      writeFileSync(caFile, tsa.caCertPem);
      const stopped = stopOnSignal(() => stopAll(() => fed.stop()));
      let demo: DemoRecord | undefined;
      let anchored: AnchoredDemoReceipt | undefined;
      try {
        if (opts.demo) {
          const clients = fed.nodes.map((n) => new ApiClient({ url: n.url, token: loadNode(n.dir).adminToken }));
          // The first node's demo log is anchored at every local target (the TSA, and the dev
          // chains when they run) every epoch it has something new. Sealed once another node's
          // witness cosigns: the anchored chain then runs entry → checkpoint → witness quorum →
          // epoch root → federation quorum → timestamp or transaction.
          const cadence = demoCadence(chains);
          await ensureNamespace(clients[0]!, DEMO_NAMESPACE, {
            description: 'demo namespace',
            witness_policy: { min_required: 1, allowlist: fed.nodes.slice(1).map((n) => n.name) },
            cadence,
          });
          await ensureDemoCadence(clients[0]!, cadence);
          for (const c of clients.slice(1)) await ensureNamespace(c, DEMO_NAMESPACE);
          demo = await recordDemoMemories(clients[0]!, fed.nodes[0]!.dir, 10_000);
          anchored = await saveAnchoredReceipt(
            clients[0]!,
            demo.indices[demo.indices.length - 1]!,
            fed.nodes[0]!.dir,
            localTargets(chains),
            45_000,
          );
        }
      } catch (e) {
        // A demo that fails must not leave the nodes and chains running behind an exiting command.
        await stopAll(() => fed.stop());
        throw e;
      }
      const witnessKeys = fed.registry.peers.filter((p) => p.id !== fed.nodes[0]?.name).map((p) => p.witness_vkey);
      const view = {
        event: 'ready',
        federation_id: fed.registry.federation_id,
        registry_version: fed.registry.version,
        nodes: fed.nodes.map((n) => ({ name: n.name, url: n.url, data: n.dir })),
        // Every node serves the explorer; the first one's is the page to open.
        explorer: `${fed.nodes[0]!.url}/explorer/`,
        anchor_targets: localTargetsView(tsa, chains),
        ...(unavailable !== undefined ? { chains_unavailable: unavailable } : {}),
        ...(demo
          ? {
              demo: {
                namespace: DEMO_NAMESPACE,
                indices: demo.indices,
                receipt: demo.receiptPath,
                anchored_receipt: anchored?.path ?? null,
                anchored_at: anchored?.targets ?? [],
                tsa: { url: tsa.url, ca: caFile },
                log_vkey: demo.logVkey,
                witness_vkeys: witnessKeys,
              },
            }
          : {}),
      };
      // --json: one line, so scripts can read it as soon as everything runs.
      if (opts.json) process.stdout.write(JSON.stringify(view) + '\n');
      else
        printResult(opts, view, () =>
          [
            `federation ${fed.registry.federation_id} is up with ${fed.nodes.length} nodes (registry version ${fed.registry.version}):`,
            ...fed.nodes.map((n) => `  ${n.name.padEnd(26)} ${n.url}   data ${n.dir}   log ${join(n.dir, 'node.log')}`),
            '',
            `explorer: ${fed.nodes[0]!.url}/explorer/`,
            `status: curl ${fed.nodes[0]!.url}/v1/federation/status`,
            '',
            ...localTargetsLines(tsa, chains),
            ...(demo ? demoLines(fed, demo, witnessKeys, anchored, { tsa, caFile, genesisFile }) : []),
            'Press Ctrl-C to stop every node.',
          ].join('\n'),
        );
      await stopped;
    });
}

/** What the summary says about the demo: its receipt, its anchored receipt, how to verify both. */
function demoLines(
  fed: { nodes: LocalNode[] },
  demo: DemoRecord,
  witnessKeys: string[],
  anchored: AnchoredDemoReceipt | undefined,
  files: { tsa: DevTsa; caFile: string; genesisFile: string },
): string[] {
  const here = (p: string) => relative(process.cwd(), p) || p;
  const first = fed.nodes[0]!;
  const last = demo.indices[demo.indices.length - 1]!;
  const keys = `--log-vkey '${demo.logVkey}' ${witnessKeys.map((k) => `--witness-vkey '${k}'`).join(' ')}`;
  const chainTargets = anchored?.targets.filter((t) => t !== LOCAL_ANCHOR_TARGET) ?? [];
  const chains = chainTargets.join(' and ');
  return [
    '',
    `Recorded ${demo.indices.length} memories in ${DEMO_NAMESPACE} on ${first.name} (indices ${demo.indices.join(', ')}); its checkpoint is cosigned by the other nodes' witnesses.`,
    `  checkpoint   ${first.url}/v1/ns/${encodeURIComponent(DEMO_NAMESPACE)}/checkpoint`,
    `  receipt      ${first.url}/v1/ns/${encodeURIComponent(DEMO_NAMESPACE)}/receipt/${last}`,
    `Receipt saved to ${here(demo.receiptPath)}. Verify it offline, with the witnesses' cosignatures:`,
    `  npx remembrancer verify ${here(demo.receiptPath)} ${keys}`,
    '',
    ...(anchored
      ? [
          anchored.targets.includes(LOCAL_ANCHOR_TARGET)
            ? `Anchored: the federation timestamped that checkpoint at the local TSA (${files.tsa.url})${chains ? ` and wrote it into blocks of the dev chains (${chains})` : ''}; receipt with its federation receipts saved to ${here(anchored.path)}. Verify it offline, from the entry to the timestamp${chains ? ' and the blocks' : ''}:`
            : `Anchored: the federation wrote that checkpoint into blocks of the dev chains (${chains}); receipt with its federation receipts saved to ${here(anchored.path)}. Verify it offline, from the entry to the blocks:`,
          `  npx remembrancer verify ${here(anchored.path)} ${keys} --registry ${here(files.genesisFile)} --tsa-ca ${here(files.caFile)} --require-anchor${chainTargets.map((t) => ` --require ${t}`).join('')}`,
        ]
      : []),
    ...(anchored === undefined || anchored.missing.length > 0
      ? [
          `Not anchored yet${anchored ? ` at ${anchored.missing.join(' and ')}` : ''} (epochs of ${LOCAL_EPOCH_MS / 1000} s): npx remembrancer receipt ${last} --ns ${DEMO_NAMESPACE} --url ${first.url} --anchored --wait 60`,
        ]
      : []),
    `  anchoring    ${first.url}/v1/anchoring/status   (npx remembrancer anchor status --url ${first.url})`,
  ];
}
