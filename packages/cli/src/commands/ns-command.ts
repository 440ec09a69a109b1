import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { buildNamespaceCreate, buildNamespacePolicySet, parseGovernanceDocument, signDocument } from '@vaultmesh/core';
import { clientFrom, withConnection, type ConnectionOptions } from '../client/connection.js';
import { UsageError, printResult } from '../output.js';
import { collect } from '../repeatable-option.js';
import { signAndSubmit, signers, type SignOptions } from './governance-signing.js';
import { readJsonFile, specFromOptions, tokenLines, withSpecOptions } from './namespace-spec-options.js';
import { describe, pickSpec, type NamespaceView } from './namespace-view.js';

export function registerNs(program: Command): void {
  const ns = program.command('ns').description('manage namespaces: tenants with their own log and rules');

  withSpecOptions(
    ns
      .command('create')
      .argument('<ns>', 'namespace id, e.g. dao:vaultmesh')
      .description('create a namespace (admin token, or operator keys with --sign-with)'),
  ).action(async (id: string, opts: SignOptions) => {
    const { body, tokens } = specFromOptions(opts);
    if (opts.signWith) {
      const doc = buildNamespaceCreate({
        namespace: id,
        spec: body,
        ...(opts.effectiveAfter ? { effective_after: opts.effectiveAfter } : {}),
      });
      return signAndSubmit(opts, doc, tokens);
    }
    const client = clientFrom(opts);
    const q = opts.effectiveAfter ? `?effective_after=${encodeURIComponent(opts.effectiveAfter)}` : '';
    const view = await client.json<NamespaceView>('PUT', client.nsPath(id) + q, body, { 'if-none-match': '*' });
    printResult(
      opts,
      { ...view, tokens },
      () =>
        (view.origin
          ? `created ${describe(view)}`
          : `namespace.create recorded as governance #${view.governance?.index}, effective after ${view.governance?.effective_after}`) +
        tokenLines(tokens),
    );
  });

  withSpecOptions(
    ns
      .command('set-policy')
      .argument('<ns>')
      .description("change a namespace's rules; members not given keep their values"),
  ).action(async (id: string, opts: SignOptions) => {
    const client = clientFrom(opts);
    if (opts.signWith) {
      const current = await client.json<NamespaceView>('GET', client.nsPath(id));
      if (current.pending?.length)
        throw new UsageError(
          `${id} has pending changes (governance #${current.pending.map((p) => p.index).join(', #')}); sign after they take effect`,
        );
      const { body, tokens } = specFromOptions(opts, current);
      const doc = buildNamespacePolicySet({
        namespace: id,
        version: current.version + 1,
        spec: body,
        base: pickSpec(current),
        ...(opts.effectiveAfter ? { effective_after: opts.effectiveAfter } : {}),
      });
      return signAndSubmit(opts, doc, tokens);
    }
    const current = await client.json<NamespaceView>('GET', client.nsPath(id));
    const { body, tokens } = specFromOptions(opts, current);
    const q = opts.effectiveAfter ? `?effective_after=${encodeURIComponent(opts.effectiveAfter)}` : '';
    const view = await client.json<NamespaceView>('PUT', client.nsPath(id) + q, body, { 'if-match': '*' });
    printResult(
      opts,
      { ...view, tokens },
      () =>
        (view.origin
          ? `updated ${describe(view)}`
          : `namespace.policy.set recorded as governance #${view.governance?.index}, effective after ${view.governance?.effective_after}`) +
        tokenLines(tokens),
    );
  });

  withConnection(
    ns
      .command('set-cadence')
      .argument('<ns>')
      .description('set the sealing and anchoring cadence (fast/strong/cold levels)'),
  )
    .requiredOption(
      '--cadence <file>',
      'cadence JSON, e.g. {"fast": {"target": "rfc3161:local", "every": "89s", "confirmations": 0}}',
    )
    .option('--effective-after <time>', 'RFC 3339 UTC time the change takes effect (default: now)')
    .option('--json', 'machine-readable output')
    .action(
      async (id: string, opts: ConnectionOptions & { cadence: string; effectiveAfter?: string; json?: boolean }) => {
        const client = clientFrom(opts);
        const q = opts.effectiveAfter ? `?effective_after=${encodeURIComponent(opts.effectiveAfter)}` : '';
        const view = await client.json<NamespaceView>(
          'PUT',
          client.nsPath(id, '/cadence') + q,
          readJsonFile(opts.cadence),
        );
        printResult(opts, view, () =>
          view.origin ? describe(view) : `governance.cadence.set recorded as governance #${view.governance?.index}`,
        );
      },
    );

  withConnection(
    ns
      .command('sign')
      .argument('<file>', 'a governance document written by --out')
      .description('add an operator signature to a governance document'),
  )
    .requiredOption('--sign-with <keyfile>', 'operator key file', collect)
    .option(
      '--operator-id <id>',
      'operator id of each key, in the same order; repeatable (default for one key: <node name>/operator of --data)',
      collect,
    )
    .option('--json', 'machine-readable output')
    .action(async (file: string, opts: SignOptions) => {
      let doc = readJsonFile(file) as Record<string, unknown>;
      const keys = signers(opts);
      for (const k of keys) doc = signDocument(doc, k.id, k.seed);
      parseGovernanceDocument(doc);
      writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
      printResult(
        opts,
        doc,
        () =>
          `${file}: signed by ${keys.map((k) => k.id).join(', ')} (${(doc.signatures as unknown[]).length} signatures)`,
      );
    });

  withConnection(
    ns
      .command('submit')
      .argument('<file>', 'a signed governance document')
      .description('submit a governance document signed by enough operators'),
  )
    .option('--json', 'machine-readable output')
    .action(async (file: string, opts: ConnectionOptions & { json?: boolean }) => {
      const client = clientFrom(opts);
      const r = await client.json<{ index: number; schema: string; effective: boolean; effective_after: string }>(
        'POST',
        '/v1/governance',
        readJsonFile(file),
      );
      printResult(
        opts,
        r,
        () =>
          `${r.schema} recorded as governance #${r.index}, ${r.effective ? 'in force' : `effective after ${r.effective_after}`}`,
      );
    });

  withConnection(ns.command('list').description('list namespaces'))
    .option('--json', 'machine-readable output')
    .action(async (opts: ConnectionOptions & { json?: boolean }) => {
      const client = clientFrom(opts);
      const { namespaces } = await client.json<{ namespaces: NamespaceView[] }>('GET', '/v1/ns');
      printResult(opts, namespaces, () =>
        namespaces.length
          ? namespaces.map((n) => `${n.id}\t${n.size}\tv${n.version}\t${n.visibility ?? ''}\t${n.origin}`).join('\n')
          : '(no namespaces)',
      );
    });

  withConnection(
    ns.command('show').argument('<ns>').description('show a namespace: origin, log key, size and every rule in force'),
  )
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts: ConnectionOptions & { json?: boolean }) => {
      const client = clientFrom(opts);
      const view = await client.json<NamespaceView>('GET', client.nsPath(id));
      printResult(opts, view, () => describe(view));
    });
}
