import { createServer } from 'node:net';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJsonStrict, parseRegistry, type AnchorStrategy, type RegistrySet } from '@vaultmesh/core';
import { freePorts, waitFor as pollUntil } from '../../../packages/node/test/federation/federation-fixture.js';
import { runCli, startServe, type CliLaunch, type ServeProcess } from './cli-process.js';

const NAMES = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta'];

export { freePorts };

export interface FederationNode {
  name: string;
  dir: string;
  listen: string;
  url: string;
  token: string;
  proc: ServeProcess | undefined;
}

/** How the genesis registry is made (`federation init` options). */
export interface LocalFederationOptions {
  /** The registry's anchor_strategy (`--anchor-strategy`); `federation init`'s default is collaborative. */
  anchorStrategy?: AnchorStrategy;
  /**
   * Node i's own config.json members over the shared ones (a key file of its own, written into
   * its data dir here, before it is started).
   */
  nodeConfig?: (i: number, dir: string) => Record<string, unknown>;
}

export interface LocalFederation {
  nodes: FederationNode[];
  registry: RegistrySet;
  /** Starts node i's `serve` again from its data dir (launched through `launch`, if given: a netns, a skewed clock). */
  restart(i: number, launch?: CliLaunch): Promise<void>;
  kill(i: number): Promise<void>;
  pause(i: number): void;
  resume(i: number): void;
  stopAll(): Promise<void>;
}

async function cliOk(args: string[]): Promise<string> {
  const r = await runCli(args, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`remembrancer ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/**
 * N real node processes on loopback, founded the way operators do it: `init` each, one
 * `federation init` genesis signed by every founder, `serve` each, `federation apply` to each.
 */
export async function startLocalFederation(
  root: string,
  n: number,
  config: Record<string, unknown> = {},
  options: LocalFederationOptions = {},
): Promise<LocalFederation> {
  // Ports are picked before the nodes are initialised and started, so another process on the
  // machine (a parallel test) can take one meanwhile: then the whole federation is made again on
  // fresh ports (its processes are stopped by then; its files are removed).
  for (let attempt = 1; ; attempt++) {
    try {
      return await startLocalFederationOnce(root, n, config, options);
    } catch (e) {
      if (attempt >= 3 || !/EADDRINUSE|address already in use/.test((e as Error).message)) throw e;
      for (const name of [...NAMES.slice(0, n).map((x) => `${x}.e2e.local`), 'genesis.json'])
        rmSync(join(root, name), { recursive: true, force: true });
    }
  }
}

async function startLocalFederationOnce(
  root: string,
  n: number,
  config: Record<string, unknown>,
  options: LocalFederationOptions,
): Promise<LocalFederation> {
  const ports = await freePorts(n);
  const nodes: FederationNode[] = [];
  for (let i = 0; i < n; i++) {
    const name = `${NAMES[i]}.e2e.local`;
    const dir = join(root, name);
    const listen = `127.0.0.1:${ports[i]}`;
    await cliOk(['init', '--data', dir, '--name', name, '--listen', listen]);
    const own = options.nodeConfig?.(i, dir) ?? {};
    if (Object.keys(config).length > 0 || Object.keys(own).length > 0) {
      const cfg = join(dir, 'config.json');
      const merged = { ...(JSON.parse(readFileSync(cfg, 'utf8')) as object), ...config, ...own };
      writeFileSync(cfg, JSON.stringify(merged, null, 2));
    }
    nodes.push({
      name,
      dir,
      listen,
      url: `http://${listen}`,
      token: readFileSync(join(dir, 'admin.token'), 'utf8').trim(),
      proc: undefined,
    });
  }
  const genesis = join(root, 'genesis.json');
  await cliOk([
    'federation',
    'init',
    '--federation-id',
    'e2e',
    ...(options.anchorStrategy === undefined ? [] : ['--anchor-strategy', options.anchorStrategy]),
    ...nodes.flatMap((x) => ['--node', x.dir, '--sign-with', x.dir]),
    '--out',
    genesis,
  ]);
  const registry = parseRegistry(parseJsonStrict(readFileSync(genesis, 'utf8')));
  const fed: LocalFederation = {
    nodes,
    registry,
    async restart(i, launch = {}) {
      const node = nodes[i]!;
      node.proc = await startServe(node.dir, { listen: node.listen, ...launch });
    },
    async kill(i) {
      await nodes[i]!.proc?.kill();
      nodes[i]!.proc = undefined;
    },
    pause(i) {
      nodes[i]!.proc?.child.kill('SIGSTOP');
    },
    resume(i) {
      nodes[i]!.proc?.child.kill('SIGCONT');
    },
    async stopAll() {
      await Promise.all(
        nodes.map(async (x) => {
          x.proc?.child.kill('SIGCONT');
          await x.proc?.kill();
          x.proc = undefined;
        }),
      );
    },
  };
  try {
    // Every start settles before any failure is handled: with Promise.all a node still starting
    // when another failed (a port taken meanwhile) would be stopped by no one and outlive the test.
    const started = await Promise.allSettled(nodes.map((_, i) => fed.restart(i)));
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    for (const x of nodes) await cliOk(['federation', 'apply', genesis, '--url', x.url, '--data', x.dir]);
  } catch (e) {
    await fed.stopAll();
    throw e;
  }
  return fed;
}

/** The federation fixture's poll (one implementation for unit and e2e tests), with e2e's longer default bound. */
export function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  return pollUntil(what, check, timeoutMs);
}

/** A base port with `n` consecutive ports free on 127.0.0.1 right now (for `federation up`). */
export async function freePortRange(n: number, attempts = 20): Promise<number> {
  for (let a = 0; a < attempts; a++) {
    const base = 20000 + Math.floor(Math.random() * 40000);
    const ok = await Promise.all(
      Array.from(
        { length: n },
        (_, i) =>
          new Promise<boolean>((resolve) => {
            const s = createServer();
            s.once('error', () => resolve(false));
            s.listen(base + i, '127.0.0.1', () => s.close(() => resolve(true)));
          }),
      ),
    );
    if (ok.every(Boolean)) return base;
  }
  throw new Error(`no ${n} consecutive free ports found`);
}
