import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { base64Encode, crypto, errorMessage, parseJsonStrict, type NamespaceSpec } from '@vaultmesh/core';
import { tokenSha256 } from '@vaultmesh/node';
import { withConnection } from '../client/connection.js';
import { UsageError } from '../output.js';
import { collect } from '../repeatable-option.js';

/** The flags of `ns create` and `ns set-policy`: a spec file and shorthands for its members. */
export interface SpecOptions {
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

/** Strict JSON from a file (or stdin for `-`); a bad file is a usage error naming it. */
export function readJsonFile(path: string): unknown {
  try {
    return parseJsonStrict(path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`${path}: ${errorMessage(e)}`);
  }
}

/** A token to hand to a writer: 32 random bytes, base64url. Only its SHA-256 goes into the spec. */
function newToken(): string {
  return base64Encode(crypto.randomBytes(32)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * The spec members the flags give (plus --spec FILE underneath), and the tokens generated for
 * --new-token, which are printed once and never stored anywhere but in the writer's hands.
 */
export function specFromOptions(
  opts: SpecOptions,
  current?: NamespaceSpec,
): { body: Record<string, unknown>; tokens: Record<string, string> } {
  const body: Record<string, unknown> = opts.spec ? (readJsonFile(opts.spec) as Record<string, unknown>) : {};
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new UsageError('--spec must hold a JSON object');
  if (opts.description !== undefined) body.description = opts.description;
  if (opts.private && opts.public) throw new UsageError('give --private or --public, not both');
  if (opts.private) body.visibility = 'private';
  if (opts.public) body.visibility = 'public';
  if (opts.witnesses !== undefined || opts.minWitnesses !== undefined) {
    const allowlist =
      opts.witnesses !== undefined
        ? opts.witnesses.split(',').filter((s) => s !== '')
        : (current?.witness_policy.allowlist ?? []);
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

/** The spec flags plus the offline-signing flags, on top of the connection flags. */
export function withSpecOptions(cmd: Command): Command {
  return withConnection(cmd)
    .option(
      '--spec <file>',
      'namespace spec JSON ({description, visibility, witness_policy, schema_policy, writers, limits, cadence, messaging}); - reads stdin',
    )
    .option('--description <text>', 'description')
    .option('--private', 'readers need a read token')
    .option('--public', 'anyone may read')
    .option('--witnesses <ids>', 'comma-separated peer ids whose witness cosignatures count')
    .option(
      '--min-witnesses <k>',
      'cosignatures of distinct allowlisted witnesses that seal a checkpoint (default: all)',
    )
    .option('--allow-schema <pattern>', 'allowed entry schema, name@<semver range> or *; repeatable', collect)
    .option(
      '--writer-key <id=pubkey>',
      'a writer that signs entries with this base64 Ed25519 public key; repeatable',
      collect,
    )
    .option(
      '--new-token <id[:scopes]>',
      'mint a bearer token for writer id (scopes write+read by default; e.g. reader:read); printed once; repeatable',
      collect,
    )
    .option('--effective-after <time>', 'RFC 3339 UTC time the change takes effect (default: now)')
    .option(
      '--sign-with <keyfile>',
      'sign the governance document with this operator key file (e.g. DATA/keys/operator.key) and submit it to POST /v1/governance; repeatable',
      collect,
    )
    .option(
      '--operator-id <id>',
      'operator id of each --sign-with key, in the same order; repeatable (default for one key: <node name>/operator of --data)',
      collect,
    )
    .option(
      '--out <file>',
      'with --sign-with: write the signed document here instead of submitting (for more operators to sign)',
    )
    .option('--json', 'machine-readable output');
}

/** The one-time display of minted tokens. */
export function tokenLines(tokens: Record<string, string>): string {
  const ids = Object.keys(tokens);
  return ids.length === 0
    ? ''
    : '\n' + ids.map((id) => `token for ${id}: ${tokens[id]}   (shown once; store it now)`).join('\n');
}
