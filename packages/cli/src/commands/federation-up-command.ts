import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { createGenesis, type RegistrySet } from '@vaultmesh/core';
import { dataPaths, initNode, loadNode, localPeerEntry, startDevTsa, type DevTsa } from '@vaultmesh/node';
import { ApiClient } from '../client/api-client.js';
import { DEMO_NAMESPACE, ensureNamespace, recordDemoMemories, type DemoRecord } from './demo-command.js';
import { UsageError, printResult } from '../output.js';
import { stopOnSignal } from '../stop-on-signal.js';
import { readRegistryFile, signWithNodes } from './federation-registry-commands.js';

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
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`node in ${dir} exited with ${code} while starting; see ${logPath}`));
    });
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({ child, url: (JSON.parse(line) as { url: string }).url });
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

/** The local federation's anchor target: the TSA `federation up` starts. */
export const LOCAL_ANCHOR_TARGET = 'rfc3161:local';
/** The genesis registry `federation up` writes into --data: what `verify --registry` pins. */
const GENESIS_FILE = 'registry-genesis.json';

/** Epochs of the local federation: short, so the demo shows an anchored receipt within seconds. */
const LOCAL_EPOCH_MS = 5_000;

/**
 * Points a node's `anchoring` config at this run's local TSA. The TSA makes a new CA each run;
 * earlier CAs stay trusted, so epochs anchored by earlier runs still verify.
 */
function useLocalTsa(dir: string, tsa: DevTsa): void {
  const file = dataPaths(dir).config;
  const cfg = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & {
    anchoring?: {
      targets?: Record<string, { tsas?: { url?: string; trustAnchors?: string[] }[]; [k: string]: unknown }>;
      [k: string]: unknown;
    };
  };
  const earlier = cfg.anchoring?.targets?.[LOCAL_ANCHOR_TARGET]?.tsas?.flatMap((t) => t.trustAnchors ?? []) ?? [];
  const anchors = [...new Set([...earlier.filter((a) => a.includes('-----BEGIN')), tsa.caCertPem])];
  cfg.anchoring = {
    targets: {
      [LOCAL_ANCHOR_TARGET]: {
        tsas: [{ url: tsa.url, trustAnchors: anchors }],
        require: 'any',
        epochMs: LOCAL_EPOCH_MS,
      },
    },
    leaderTimeoutMs: 3_000,
    // The nodes share this machine's clock.
    maxClockSkewMs: 1_000,
  };
  writeFileSync(file, JSON.stringify(cfg, null, 2) + '\n', { mode: 0o600 });
}

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
    if (opts.tsa) useLocalTsa(dir, opts.tsa);
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

/**
 * Waits (bounded) until entry `index` of the demo namespace is anchored and saves that receipt,
 * with its federation receipt, to DIR/demo-anchored-receipt.json; undefined if it is not in time.
 */
