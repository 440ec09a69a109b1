import type { Command } from 'commander';
import { dataPaths, initNode, setPrivateUmask } from '@vaultmesh/node';
import { printResult } from '../output.js';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description(
      'create a node identity: config, log/witness/peer/operator Ed25519 keys and an admin token (mode 0600)',
    )
    .requiredOption('--data <dir>', 'data directory to create')
    .requiredOption('--name <name>', 'node name, e.g. alpha.vaultmesh.local (first part of every origin)')
    .option('--listen <host:port>', 'address serve listens on', '127.0.0.1:8080')
    .option('--json', 'machine-readable output')
    .action((opts: { data: string; name: string; listen: string; json?: boolean }) => {
      // Whatever init (and anything it calls) creates is private; initNode sets exact modes too.
      setPrivateUmask();
      const node = initNode(opts.data, opts.name, { listen: opts.listen });
      const p = dataPaths(opts.data);
      printResult(
        opts,
        {
          name: node.config.name,
          data: opts.data,
          config: p.config,
          admin_token_file: p.adminToken,
          listen: node.config.listen,
        },
        () =>
          [
            `initialised node ${node.config.name} in ${opts.data} (mode 0700)`,
            `  config       ${p.config} (mode 0600)`,
            `  keys         ${p.keys} (mode 0600)`,
            `  admin token  ${p.adminToken} (mode 0600)`,
            `next: remembrancer serve --data ${opts.data}`,
          ].join('\n'),
      );
    });
}
