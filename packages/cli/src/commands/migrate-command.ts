import type { Command } from 'commander';
import { migrateToPostgres, setPrivateUmask } from '@vaultmesh/node';
import { printResult } from '../output.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description(
      'copy a stopped node from its SQLite files into an empty PostgreSQL database (one transaction), ' +
        'then verify row counts and every namespace root; the node then serves from it with --storage URL',
    )
    .requiredOption('--from <dir>', 'data directory of the stopped node')
    .requiredOption('--to <url>', 'postgres:// URL of an empty database')
    .option('--json', 'machine-readable output')
    .action(async (opts: { from: string; to: string; json?: boolean }) => {
      setPrivateUmask();
      let last = '';
      const report = await migrateToPostgres({
        dataDir: opts.from,
        url: opts.to,
        onProgress: ({ table, rows }) => {
          if (opts.json || table === last) return;
          last = table;
          process.stderr.write(`copying ${table} (${rows} rows so far)\n`);
        },
      });
      printResult(opts, report, () =>
        [
          `copied ${opts.from} into PostgreSQL and verified it:`,
          ...report.tables.map(
            (t) => `  ${t.to.padEnd(28)} ${String(t.rows).padStart(10)} rows (from ${t.store} ${t.from})`,
          ),
          ...report.namespaces.map((n) => `  ${n.id}: ${n.size} entries, root ${n.root} (recomputed from the copy)`),
          `next: set storage {"kind": "postgres", "url": …} in config.json, or: remembrancer serve --data ${opts.from} --storage URL`,
        ].join('\n'),
      );
    });
}
