import type { Command } from 'commander';
import { runNode } from '@vaultmesh/node';
import { stopOnSignal } from '../stop-on-signal.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'run a node: HTTP API, sequencer, integrator and checkpoint publisher; creates files 0600 (umask 077), ' +
        'repairs group/other permissions in the data directory (logged) and refuses readable keys or admin token',
    )
    .requiredOption('--data <dir>', 'data directory made by init')
    .option('--listen <host:port>', "listen address (default: the config's)")
    .option('--json', 'machine-readable output')
    .action(async (opts: { data: string; listen?: string; json?: boolean }) => {
      const node = await runNode({ dataDir: opts.data, ...(opts.listen ? { listen: opts.listen } : {}) });
      const stopped = stopOnSignal(() => node.close());
      // The first stdout line tells scripts and tests where the node listens.
      process.stdout.write(
        opts.json
          ? JSON.stringify({ event: 'listening', url: node.url, name: node.identity.config.name }) + '\n'
          : `listening on ${node.url}\n`,
      );
      await stopped;
    });
}