async function saveAnchoredReceipt(
  client: ApiClient,
  index: number,
  dir: string,
  waitMs: number,
): Promise<string | undefined> {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    const res = await client
      .request('GET', client.nsPath(DEMO_NAMESPACE, `/receipt/${index}?anchored=1`))
      .catch(() => undefined);
    if (res !== undefined) {
      const body = await res.text();
      if (res.headers.get('x-anchored') === 'true') {
        const path = join(dir, 'demo-anchored-receipt.json');
        writeFileSync(path, body.endsWith('\n') ? body : body + '\n');
        return path;
      }
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return undefined;
}

export function registerFederationUp(federation: Command): void {
  federation
    .command('up')
    .description('run a local federation: N node processes on 127.0.0.1 (node i on port P+i) with a genesis registry')
    .option('--nodes <n>', 'number of nodes', '3')
    .option('--base-port <p>', 'port of the first node', '7801')
    .option('--data <dir>', 'directory holding one data directory per node', './federation')
    .option('--demo', `create the namespace ${DEMO_NAMESPACE} on every node and record a few memories on the first`)
    .option('--json', 'machine-readable output (one JSON line once all nodes run)')
    .action(async (opts: { nodes: string; basePort: string; data: string; demo?: boolean; json?: boolean }) => {
      const nodes = Number(opts.nodes);
      const basePort = Number(opts.basePort);
      if (!Number.isInteger(nodes)) throw new UsageError('--nodes must be an integer');
      if (!Number.isInteger(basePort) || basePort < 1 || basePort + nodes > 65536)
        throw new UsageError('--base-port must leave room for every node below 65536');
      mkdirSync(opts.data, { recursive: true });
      const tsa = await startDevTsa({ dir: join(opts.data, 'tsa'), name: 'vaultmesh-local' });
      let fed: Awaited<ReturnType<typeof startLocalFederation>>;
      try {
        fed = await startLocalFederation({ nodes, basePort, data: opts.data, tsa });
      } catch (e) {
        await tsa.stop();
        throw e;
      }
      const caFile = join(opts.data, 'tsa-ca.pem');
      const genesisFile = join(opts.data, GENESIS_FILE);
      writeFileSync(caFile, tsa.caCertPem);
      const stopped = stopOnSignal(async () => {
        await fed.stop();
        await tsa.stop();
      });
      let demo: DemoRecord | undefined;
      let anchored: string | undefined;
      if (opts.demo) {
        const clients = fed.nodes.map((n) => new ApiClient({ url: n.url, token: loadNode(n.dir).adminToken }));
        // The first node's demo log is anchored at the local TSA every epoch it has something new.
        // Sealed once another node's witness cosigns: the anchored chain then runs entry →
        // checkpoint → witness quorum → epoch root → federation quorum → timestamp.
        await ensureNamespace(clients[0]!, DEMO_NAMESPACE, {
          description: 'demo namespace',
          witness_policy: { min_required: 1, allowlist: fed.nodes.slice(1).map((n) => n.name) },
          cadence: { fast: { target: LOCAL_ANCHOR_TARGET, every: '5s', confirmations: 0 } },
        });
        for (const c of clients.slice(1)) await ensureNamespace(c, DEMO_NAMESPACE);
        demo = await recordDemoMemories(clients[0]!, fed.nodes[0]!.dir, 10_000);
        anchored = await saveAnchoredReceipt(
          clients[0]!,
          demo.indices[demo.indices.length - 1]!,
          fed.nodes[0]!.dir,
          45_000,
        );
      }
      const witnessKeys = fed.registry.peers.filter((p) => p.id !== fed.nodes[0]?.name).map((p) => p.witness_vkey);
      const view = {
        event: 'ready',
        federation_id: fed.registry.federation_id,
        registry_version: fed.registry.version,
        nodes: fed.nodes.map((n) => ({ name: n.name, url: n.url, data: n.dir })),
        ...(demo
          ? {
              demo: {
                namespace: DEMO_NAMESPACE,
                indices: demo.indices,
                receipt: demo.receiptPath,
                anchored_receipt: anchored ?? null,
                tsa: { url: tsa.url, ca: caFile },
                log_vkey: demo.logVkey,
                witness_vkeys: witnessKeys,
              },
            }
          : {}),
      };
      const rel = demo ? relative(process.cwd(), demo.receiptPath) || demo.receiptPath : '';
      // --json: one line, so scripts can read it as soon as everything runs.
      if (opts.json) process.stdout.write(JSON.stringify(view) + '\n');
      else
        printResult(opts, view, () =>
          [
            `federation ${fed.registry.federation_id} is up with ${fed.nodes.length} nodes (registry version ${fed.registry.version}):`,
            ...fed.nodes.map((n) => `  ${n.name.padEnd(26)} ${n.url}   data ${n.dir}   log ${join(n.dir, 'node.log')}`),
            '',
            `status: curl ${fed.nodes[0]!.url}/v1/federation/status`,
            ...(demo
              ? [
                  '',
                  `Recorded ${demo.indices.length} memories in ${DEMO_NAMESPACE} on ${fed.nodes[0]!.name} (indices ${demo.indices.join(', ')}); its checkpoint is cosigned by the other nodes' witnesses.`,
                  `  checkpoint   ${fed.nodes[0]!.url}/v1/ns/${encodeURIComponent(DEMO_NAMESPACE)}/checkpoint`,
                  `  receipt      ${fed.nodes[0]!.url}/v1/ns/${encodeURIComponent(DEMO_NAMESPACE)}/receipt/${demo.indices[demo.indices.length - 1]}`,
                  `Receipt saved to ${rel}. Verify it offline, with the witnesses' cosignatures:`,
                  `  npx remembrancer verify ${rel} --log-vkey '${demo.logVkey}' ${witnessKeys.map((k) => `--witness-vkey '${k}'`).join(' ')}`,
                  '',
                  ...(anchored
                    ? [
                        `Anchored: the federation timestamped that checkpoint at the local TSA (${tsa.url}); receipt with its federation receipt saved to ${relative(process.cwd(), anchored) || anchored}. Verify it offline, from the entry to the timestamp:`,
                        `  npx remembrancer verify ${relative(process.cwd(), anchored) || anchored} --log-vkey '${demo.logVkey}' ${witnessKeys.map((k) => `--witness-vkey '${k}'`).join(' ')} --registry ${relative(process.cwd(), genesisFile) || genesisFile} --tsa-ca ${relative(process.cwd(), caFile) || caFile} --require-anchor`,
                      ]
                    : [
                        `Not anchored yet (epochs of ${LOCAL_EPOCH_MS / 1000} s at ${LOCAL_ANCHOR_TARGET}): npx remembrancer receipt ${demo.indices[demo.indices.length - 1]} --ns ${DEMO_NAMESPACE} --url ${fed.nodes[0]!.url} --anchored --wait 60`,
                      ]),
                  `  anchoring    ${fed.nodes[0]!.url}/v1/anchoring/status   (npx remembrancer anchor status --url ${fed.nodes[0]!.url})`,
                ]
              : []),
            'Press Ctrl-C to stop every node.',
          ].join('\n'),
        );
      await stopped;
    });
}
