import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { RemembrancerError, errorMessage, parseJsonStrict } from '@vaultmesh/core';
import { clientFrom, withConnection, type ConnectionOptions } from '../client/connection.js';
import type { ApiClient } from '../client/api-client.js';
import { UsageError, printResult } from '../output.js';

const BATCH_SIZE = 1000;

interface RecordOptions extends ConnectionOptions {
  ns: string;
  batch?: string;
  receipt: boolean;
  json?: boolean;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function recordOne(client: ApiClient, opts: RecordOptions, file: string | undefined): Promise<void> {
  const text = file === undefined || file === '-' ? await readStdin() : readFileSync(file, 'utf8');
  const entry = parseJsonStrict(text);
  const { index } = await client.json<{ index: number; leaf_hash: string }>(
    'POST',
    client.nsPath(opts.ns, '/entries'),
    entry,
  );
  if (!opts.receipt) {
    printResult(opts, { index }, () => `recorded at index ${index}`);
    return;
  }
  const receipt = await client.receipt(opts.ns, index);
  process.stdout.write(JSON.stringify(receipt, null, 2) + '\n');
}

/** Streams a JSONL file in batches; prints one receipt (or index) per line, in input order. */
async function recordBatch(client: ApiClient, opts: RecordOptions, path: string): Promise<void> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  const bar =
    process.stderr.isTTY && !opts.json
      ? new cliProgress.SingleBar(
          { format: 'recording {bar} {value} entries | {eta_formatted} left', etaBuffer: 50 },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  if (bar) {
    const total = readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '').length;
    bar.start(total, 0);
  }
  const indices: number[] = [];
  let pending: unknown[] = [];
  let lineNo = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    const r = await client.json<{ indices: number[] }>('POST', client.nsPath(opts.ns, '/batch'), { entries: pending });
    indices.push(...r.indices);
    bar?.increment(pending.length);
    pending = [];
  };
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      try {
        pending.push(parseJsonStrict(line));
      } catch (e) {
        throw new RemembrancerError(
          'INVALID_JSON',
          `${path}:${lineNo}: ${errorMessage(e)} (entries before this line were recorded: ${indices.length})`,
        );
      }
      if (pending.length >= BATCH_SIZE) await flush();
    }
    await flush();
  } finally {
    bar?.stop();
  }
  for (const index of indices) {
    const out = opts.receipt ? await client.receipt(opts.ns, index) : { index };
    process.stdout.write(JSON.stringify(out) + '\n');
  }
  if (!opts.json) process.stderr.write(`recorded ${indices.length} entries in ${opts.ns}\n`);
}

export function registerRecord(program: Command): void {
  withConnection(
    program
      .command('record')
      .argument('[file]', "JSON file holding one entry object ('-' or omitted: stdin)")
      .description('record memories and print their receipts'),
  )
    .requiredOption('--ns <ns>', 'namespace')
    .option('--batch <file.jsonl>', 'record every line of a JSON Lines file (batches of 1000, progress on a TTY)')
    .option('--no-receipt', 'print indices instead of waiting for receipts')
    .option('--json', 'machine-readable output')
    .action(async (file: string | undefined, opts: RecordOptions) => {
      const client = clientFrom(opts);
      if (opts.batch && file) throw new UsageError('give either a FILE or --batch, not both');
      if (opts.batch) await recordBatch(client, opts, opts.batch);
      else await recordOne(client, opts, file);
    });
}
