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
    .option(
      '--storage <sqlite|postgres-url>',
      "where the node's state lives (default: the config's storage, else SQLite files in --data); " +
        'with PostgreSQL, several serve processes of one node share the database and one at a time runs it',
    )
    .option('--json', 'machine-readable output')
    .action(async (opts: { data: string; listen?: string; storage?: string; json?: boolean }) => {
      const node = await runNode({
        dataDir: opts.data,
        ...(opts.listen ? { listen: opts.listen } : {}),
        ...(opts.storage ? { storage: opts.storage } : {}),
        onStandby: (holder) =>
          process.stderr.write(
            `standing by: front end ${holder?.holder ?? '?'} holds the sequencing lease${holder?.holderUrl ? ` (${holder.holderUrl})` : ''}\n`,
          ),
      });
      // Losing the lease (PostgreSQL) ends this process with EX_TEMPFAIL (75): its supervisor starts it
      // again, as a standby, which takes over when the lease is free (docs/scale-out.md).
      void node.leaseLost.then(async () => {
        process.stderr.write('the sequencing lease was lost: closing (exit 75)\n');
        await node.close().catch(() => undefined);
        process.exit(75);
      });
      const stopped = stopOnSignal(() => node.close());
      // The first stdout line tells scripts and tests where the node listens.
      process.stdout.write(
        opts.json
          ? JSON.stringify({
              event: 'listening',
              url: node.url,
              name: node.identity.config.name,
              storage: node.storage,
            }) + '\n'
          : `listening on ${node.url}\n`,
      );
      await stopped;
    });
}
