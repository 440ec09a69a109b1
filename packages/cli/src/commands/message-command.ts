import type { Command } from 'commander';
import { withConnection } from '../client/connection.js';
import { collect } from '../repeatable-option.js';
import { messageInbox, type InboxOptions } from './message-inbox.js';
import { sendMessage, type SendOptions } from './message-send.js';
import { messageStatus, type StatusOptions } from './message-status.js';

/** `message send|status|inbox`: cross-namespace messages (docs/messaging.md). */
export function registerMessage(program: Command): void {
  const message = program
    .command('message')
    .description('send messages between namespaces, follow their delivery, read an inbox');

  withConnection(
    message
      .command('send')
      .description(
        'append a message to the source namespace and queue it for proven delivery (POST /v1/ns/{src}/messages); prints NS/ID, its entry index, seq and state',
      ),
  )
    .requiredOption('--from <ns>', 'source namespace (the token must be one of its writers)')
    .requiredOption('--to <node/ns>', 'target: node name and namespace id, e.g. alpha.vaultmesh.local/dao:vaultmesh')
    .requiredOption(
      '--action <action>',
      'notify (no answer), query (answered with in_reply_to) or invoke (runs --operation)',
    )
    .requiredOption(
      '--operation <op>',
      'operation name, e.g. record (invoke: append the parameters as an entry of the target)',
    )
    .option('--params <file>', "JSON object of parameters ('-' reads stdin; default {})")
    .option('--expires-in <duration>', 'expire after this long, e.g. 90s, 15m, 2h, 7d (default: the node decides)')
    .option('--expires-at <time>', 'expire at this RFC 3339 UTC time')
    .option('--in-reply-to <id>', 'the id of the query this message answers')
    .option(
      '--wait <state>',
      'wait until sealed (its sent proof exists) or delivered (the target recorded it); refused or expired exit 1 with the code',
    )
    .option('--timeout <seconds>', 'how long --wait waits', '30')
    .option('--json', 'machine-readable output')
    .action(async (opts: SendOptions) => sendMessage(opts));

  withConnection(
    message
      .command('status')
      .argument('<message>', 'NS/ID as `message send` prints it (or ID with --ns NS)')
      .description(
        'what the source node knows of a sent message: state, attempts, last error, delivery (GET /v1/ns/{src}/messages/{id})',
      ),
  )
    .option('--ns <ns>', 'source namespace, when <message> is a bare id')
    .option('--proofs', 'print both proofs: the sent tlog-proof (source log) and the delivery receipt (target log)')
    .option('--verify', 'check both proofs offline and print each check; exit 1 unless sent and delivered both verify')
    .option('--log-vkey <vkey>', 'with --verify: trusted log key, of a namespace or a node (repeatable)', collect, [])
    .option('--witness-vkey <vkey>', 'with --verify: trusted witness key (repeatable)', collect, [])
    .option('--trusted-keys <file>', 'with --verify: file of trusted verifier keys, one per line')
    .option(
      '--registry <file>',
      'with --verify: a pinned federation registry whose nodes’ log keys are trusted (repeatable)',
      collect,
      [],
    )
    .option(
      '--min-witnesses <k>',
      'with --verify: cosignatures of the trusted witnesses each checkpoint needs (default 1 if any is given, else 0)',
    )
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      '\nWithout --log-vkey, --trusted-keys or --registry, --verify takes the log keys from the node asked\n' +
        '(its federation registry, else GET /v1/node) and says so: pin keys for a check independent of it.',
    )
    .action(async (arg: string, opts: StatusOptions) => messageStatus(arg, opts));

  withConnection(
    message
      .command('inbox')
      .argument('<ns>', 'target namespace (read with one of its tokens or the admin token)')
      .description(
        'verified messages delivered to a namespace, with their delivery entries (GET /v1/ns/{ns}/inbox); one line each, JSON Lines with --json',
      ),
  )
    .option('--after <cursor>', 'print the items after this cursor', '0')
    .option('--limit <n>', 'at most this many items')
    .option('--wait <seconds>', 'when none is there yet, wait up to this long (at most 30) for one', '0')
    .option('--follow', 'keep printing items as they arrive (server-sent events) until SIGINT/SIGTERM; reconnects')
    .option('--json', 'one JSON object per item and line')
    .action(async (ns: string, opts: InboxOptions) => messageInbox(ns, opts));
}
