import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  createGenesis,
  errorMessage,
  parseJsonStrict,
  parseRegistry,
  proposeNext,
  registryApprovals,
  registryDigest,
  signRegistry,
  type AnchorStrategy,
  type RegistryPeer,
  type RegistrySet,
} from '@vaultmesh/core';
import { loadNode, localPeerEntry } from '@vaultmesh/node';
import { ApiClient } from '../client/api-client.js';
import { clientFrom, withConnection, type ConnectionOptions } from '../client/connection.js';
import { UsageError, printResult } from '../output.js';
import { collect } from '../repeatable-option.js';

function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[1-9][0-9]{0,5}$/.test(v)) throw new UsageError(`${name} must be a positive integer`);
  return Number(v);
}

export function readRegistryFile(path: string): RegistrySet {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${errorMessage(e)}`);
  }
  return parseRegistry(parseJsonStrict(text));
}

function writeRegistryFile(path: string, set: RegistrySet): void {
  writeFileSync(path, JSON.stringify(set, null, 2) + '\n');
}

/** A peer entry from a running node's /v1/node (what it publishes about itself). */
async function peerFromUrl(url: string): Promise<RegistryPeer> {
  const info = await new ApiClient({ url }).json<{
    name: string;
    endpoint: string;
    log_vkey: string;
    witness_vkey: string;
    auth_key: string;
  }>('GET', '/v1/node');
  return {
    id: info.name,
    endpoint: info.endpoint,
    log_vkey: info.log_vkey,
    witness_vkey: info.witness_vkey,
    auth_key: info.auth_key,
    status: 'active',
    roles: ['log', 'witness', 'anchor'],
  };
}

async function peersFrom(urls: string[], dirs: string[], preferNextKeys = false): Promise<RegistryPeer[]> {
  const fromDirs = dirs.map((d) => localPeerEntry(loadNode(d), undefined, preferNextKeys));
  const fromUrls = await Promise.all(urls.map(peerFromUrl));
  return [...fromDirs, ...fromUrls];
}

function describe(set: RegistrySet): string {
  const prev = set.version === 1 ? null : undefined;
  const approvals = registryApprovals(set, prev === null ? null : null);
  return [
    `${set.federation_id} registry version ${set.version} (digest ${registryDigest(set)})`,
    `  quorum: witness ${set.quorum.witness}, registry changes ${set.quorum.registry}; anchor strategy ${set.anchor_strategy}`,
    ...set.peers.map((p) => `  ${p.status.padEnd(9)} ${p.id}  ${p.endpoint}  [${p.roles.join(',')}]`),
    `  signatures: ${set.signatures.map((s) => s.peer).join(', ') || '(none)'}${set.version === 1 ? ` — genesis needs all ${approvals.required}` : ''}`,
  ].join('\n');
}

/** Sign with each node directory's peer key (operators of local nodes, and `federation up`). */
export function signWithNodes(set: RegistrySet, dirs: readonly string[]): RegistrySet {
  let out = set;
  for (const d of dirs) {
    const node = loadNode(d);
    out = signRegistry(out, node.config.name, node.peerSeed);
  }
  return out;
}

export function registerFederationRegistryCommands(federation: Command): void {
  federation
    .command('init')
    .description('write a genesis registry (version 1) for founding peers; every founder must sign it')
    .requiredOption('--federation-id <id>', 'federation id, e.g. vaultmesh')
    .option('--peer <url>', "a founding node's base URL (its /v1/node is read; repeatable)", collect, [])
    .option('--node <dir>', "a local founding node's data directory (repeatable)", collect, [])
    .option(
      '--witness-quorum <k>',
      'cosignatures a checkpoint needs to count as witnessed (default: half the peers, at least 1)',
    )
    .option('--registry-threshold <t>', 'signatures a registry change needs (default: a majority of active peers)')
    .option('--anchor-strategy <s>', 'collaborative | independent | hybrid', 'collaborative')
    .option('--memo <text>', 'free text kept in the registry', '')
    .option('--sign-with <dir>', "sign with these local nodes' peer keys (repeatable)", collect, [])
    .requiredOption('--out <file>', 'where to write the registry JSON')
    .option('--json', 'machine-readable output')
    .action(
      async (opts: {
        federationId: string;
        peer: string[];
        node: string[];
        witnessQuorum?: string;
        registryThreshold?: string;
        anchorStrategy: string;
        memo: string;
        signWith: string[];
        out: string;
        json?: boolean;
      }) => {
        const peers = await peersFrom(opts.peer, opts.node);
        if (peers.length === 0) throw new UsageError('name the founding peers with --peer URL or --node DIR');
        const n = peers.length;
        let set = createGenesis({
          federation_id: opts.federationId,
          peers,
          quorum: {
            witness: positiveInt('--witness-quorum', opts.witnessQuorum) ?? Math.max(1, Math.floor(n / 2)),
            registry: positiveInt('--registry-threshold', opts.registryThreshold) ?? Math.floor(n / 2) + 1,
          },
          anchor_strategy: opts.anchorStrategy as AnchorStrategy,
          memo: opts.memo,
          effective_after: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        });
        set = signWithNodes(set, opts.signWith);
        writeRegistryFile(opts.out, set);
        printResult(opts, set, () => `${describe(set)}\nwritten to ${opts.out}`);
      },
    );

  federation
    .command('propose')
    .description('write the next registry version: join, suspend, remove, rotate keys, change quorum')
    .requiredOption('--from <file>', 'the registry version in force')
    .option('--add-peer <url>', 'a joining node by base URL (repeatable)', collect, [])
    .option('--add-node <dir>', 'a joining local node by data directory (repeatable)', collect, [])
    .option('--suspend <id>', 'suspend a peer (repeatable)', collect, [])
    .option('--probation <id>', 'put a peer on probation (repeatable)', collect, [])
    .option('--activate <id>', 'make a peer active again (repeatable)', collect, [])
    .option('--remove <id>', 'remove a peer (repeatable)', collect, [])
    .option(
      '--rotate-node <dir>',
      "replace a peer's endpoint and keys with a local node's (its prepared next keys where `keys rotate` made them; repeatable)",
      collect,
      [],
    )
    .option(
      '--rotate-peer <url>',
      "replace a peer's endpoint and keys with what its /v1/node publishes (repeatable)",
      collect,
      [],
    )
    .option('--witness-quorum <k>', 'new witness quorum')
    .option('--registry-threshold <t>', 'new registry threshold')
    .option('--memo <text>', 'memo of this version')
    .option('--sign-with <dir>', "sign with these local nodes' peer keys (repeatable)", collect, [])
    .requiredOption('--out <file>', 'where to write the proposal')
    .option('--json', 'machine-readable output')
    .action(
      async (
        opts: Record<string, string[] | string | boolean | undefined> & { from: string; out: string; json?: boolean },
      ) => {
        const prev = readRegistryFile(opts.from);
        const list = (k: string) => (opts[k] as string[] | undefined) ?? [];
        let peers = prev.peers.map((p) => ({ ...p }));
        const find = (id: string) => {
          const p = peers.find((x) => x.id === id);
          if (!p) throw new UsageError(`no peer '${id}' in version ${prev.version}`);
          return p;
        };
        const setStatus = (ids: string[], status: RegistryPeer['status']) =>
          ids.forEach((id) => (find(id).status = status));
        setStatus(list('suspend'), 'suspended');
        setStatus(list('probation'), 'probation');
        setStatus(list('activate'), 'active');
        for (const id of list('remove')) {
          find(id);
          peers = peers.filter((p) => p.id !== id);
        }
        for (const fresh of await peersFrom(list('rotatePeer'), list('rotateNode'), true)) {
          const p = find(fresh.id);
          Object.assign(p, {
            endpoint: fresh.endpoint,
            log_vkey: fresh.log_vkey,
            witness_vkey: fresh.witness_vkey,
            auth_key: fresh.auth_key,
          });
        }
        for (const joining of await peersFrom(list('addPeer'), list('addNode'))) {
          if (peers.some((p) => p.id === joining.id))
            throw new UsageError(`peer '${joining.id}' is already in the registry`);
          peers.push(joining);
        }
        const witness = positiveInt('--witness-quorum', opts.witnessQuorum as string | undefined);
        const registry = positiveInt('--registry-threshold', opts.registryThreshold as string | undefined);
        let next = proposeNext(prev, {
          peers,
          ...(witness || registry
            ? { quorum: { witness: witness ?? prev.quorum.witness, registry: registry ?? prev.quorum.registry } }
            : {}),
          ...(typeof opts.memo === 'string' ? { memo: opts.memo } : {}),
        });
        next = signWithNodes(next, list('signWith'));
        writeRegistryFile(opts.out, next);
        printResult(
          opts,
          next,
          () =>
            `${describe(next)}\nwritten to ${opts.out}; it needs ${prev.quorum.registry} signatures of version ${prev.version}'s active peers`,
        );
      },
    );

  federation
    .command('sign')
    .argument('<file>', 'registry JSON to sign (rewritten in place unless --out)')
    .description("add this node's signature (its peer key) to a registry version")
    .requiredOption('--data <dir>', "the signing node's data directory")
    .option('--out <file>', 'write the signed registry here instead')
    .option('--json', 'machine-readable output')
    .action((file: string, opts: { data: string; out?: string; json?: boolean }) => {
      const signed = signWithNodes(readRegistryFile(file), [opts.data]);
      writeRegistryFile(opts.out ?? file, signed);
      printResult(opts, signed, () => `${describe(signed)}\nwritten to ${opts.out ?? file}`);
    });

  withConnection(
    federation
      .command('apply')
      .argument('<file>', 'signed registry JSON')
      .description('hand a signed registry version to a node, which verifies it against the version in force'),
  )
    .option('--json', 'machine-readable output')
    .action(async (file: string, opts: ConnectionOptions & { json?: boolean }) => {
      const set = readRegistryFile(file);
      const client = clientFrom(opts);
      const r = await client.json<{ version: number; applied: boolean }>('PUT', '/v1/federation/registry', set);
      printResult(opts, r, () =>
        r.applied
          ? `${client.url} now runs registry version ${r.version}`
          : `${client.url} already held version ${r.version}`,
      );
    });

  withConnection(federation.command('status').description("a node's view of the federation"))
    .option('--json', 'machine-readable output')
    .action(async (opts: ConnectionOptions & { json?: boolean }) => {
      const client = clientFrom(opts);
      const s = await client.json<Record<string, unknown>>('GET', '/v1/federation/status');
      printResult(opts, s, () => JSON.stringify(s, null, 2));
    });
}
