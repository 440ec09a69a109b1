import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseJsonStrict } from '@vaultmesh/core';
import { ApiError, type ApiClient } from '../client/api-client.js';
import { clientFrom, withConnection, type ConnectionOptions } from '../client/connection.js';
import { UsageError, printResult } from '../output.js';
import { btcAnchorStatement, fetchReceiptOts } from './receipt-ots.js';

function nonNegative(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^(0|[1-9][0-9]*)$/.test(v) || !Number.isSafeInteger(Number(v)))
    throw new UsageError(`${name} must be a non-negative integer`);
  return Number(v);
}

/** Answers that mean "not yet, ask again shortly": the entry awaits its checkpoint, or the checkpoint its witnesses. */
const NOT_YET = new Set(['NOT_YET_IN_CHECKPOINT', 'NOT_YET_SEALED']);

/**
 * GET `path` as text, retrying (bounded by `waitMs`) while the node answers NOT_YET_* or `ready`
 * says the answer is not yet the one wanted; the response kept for its headers.
 */
async function getPatiently(
  client: ApiClient,
  path: string,
  waitMs: number,
  ready: (answer: { body: string; anchored: string | null }) => boolean = () => true,
): Promise<{ body: string; sealed: boolean | undefined; anchored: boolean | undefined }> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const res = await client.request('GET', path);
      const sealed = res.headers.get('x-sealed');
      const anchored = res.headers.get('x-anchored');
      const body = await res.text();
      if (!ready({ body, anchored }) && deadline - Date.now() > 0) {
        await new Promise((r) => setTimeout(r, Math.min(deadline - Date.now(), 500)));
        continue;
      }
      return {
        body,
        sealed: sealed === null ? undefined : sealed === 'true',
        anchored: anchored === null ? undefined : anchored === 'true',
      };
    } catch (e) {
      const left = deadline - Date.now();
      if (!(e instanceof ApiError) || !NOT_YET.has(e.code) || left <= 0) throw e;
      await new Promise((r) => setTimeout(r, Math.min(left, (e.retryAfterSeconds ?? 0.5) * 1000)));
    }
  }
}

function seconds(name: string, v: string): number {
  if (!/^(0|[1-9][0-9]{0,5})$/.test(v)) throw new UsageError(`${name} must be a whole number of seconds`);
  return Number(v) * 1000;
}

