import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { RemembrancerError, errorMessage, parseJsonStrict } from '@vaultmesh/core';
import { clientFrom, withConnection, type ConnectionOptions } from '../client/connection.js';
import type { ApiClient } from '../client/api-client.js';
import { UsageError, printResult } from '../output.js';

const BATCH_SIZE = 1000;

/** Exit code of `record --wait` when the node stored the entry but no receipt came within the timeout. */
export const EXIT_RECEIPT_PENDING = 3;

/** The longest --timeout: the CLI's requests give up after 30 s, the node's wait must end first. */
const MAX_WAIT_TIMEOUT_SECONDS = 25;

interface RecordOptions extends ConnectionOptions {
  ns: string;
  batch?: string;
  receipt: boolean;
  json?: boolean;
  wait?: string;
  timeout?: string;
}

/** The query of a waiting append, from --wait and --timeout (undefined: not waiting). */
function waitQuery(opts: RecordOptions): string | undefined {
  if (opts.wait === undefined) {
    if (opts.timeout !== undefined) throw new UsageError('--timeout is only taken with --wait');
    return undefined;
  }
  if (opts.wait !== 'checkpoint' && opts.wait !== 'sealed')
    throw new UsageError("--wait must be 'checkpoint' or 'sealed'");
  if (opts.batch) throw new UsageError('--wait records one entry; use it without --batch');
  if (!opts.receipt) throw new UsageError('--wait prints the receipt; it cannot be combined with --no-receipt');
  let query = `?wait=${opts.wait}`;
  if (opts.timeout !== undefined) {
    const s = Number(opts.timeout);
    if (!/^\d+(\.\d{1,3})?$/.test(opts.timeout) || !(s > 0 && s <= MAX_WAIT_TIMEOUT_SECONDS))
      throw new UsageError(`--timeout must be seconds above 0 and at most ${MAX_WAIT_TIMEOUT_SECONDS}`);
    query += `&timeout=${opts.timeout}`;
  }
  return query;
}

/**
 * One round trip: the node answers with the receipt once a checkpoint (or a sealed one) covers the
 * entry, or 202 with where to poll; then this says so on stderr and exits EXIT_RECEIPT_PENDING.
 */
async function recordWaiting(client: ApiClient, opts: RecordOptions, entry: unknown, query: string): Promise<void> {
  const res = await client.request('POST', client.nsPath(opts.ns, '/entries') + query, entry);
  const body = (await res.json()) as { index?: number };
  if (res.status !== 202) {
    process.stdout.write(JSON.stringify(body, null, 2) + '\n');
    return;
  }
  const location = res.headers.get('location') ?? client.nsPath(opts.ns, `/receipt/${body.index}`);
  printResult(
    opts,
    { ...body, receipt_pending: location },
    () => `recorded at index ${body.index}; no ${opts.wait} receipt in time: poll GET ${location}`,
  );
  process.exitCode = EXIT_RECEIPT_PENDING;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function recordOne(client: ApiClient, opts: RecordOptions, file: string | undefined): Promise<void> {
  const text = file === undefined || file === '-' ? await readStdin() : readFileSync(file, 'utf8');
  const entry = parseJsonStrict(text);
  const query = waitQuery(opts);
  if (query !== undefined) return recordWaiting(client, opts, entry, query);
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
    .option(
      '--wait <what>',
      `'checkpoint' or 'sealed': one request that answers with the receipt once a (sealed) checkpoint covers the entry (exit ${EXIT_RECEIPT_PENDING} if not in time)`,
    )
    .option('--timeout <seconds>', 'how long --wait waits (default 10, at most 25)')
    .option('--json', 'machine-readable output')
    .action(async (file: string | undefined, opts: RecordOptions) => {
      const client = clientFrom(opts);
      if (opts.batch && file) throw new UsageError('give either a FILE or --batch, not both');
      waitQuery(opts);
      if (opts.batch) await recordBatch(client, opts, opts.batch);
      else await recordOne(client, opts, file);
    });
}
