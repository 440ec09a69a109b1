import type { Command } from 'commander';
import {
  CosignatureSigner,
  NoteSigner,
  WRITER_ID_PATTERN,
  peerAuthKeyName,
  peerWitnessKeyName,
  publicKeyBase64,
} from '@vaultmesh/core';
import { generateKeyFile, loadNode, prepareKeyRotation } from '@vaultmesh/node';
import { UsageError, printResult } from '../output.js';

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description("a node's keys");
  keys
    .command('rotate')
    .description(
      'prepare a new witness or peer key (keys/<key>.next.key); the node switches to it once a registry version lists it',
    )
    .requiredOption('--data <dir>', "the node's data directory")
    .requiredOption('--key <key>', 'witness | peer')
    .option('--json', 'machine-readable output')
    .action((opts: { data: string; key: string; json?: boolean }) => {
      if (opts.key !== 'witness' && opts.key !== 'peer') throw new UsageError('--key must be witness or peer');
      const node = loadNode(opts.data);
      const seed = prepareKeyRotation(opts.data, opts.key);
      const vkey =
        opts.key === 'witness'
          ? new CosignatureSigner(peerWitnessKeyName(node.config.name), seed).vkey
          : new NoteSigner(peerAuthKeyName(node.config.name), seed).vkey;
      printResult(opts, { key: opts.key, next_vkey: vkey }, () =>
        [
          `prepared a new ${opts.key} key for ${node.config.name}: ${vkey}`,
          'next: propose the registry version that lists it, collect the signatures, apply it everywhere:',
          `  remembrancer federation propose --from CURRENT.json --rotate-node ${opts.data} --out NEXT.json`,
          'the node switches to the new key as soon as it receives that version (no restart).',
        ].join('\n'),
      );
    });

  keys
    .command('operator')
    .description(
      "make a governance operator key file (mode 0600); prints the entry for a node's config.json governance.operators",
    )
    .requiredOption('--out <file>', 'where to write the key (refuses to overwrite)')
    .requiredOption('--id <id>', 'operator id, e.g. ops-1 or alice@example.org')
    .option('--json', 'machine-readable output')
    .action((opts: { out: string; id: string; json?: boolean }) => {
      if (!WRITER_ID_PATTERN.test(opts.id)) throw new UsageError(`--id must match ${WRITER_ID_PATTERN.source}`);
      const seed = generateKeyFile(opts.out, 'operator');
      const operator = { id: opts.id, ed25519: publicKeyBase64(seed) };
      printResult(opts, operator, () =>
        [
          `wrote ${opts.out}`,
          'add this operator to config.json "governance": {"threshold": K, "operators": [...]} of each node it governs:',
          `  ${JSON.stringify(operator)}`,
        ].join('\n'),
      );
    });
}
