import type { Command } from 'commander';
import { clientFrom, withConnection, type ConnectionOptions } from '../client/connection.js';
import { UsageError, printResult } from '../output.js';

function nonNegative(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^(0|[1-9][0-9]*)$/.test(v) || !Number.isSafeInteger(Number(v))) throw new UsageError(`${name} must be a non-negative integer`);
  return Number(v);
}

/** `get`, `proof` and `checkpoint`: read-only commands over the public API. */
export function registerReadCommands(program: Command): void {
  withConnection(program.command('get').argument('<index>').description('print an entry with its leaf hash'))
    .requiredOption('--ns <ns>', 'namespace')
    .option('--json', 'machine-readable output')
    .action(async (indexArg: string, opts: ConnectionOptions & { ns: string; json?: boolean }) => {
      const index = nonNegative('index', indexArg)!;
      const client = clientFrom(opts);
      const r = await client.json<{ index: number; entry: unknown; leaf_hash: string }>('GET', client.nsPath(opts.ns, `/entries/${index}`));
      printResult(opts, r, () => `index ${r.index}  leaf hash ${r.leaf_hash}\n${JSON.stringify(r.entry, null, 2)}`);
    });

  withConnection(program.command('proof').description('print an inclusion proof (--index [--size]) or a consistency proof (--from --to)'))
    .requiredOption('--ns <ns>', 'namespace')
    .option('--index <i>', 'entry index for an inclusion proof')
    .option('--size <n>', 'tree size for the inclusion proof (default: the latest checkpoint)')
    .option('--from <a>', 'older tree size for a consistency proof')
    .option('--to <b>', 'newer tree size for a consistency proof (default: the latest checkpoint)')
    .option('--json', 'machine-readable output')
    .action(async (opts: ConnectionOptions & { ns: string; index?: string; size?: string; from?: string; to?: string; json?: boolean }) => {
      const client = clientFrom(opts);
      const index = nonNegative('--index', opts.index);
      const from = nonNegative('--from', opts.from);
      if ((index === undefined) === (from === undefined)) throw new UsageError('give --index (inclusion) or --from (consistency)');
      const latest = async () => (await client.json<{ checkpoint_size: number }>('GET', client.nsPath(opts.ns))).checkpoint_size;
      if (index !== undefined) {
        const size = nonNegative('--size', opts.size) ?? (await latest());
        const r = await client.json<{ index: number; size: number; root: string; proof: string[] }>('GET', client.nsPath(opts.ns, `/proof/inclusion?index=${index}&size=${size}`));
        printResult(opts, r, () => [`inclusion of ${r.index} in tree of size ${r.size}`, `root ${r.root}`, ...r.proof.map((p, i) => `  [${i}] ${p}`)].join('\n'));
      } else {
        const to = nonNegative('--to', opts.to) ?? (await latest());
        const r = await client.json<{ from: number; to: number; proof: string[] }>('GET', client.nsPath(opts.ns, `/proof/consistency?from=${from}&to=${to}`));
        printResult(opts, r, () => [`consistency of size ${r.from} with size ${r.to}`, ...r.proof.map((p, i) => `  [${i}] ${p}`)].join('\n'));
      }
    });

  withConnection(program.command('checkpoint').description('print the latest signed checkpoint (C2SP signed note)'))
    .requiredOption('--ns <ns>', 'namespace')
    .option('--json', 'machine-readable output')
    .action(async (opts: ConnectionOptions & { ns: string; json?: boolean }) => {
      const client = clientFrom(opts);
      const note = await client.text('GET', client.nsPath(opts.ns, '/checkpoint'));
      if (opts.json) printResult(opts, { namespace: opts.ns, checkpoint: note }, () => note);
      else process.stdout.write(note);
    });
}