/** `get`, `proof`, `checkpoint` and `receipt`: read-only commands over the public API. */
export function registerReadCommands(program: Command): void {
  withConnection(program.command('get').argument('<index>').description('print an entry with its leaf hash'))
    .requiredOption('--ns <ns>', 'namespace')
    .option('--json', 'machine-readable output')
    .action(async (indexArg: string, opts: ConnectionOptions & { ns: string; json?: boolean }) => {
      const index = nonNegative('index', indexArg)!;
      const client = clientFrom(opts);
      const r = await client.json<{ index: number; entry: unknown; leaf_hash: string }>(
        'GET',
        client.nsPath(opts.ns, `/entries/${index}`),
      );
      printResult(opts, r, () => `index ${r.index}  leaf hash ${r.leaf_hash}\n${JSON.stringify(r.entry, null, 2)}`);
    });

  withConnection(
    program
      .command('proof')
      .description('print an inclusion proof (--index [--size]) or a consistency proof (--from --to)'),
  )
    .requiredOption('--ns <ns>', 'namespace')
    .option('--index <i>', 'entry index for an inclusion proof')
    .option('--size <n>', 'tree size for the inclusion proof (default: the latest checkpoint)')
    .option('--from <a>', 'older tree size for a consistency proof')
    .option('--to <b>', 'newer tree size for a consistency proof (default: the latest checkpoint)')
    .option('--json', 'machine-readable output')
    .action(
      async (
        opts: ConnectionOptions & {
          ns: string;
          index?: string;
          size?: string;
          from?: string;
          to?: string;
          json?: boolean;
        },
      ) => {
        const client = clientFrom(opts);
        const index = nonNegative('--index', opts.index);
        const from = nonNegative('--from', opts.from);
        if ((index === undefined) === (from === undefined))
          throw new UsageError('give --index (inclusion) or --from (consistency)');
        const latest = async () =>
          (await client.json<{ checkpoint_size: number }>('GET', client.nsPath(opts.ns))).checkpoint_size;
        if (index !== undefined) {
          const size = nonNegative('--size', opts.size) ?? (await latest());
          const r = await client.json<{ index: number; size: number; root: string; proof: string[] }>(
            'GET',
            client.nsPath(opts.ns, `/proof/inclusion?index=${index}&size=${size}`),
          );
          printResult(opts, r, () =>
            [
              `inclusion of ${r.index} in tree of size ${r.size}`,
              `root ${r.root}`,
              ...r.proof.map((p, i) => `  [${i}] ${p}`),
            ].join('\n'),
          );
        } else {
          const to = nonNegative('--to', opts.to) ?? (await latest());
          const r = await client.json<{ from: number; to: number; proof: string[] }>(
            'GET',
            client.nsPath(opts.ns, `/proof/consistency?from=${from}&to=${to}`),
          );
          printResult(opts, r, () =>
            [`consistency of size ${r.from} with size ${r.to}`, ...r.proof.map((p, i) => `  [${i}] ${p}`)].join('\n'),
          );
        }
      },
    );

  withConnection(
    program
      .command('checkpoint')
      .description('print the latest signed checkpoint (C2SP signed note, with its cosignatures)'),
  )
    .requiredOption('--ns <ns>', 'namespace')
    .option(
      '--sealed',
      "the latest checkpoint that meets the namespace's witness policy (fails with NOT_YET_SEALED until one does)",
    )
    .option('--wait <seconds>', 'with --sealed: keep asking this long while none is sealed', '0')
    .option('--json', 'machine-readable output')
    .action(async (opts: ConnectionOptions & { ns: string; sealed?: boolean; wait: string; json?: boolean }) => {
      const client = clientFrom(opts);
      const waitMs = seconds('--wait', opts.wait);
      const { body: note, sealed } = await getPatiently(
        client,
        client.nsPath(opts.ns, opts.sealed ? '/checkpoint?sealed=1' : '/checkpoint'),
        waitMs,
      );
      if (opts.json)
        printResult(
          opts,
          { namespace: opts.ns, checkpoint: note, ...(sealed === undefined ? {} : { sealed }) },
          () => note,
        );
      else process.stdout.write(note);
    });

  withConnection(
    program
      .command('receipt')
      .argument('<index>', 'entry index')
      .description(
        'fetch the receipt of an entry (JSON, verifiable offline with `verify`); --sealed: against the latest sealed checkpoint',
      ),
  )
    .requiredOption('--ns <ns>', 'namespace')
    .option(
      '--sealed',
      "refresh the receipt to the latest checkpoint that meets the namespace's witness policy (fails with NOT_YET_SEALED until one covers the entry)",
    )
    .option(
      '--anchored',
      'add the anchors: for each anchor target, the federation receipt of the first epoch that anchored the entry, and the consistency proof to its checkpoint',
    )
    .option(
      '--ots <file>',
      "with the anchors (implies --anchored): write the receipt's Bitcoin anchor to FILE as an OpenTimestamps proof (the node's GET /v1/anchoring/epochs/{target}/{epoch}.ots)",
    )
    .option('--out <file>', 'write the receipt to FILE instead of stdout')
    .option(
      '--wait <seconds>',
      'keep asking this long while the entry is not yet checkpointed, sealed or (--anchored) anchored',
      '0',
    )
    .option('--json', 'machine-readable output (with --out: a summary)')
    .action(
      async (
        indexArg: string,
        opts: ConnectionOptions & {
          ns: string;
          sealed?: boolean;
          anchored?: boolean;
          ots?: string;
          out?: string;
          wait: string;
          json?: boolean;
        },
      ) => {
        const index = nonNegative('index', indexArg)!;
        const waitMs = seconds('--wait', opts.wait);
        const client = clientFrom(opts);
        const query = new URLSearchParams();
        if (opts.sealed) query.set('sealed', '1');
        if (opts.anchored || opts.ots !== undefined) query.set('anchored', '1');
        const { body, anchored } = await getPatiently(
          client,
          client.nsPath(opts.ns, `/receipt/${index}${query.size > 0 ? `?${query.toString()}` : ''}`),
          waitMs,
          // Asked for until an epoch that covers the entry is finalized (--ots: at a btc: target).
          opts.ots !== undefined
            ? ({ body: b }) => btcAnchorStatement(parseJsonStrict(b)) !== undefined
            : opts.anchored
              ? ({ anchored: a }) => a === 'true'
              : undefined,
        );
        // The body is passed on byte for byte: parsing and re-serializing could alter the entry
        // (e.g. integers beyond 2^53), and with it the leaf hash.
        const receipt = parseJsonStrict(body) as { sealed?: unknown; checkpoint?: unknown };
        const text = body.endsWith('\n') ? body : body + '\n';
        // Fetched before anything is written: a receipt without a Bitcoin anchor writes nothing.
        const proof =
          opts.ots === undefined
            ? undefined
            : { file: opts.ots, ...(await fetchReceiptOts(client, receipt, `${opts.ns} entry ${index}`)) };
        if (proof !== undefined) writeFileSync(proof.file, proof.ots);
        const otsNote =
          proof === undefined
            ? ''
            : `OpenTimestamps proof of epoch ${proof.statement.epoch} at ${proof.statement.target} written to ${proof.file} (its digest is the epoch root: ots verify -d ${proof.digest} ${proof.file})`;
        if (opts.out === undefined) {
          process.stdout.write(text);
          // stdout is the receipt (to pipe on): the note goes to stderr.
          if (proof !== undefined && !opts.json) process.stderr.write(`${otsNote}\n`);
          return;
        }
        writeFileSync(opts.out, text);
        const sealed = typeof receipt.sealed === 'boolean' ? receipt.sealed : undefined;
        printResult(
          opts,
          {
            namespace: opts.ns,
            index,
            file: opts.out,
            ...(sealed === undefined ? {} : { sealed }),
            ...(anchored === undefined ? {} : { anchored }),
            ...(proof === undefined
              ? {}
              : {
                  ots: {
                    file: proof.file,
                    target: proof.statement.target,
                    epoch: proof.statement.epoch,
                    digest: proof.digest,
                  },
                }),
          },
          () =>
            `receipt of ${opts.ns} entry ${index} written to ${opts.out}${sealed === undefined ? '' : sealed ? ' (sealed)' : ' (not sealed yet)'}${anchored === undefined ? '' : anchored ? ' (anchored)' : ' (not anchored yet)'}${otsNote === '' ? '' : `\n${otsNote}`}`,
        );
      },
    );
}
