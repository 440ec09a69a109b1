import type { Command } from 'commander';
import { CosignatureSigner, NoteSigner, peerAuthKeyName, peerWitnessKeyName } from '@vaultmesh/core';
import { loadNode, prepareKeyRotation, type RotatableKey } from '@vaultmesh/node';
import { UsageError, printResult } from '../output.js';

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description("a node's keys");
  keys
    .command('rotate')
    .description('prepare a new witness or peer key (keys/<key>.next.key); the node switches to it once a registry version lists it')
    .requiredOption('--data <dir>', "the node's data directory")
    .requiredOption('--key <key>', 'witness | peer')
    .option('--json', 'machine-readable output')
    .action((opts: { data: string; key: string; json?: boolean }) => {
      if (opts.key !== 'witness' && opts.key !== 'peer') throw new UsageError('--key must be witness or peer');
      const node = loadNode(opts.data);
      const seed = prepareKeyRotation(opts.data, opts.key as RotatableKey);
      const vkey =
        opts.key === 'witness' ? new CosignatureSigner(peerWitnessKeyName(node.config.name), seed).vkey : new NoteSigner(peerAuthKeyName(node.config.name), seed).vkey;
      printResult(opts, { key: opts.key, next_vkey: vkey }, () =>
        [
          `prepared a new ${opts.key} key for ${node.config.name}: ${vkey}`,
          'next: propose the registry version that lists it, collect the signatures, apply it everywhere:',
          `  remembrancer federation propose --from CURRENT.json --rotate-node ${opts.data} --out NEXT.json`,
          'the node switches to the new key as soon as it receives that version (no restart).',
        ].join('\n'),
      );
    });
}
