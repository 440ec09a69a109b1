import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  base64Encode,
  crypto,
  parseGovernanceDocument,
  parseJsonStrict,
  parseNamespaceSpec,
  signDocument,
  type NamespaceSpec,
} from '@vaultmesh/core';
import { readKeyFile, tokenSha256 } from '@vaultmesh/node';
import { clientFrom, withConnection, type ConnectionOptions } from '../client/connection.js';
import { UsageError, printResult } from '../output.js';

interface NamespaceView extends NamespaceSpec {
  id: string;
  origin: string;
  log_vkey: string;
  size: number;
  checkpoint_size: number;
  version: number;
  created_at: string;
  updated_at: string;
  cadence_schedule?: Record<string, { target: string; every: string; next_due: string }>;
  pending?: { index: number; schema: string; effective_after: string }[];
  governance?: { index: number; schema: string; effective: boolean; effective_after: string };
}

interface SpecOptions {
  spec?: string;
  description?: string;
  private?: boolean;
  public?: boolean;
  witnesses?: string;
  minWitnesses?: string;
  allowSchema?: string[];
  writerKey?: string[];
  newToken?: string[];
  effectiveAfter?: string;
  signWith?: string[];
  out?: string;
  json?: boolean;
}

function readJsonFile(path: string): unknown {
  try {
    return parseJsonStrict(path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`${path}: ${(e as Error).message}`);
  }
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** A token to hand to a writer: 32 random bytes, base64url. Only its SHA-256 goes into the spec. */
function newToken(): string {
  return base64Encode(crypto.randomBytes(32)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * The spec members the flags give (plus --spec FILE underneath), and the tokens generated for
 * --new-token, which are printed once and never stored anywhere but in the writer's hands.
 */
function specFromOptions(opts: SpecOptions, current?: NamespaceSpec): { body: Record<string, unknown>; tokens: Record<string, string> } {
  const body: Record<string, unknown> = opts.spec ? (readJsonFile(opts.spec) as Record<string, unknown>) : {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new UsageError('--spec must hold a JSON object');
  if (opts.description !== undefined) body.description = opts.description;
  if (opts.private && opts.public) throw new UsageError('give --private or --public, not both');
  if (opts.private) body.visibility = 'private';
  if (opts.public) body.visibility = 'public';
  if (opts.witnesses !== undefined || opts.minWitnesses !== undefined) {
    const allowlist = opts.witnesses !== undefined ? opts.witnesses.split(',').filter((s) => s !== '') : (current?.witness_policy.allowlist ?? []);
    const min = opts.minWitnesses !== undefined ? Number(opts.minWitnesses) : allowlist.length;
    body.witness_policy = { min_required: min, allowlist };
  }
  if (opts.allowSchema) body.schema_policy = { allow: opts.allowSchema };
  const tokens: Record<string, string> = {};
  if (opts.writerKey || opts.newToken) {
    const writers: unknown[] = [...((body.writers as unknown[] | undefined) ?? current?.writers ?? [])];
    for (const w of opts.writerKey ?? []) {
      const eq = w.indexOf('=');
      if (eq <= 0) throw new UsageError(`--writer-key wants ID=BASE64_PUBLIC_KEY, got ${JSON.stringify(w)}`);
      writers.push({ id: w.slice(0, eq), ed25519: w.slice(eq + 1) });
    }
    for (const t of opts.newToken ?? []) {
      const [id, scopes] = t.split(':') as [string, string | undefined];
      const token = newToken();
      tokens[id] = token;
      writers.push({ id, token_sha256: tokenSha256(token), scopes: scopes ? scopes.split('+') : ['write', 'read'] });
    }
    body.writers = writers;
  }
  return { body, tokens };
}

function describe(n: NamespaceView): string {
  const lines = [
    `${n.id}  (rules version ${n.version}, ${n.visibility})`,
    `  origin       ${n.origin}`,
    `  log vkey     ${n.log_vkey}`,
    `  size         ${n.size} (checkpointed ${n.checkpoint_size})`,
  ];
  if (n.description) lines.push(`  description  ${n.description}`);
  if (n.witness_policy) {
    const w = n.witness_policy;
    lines.push(`  witnesses    ${w.min_required} of [${w.allowlist.join(', ')}] seal a checkpoint`);
  }
  if (n.schema_policy) lines.push(`  schemas      ${n.schema_policy.allow.join(', ') || '(none allowed)'}`);
  if (n.writers) lines.push(`  writers      ${n.writers.length ? n.writers.map((w) => ('ed25519' in w ? `${w.id} (key)` : `${w.id} (token: ${w.scopes.join('+')})`)).join(', ') : '(admin token only)'}`);
  if (n.limits) {
    const l = n.limits;
    const rate = l.rate_per_second === null ? 'unlimited' : `${l.rate_per_second}/s burst ${l.burst}`;
    lines.push(`  limits       entry ≤ ${l.max_entry_bytes} B, rate ${rate}, quota ${l.quota_entries ?? '∞'} entries / ${l.quota_bytes ?? '∞'} B`);
  }
  for (const [level, s] of Object.entries(n.cadence_schedule ?? {})) lines.push(`  cadence      ${level}: ${s.target} every ${s.every}, next due ${s.next_due}`);
  for (const p of n.pending ?? []) lines.push(`  pending      ${p.schema} (governance #${p.index}) effective after ${p.effective_after}`);
  return lines.join('\n');
}

function withSpecOptions(cmd: Command): Command {
  return withConnection(cmd)
    .option('--spec <file>', 'namespace spec JSON ({description, visibility, witness_policy, schema_policy, writers, limits, cadence}); - reads stdin')
    .option('--description <text>', 'description')
    .option('--private', 'readers need a read token')
    .option('--public', 'anyone may read')
    .option('--witnesses <ids>', 'comma-separated peer ids whose witness cosignatures count')
    .option('--min-witnesses <k>', 'cosignatures of distinct allowlisted witnesses that seal a checkpoint (default: all)')
    .option('--allow-schema <pattern>', 'allowed entry schema, name@<semver range> or *; repeatable', collect)
    .option('--writer-key <id=pubkey>', 'a writer that signs entries with this base64 Ed25519 public key; repeatable', collect)
    .option('--new-token <id[:scopes]>', 'mint a bearer token for writer id (scopes write+read by default; e.g. reader:read); printed once; repeatable', collect)
    .option('--effective-after <time>', 'RFC 3339 UTC time the change takes effect (default: now)')
    .option('--sign-with <keyfile>', 'sign the governance document with this operator key file (e.g. DATA/keys/operator.key) and submit it to POST /v1/governance; repeatable', collect)
    .option('--operator-id <id>', 'operator id of each --sign-with key, in the same order; repeatable (default for one key: <node name>/operator of --data)', collect)
    .option('--out <file>', 'with --sign-with: write the signed document here instead of submitting (for more operators to sign)')
    .option('--json', 'machine-readable output');
}

type SignOptions = SpecOptions & ConnectionOptions & { operatorId?: string[] };

/** Each --sign-with key file with its operator id: --operator-id given once per key, in the same order. */
function signers(opts: SignOptions): { id: string; seed: Uint8Array }[] {
  const files = opts.signWith ?? [];
  let ids = opts.operatorId ?? [];
  if (ids.length === 0 && opts.data && files.length === 1) {
    ids = [`${(JSON.parse(readFileSync(`${opts.data}/config.json`, 'utf8')) as { name: string }).name}/operator`];
  }
  if (ids.length !== files.length) throw new UsageError(`give one --operator-id per --sign-with key (${files.length} keys, ${ids.length} ids)`);
  return files.map((f, i) => ({ id: ids[i]!, seed: readKeyFile(f, 'operator') }));
}

/** Offline path: build the governance document here, sign it with operator key files, then submit or save it. */
async function signAndSubmit(opts: SignOptions, doc: Record<string, unknown>, tokens: Record<string, string>): Promise<void> {
  let signed: Record<string, unknown> = doc;
  for (const k of signers(opts)) signed = signDocument(signed, k.id, k.seed);
  parseGovernanceDocument(signed);
  if (opts.out) {
    writeFileSync(opts.out, JSON.stringify(signed, null, 2) + '\n');
    printResult(opts, { document: signed, tokens }, () => `wrote ${opts.out}; more operators sign it with 'ns sign ${opts.out} --sign-with KEY --operator-id ID', then 'ns submit ${opts.out}'`);
    return;
  }
  const client = clientFrom(opts);
  const r = await client.json<{ index: number; effective: boolean; effective_after: string }>('POST', '/v1/governance', signed);
  printResult(opts, { ...r, tokens }, () => `${doc.schema} recorded as governance #${r.index}, ${r.effective ? 'in force' : `effective after ${r.effective_after}`}${tokenLines(tokens)}`);
}

function tokenLines(tokens: Record<string, string>): string {
  const ids = Object.keys(tokens);
  return ids.length === 0 ? '' : '\n' + ids.map((id) => `token for ${id}: ${tokens[id]}   (shown once; store it now)`).join('\n');
}

export function registerNs(program: Command): void {
  const ns = program.command('ns').description('manage namespaces: tenants with their own log and rules');

  withSpecOptions(ns.command('create').argument('<ns>', 'namespace id, e.g. dao:vaultmesh').description('create a namespace (admin token, or operator keys with --sign-with)')).action(
    async (id: string, opts: SignOptions) => {
      const { body, tokens } = specFromOptions(opts);
      if (opts.signWith) {
        const now = new Date().toISOString();
        const doc = { schema: 'namespace.create@1.0.0', namespace: id, version: 1, spec: parseNamespaceSpec(body), issued_at: now, effective_after: opts.effectiveAfter ?? now };
        return signAndSubmit(opts, doc, tokens);
      }
      const client = clientFrom(opts);
      const q = opts.effectiveAfter ? `?effective_after=${encodeURIComponent(opts.effectiveAfter)}` : '';
      const view = await client.json<NamespaceView>('PUT', client.nsPath(id) + q, body, { 'if-none-match': '*' });
      printResult(opts, { ...view, tokens }, () => (view.origin ? `created ${describe(view)}` : `namespace.create recorded as governance #${view.governance?.index}, effective after ${view.governance?.effective_after}`) + tokenLines(tokens));
    },
  );

  withSpecOptions(ns.command('set-policy').argument('<ns>').description("change a namespace's rules; members not given keep their values")).action(async (id: string, opts: SignOptions) => {
    const client = clientFrom(opts);
    if (opts.signWith) {
      const current = await client.json<NamespaceView>('GET', client.nsPath(id));
      if (current.pending?.length) throw new UsageError(`${id} has pending changes (governance #${current.pending.map((p) => p.index).join(', #')}); sign after they take effect`);
      const { body, tokens } = specFromOptions(opts, current);
      const now = new Date().toISOString();
      const doc = { schema: 'namespace.policy.set@1.0.0', namespace: id, version: current.version + 1, spec: parseNamespaceSpec(body, pickSpec(current)), issued_at: now, effective_after: opts.effectiveAfter ?? now };
      return signAndSubmit(opts, doc, tokens);
    }
    const current = await client.json<NamespaceView>('GET', client.nsPath(id));
    const { body, tokens } = specFromOptions(opts, current);
    const q = opts.effectiveAfter ? `?effective_after=${encodeURIComponent(opts.effectiveAfter)}` : '';
    const view = await client.json<NamespaceView>('PUT', client.nsPath(id) + q, body, { 'if-match': '*' });
    printResult(opts, { ...view, tokens }, () => (view.origin ? `updated ${describe(view)}` : `namespace.policy.set recorded as governance #${view.governance?.index}, effective after ${view.governance?.effective_after}`) + tokenLines(tokens));
  });

  withConnection(ns.command('set-cadence').argument('<ns>').description('set the sealing and anchoring cadence (fast/strong/cold levels)'))
    .requiredOption('--cadence <file>', 'cadence JSON, e.g. {"fast": {"target": "rfc3161:local", "every": "89s", "confirmations": 0}}')
    .option('--effective-after <time>', 'RFC 3339 UTC time the change takes effect (default: now)')
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts: ConnectionOptions & { cadence: string; effectiveAfter?: string; json?: boolean }) => {
      const client = clientFrom(opts);
      const q = opts.effectiveAfter ? `?effective_after=${encodeURIComponent(opts.effectiveAfter)}` : '';
      const view = await client.json<NamespaceView>('PUT', client.nsPath(id, '/cadence') + q, readJsonFile(opts.cadence));
      printResult(opts, view, () => (view.origin ? describe(view) : `governance.cadence.set recorded as governance #${view.governance?.index}`));
    });

  withConnection(ns.command('sign').argument('<file>', 'a governance document written by --out').description('add an operator signature to a governance document'))
    .requiredOption('--sign-with <keyfile>', 'operator key file', collect)
    .option('--operator-id <id>', 'operator id of each key, in the same order; repeatable (default for one key: <node name>/operator of --data)', collect)
    .option('--json', 'machine-readable output')
    .action(async (file: string, opts: SignOptions) => {
      let doc = readJsonFile(file) as Record<string, unknown>;
      const keys = signers(opts);
      for (const k of keys) doc = signDocument(doc, k.id, k.seed);
      parseGovernanceDocument(doc);
      writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
      printResult(opts, doc, () => `${file}: signed by ${keys.map((k) => k.id).join(', ')} (${(doc.signatures as unknown[]).length} signatures)`);
    });

  withConnection(ns.command('submit').argument('<file>', 'a signed governance document').description('submit a governance document signed by enough operators'))
    .option('--json', 'machine-readable output')
    .action(async (file: string, opts: ConnectionOptions & { json?: boolean }) => {
      const client = clientFrom(opts);
      const r = await client.json<{ index: number; schema: string; effective: boolean; effective_after: string }>('POST', '/v1/governance', readJsonFile(file));
      printResult(opts, r, () => `${r.schema} recorded as governance #${r.index}, ${r.effective ? 'in force' : `effective after ${r.effective_after}`}`);
    });

  withConnection(ns.command('list').description('list namespaces'))
    .option('--json', 'machine-readable output')
    .action(async (opts: ConnectionOptions & { json?: boolean }) => {
      const client = clientFrom(opts);
      const { namespaces } = await client.json<{ namespaces: NamespaceView[] }>('GET', '/v1/ns');
      printResult(opts, namespaces, () =>
        namespaces.length ? namespaces.map((n) => `${n.id}\t${n.size}\tv${n.version}\t${n.visibility ?? ''}\t${n.origin}`).join('\n') : '(no namespaces)',
      );
    });

  withConnection(ns.command('show').argument('<ns>').description('show a namespace: origin, log key, size and every rule in force'))
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts: ConnectionOptions & { json?: boolean }) => {
      const client = clientFrom(opts);
      const view = await client.json<NamespaceView>('GET', client.nsPath(id));
      printResult(opts, view, () => describe(view));
    });
}

function pickSpec(v: NamespaceView): NamespaceSpec {
  return {
    description: v.description,
    visibility: v.visibility,
    witness_policy: v.witness_policy,
    schema_policy: v.schema_policy,
    writers: v.writers,
    limits: v.limits,
    cadence: v.cadence,
  };
}
