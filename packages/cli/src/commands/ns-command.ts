import type { Command } from 'commander';
import { clientFrom, withConnection, type ConnectionOptions } from '../client/connection.js';
import { printResult } from '../output.js';

interface NamespaceView {
  id: string;
  origin: string;
  log_vkey: string;
  size: number;
  checkpoint_size: number;
}

function describe(n: NamespaceView): string {
  return [`${n.id}`, `  origin     ${n.origin}`, `  log vkey   ${n.log_vkey}`, `  size       ${n.size} (checkpointed ${n.checkpoint_size})`].join('\n');
}

export function registerNs(program: Command): void {
  const ns = program.command('ns').description('manage namespaces (one append-only log each)');

  withConnection(ns.command('create').argument('<ns>', 'namespace id, e.g. dao:vaultmesh').description('create a namespace (admin token)'))
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts: ConnectionOptions & { json?: boolean }) => {
      const client = clientFrom(opts);
      const view = await client.json<NamespaceView>('PUT', client.nsPath(id), {});
      printResult(opts, view, () => `created ${describe(view)}`);
    });

  withConnection(ns.command('list').description('list namespaces'))
    .option('--json', 'machine-readable output')
    .action(async (opts: ConnectionOptions & { json?: boolean }) => {
      const client = clientFrom(opts);
      const { namespaces } = await client.json<{ namespaces: NamespaceView[] }>('GET', '/v1/ns');
      printResult(opts, namespaces, () => (namespaces.length ? namespaces.map((n) => `${n.id}\t${n.size}\t${n.origin}`).join('\n') : '(no namespaces)'));
    });

  withConnection(ns.command('show').argument('<ns>').description('show a namespace: origin, log key, size, policy'))
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts: ConnectionOptions & { json?: boolean }) => {
      const client = clientFrom(opts);
      const view = await client.json<NamespaceView>('GET', client.nsPath(id));
      printResult(opts, view, () => describe(view));
    });
}
