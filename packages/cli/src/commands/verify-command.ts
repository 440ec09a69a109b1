import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  RemembrancerError,
  base64Encode,
  bytesEqual,
  errorMessage,
  parseCadenceTarget,
  parseJsonStrict,
  parseReceipt,
  parseTlogPolicyBytes,
  parseVkey,
  verifyReceipt,
  type TlogPolicy,
} from '@vaultmesh/core';
import { EXIT_FAILURE, EXIT_OK, UsageError, printResult } from '../output.js';
import { collect } from '../repeatable-option.js';
import { anchorTrust, readRegistries, readTsaPolicies, readTsaTrustAnchors } from './anchor-trust.js';
import { parseBtcRpc, parseEvmRpc, type ChainViews } from './chain-trust.js';
import {
  anchorCheckLines,
  anchorNotRun,
  anchorsMember,
  verifyAnchors,
  type AnchorVerificationResult,
} from './anchored-verification.js';

interface VerifyOptions {
  logVkey: string[];
  witnessVkey: string[];
  trustedKeys?: string;
  policy?: string;
  registry: string[];
  tsaCa: string[];
  tsaPolicy: string[];
  evmRpc?: string;
  btcRpc?: string;
  confirmations: string;
  require: string[];
  requireAnchor?: boolean;
  json?: boolean;
}

// Verifier keys (c2sp.org/signed-note) carry their type in the key bytes: 0x01 is an Ed25519 log
// key, 0x04 an Ed25519 cosignature (witness) key.
function vkeyType(vkey: string): number {
  try {
    return parseVkey(vkey).type;
  } catch {
    return -1;
  }
}

/** A trusted-keys file: one verifier key per line; blank lines and `#` comments are ignored. */
export function readTrustedKeys(path: string): { log: string[]; witness: string[] } {
  const log: string[] = [];
  const witness: string[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l !== '')
    .forEach((vkey, i) => {
      const t = vkeyType(vkey);
      if (t === 0x01) log.push(vkey);
      else if (t === 0x04) witness.push(vkey);
      else
        throw new UsageError(`${path}: line ${i + 1} is not an Ed25519 log (0x01) or cosignature (0x04) verifier key`);
    });
  return { log, witness };
}

/**
 * A C2SP tlog-policy file (https://c2sp.org/tlog-policy), with the log keys given on the command
 * line added to its logs: the user trusts those logs too. Unreadable or invalid files are usage errors.
 */
export function readPolicy(path: string, extraLogVkeys: readonly string[]): TlogPolicy {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new UsageError(`cannot read policy ${path}: ${errorMessage(e)}`);
  }
  let policy: TlogPolicy;
  try {
    policy = parseTlogPolicyBytes(bytes);
  } catch (e) {
    if (e instanceof RemembrancerError) throw new UsageError(`${path} is not a valid tlog-policy: ${e.message}`);
    throw e;
  }
  const logs = [...policy.logs];
  const keys = logs.map((l) => parseVkey(l.vkey).publicKey);
  for (const vkey of extraLogVkeys) {
    let k;
    try {
      k = parseVkey(vkey);
    } catch (e) {
      throw new UsageError(`--log-vkey ${vkey}: ${errorMessage(e)}`);
    }
    if (k.type !== 0x01) throw new UsageError(`--log-vkey ${vkey} is not an Ed25519 (0x01) log key`);
    // The policy format refuses two logs with one public key; the policy's own entry stands.
    if (keys.some((pk) => bytesEqual(pk, k.publicKey))) continue;
    keys.push(k.publicKey);
    logs.push({ vkey });
  }
  return { ...policy, logs };
}

function chainViews(opts: VerifyOptions): ChainViews {
  const confirmations = Number(opts.confirmations);
  if (!Number.isSafeInteger(confirmations) || confirmations < 1)
    throw new UsageError(`--confirmations must be a whole number of at least 1, not ${opts.confirmations}`);
  return {
    confirmations,
    ...(opts.evmRpc === undefined ? {} : { evmRpc: parseEvmRpc(opts.evmRpc) }),
    ...(opts.btcRpc === undefined ? {} : { btcRpc: parseBtcRpc(opts.btcRpc) }),
  };
}

function checkTargetName(target: string): void {
  try {
    parseCadenceTarget(target);
  } catch (e) {
    throw new UsageError(`--require ${target}: ${errorMessage(e)}`);
  }
}

/** Whether an anchor (attacker-controlled) carries RFC 3161 evidence, which needs --tsa-ca. */
function hasRfc3161Evidence(anchor: unknown): boolean {
  const fr = (anchor as { federation_receipt?: { evidence?: { type?: unknown } } } | null)?.federation_receipt;
  const type = fr?.evidence?.type;
  return type !== 'eip155' && type !== 'btc';
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .argument('<receipt>', "receipt JSON file ('-' for stdin)")
    .description(
      'verify a receipt offline: leaf hash, log signature, inclusion proof, cosignatures, witness policy, and each anchor to its timestamp (exit 0 verified, 1 not, 2 usage)',
    )
    .option('--log-vkey <vkey>', 'trusted log verifier key (repeatable)', collect, [])
    .option('--witness-vkey <vkey>', 'trusted witness verifier key (repeatable)', collect, [])
    .option('--trusted-keys <file>', 'file of trusted verifier keys, one per line')
    .option(
      '--policy <file>',
      'C2SP tlog-policy file (GET /v1/ns/{ns}/policy): its logs are trusted and its witness quorum enforced',
    )
    .option(
      '--registry <file>',
      'federation registry for anchored receipts: a pinned federation.registry.set file, or GET /v1/federation/registry?all=1 output (repeatable)',
      collect,
      [],
    )
    .option(
      '--tsa-ca <file>',
      'PEM trust anchor for the RFC 3161 tokens of anchored receipts (repeatable)',
      collect,
      [],
    )
    .option(
      '--tsa-policy <oid>',
      'accept RFC 3161 tokens only under this TSA policy OID (repeatable: any of them)',
      collect,
      [],
    )
    .option(
      '--evm-rpc <url>',
      'EVM JSON-RPC node: eip155 anchors must be in blocks on its chain (--confirmations deep)',
    )
    .option(
      '--btc-rpc <url>',
      'bitcoind-compatible RPC (http://user:password@host:port/): btc anchors must be in blocks on its best chain',
    )
    .option('--confirmations <n>', 'how deep a chain anchor must be on --evm-rpc / --btc-rpc', '1')
    .option(
      '--require <target>',
      'fail unless an anchor at this target (e.g. btc:regtest, eip155:31337, rfc3161:local) verifies (repeatable)',
      collect,
      [],
    )
    .option('--require-anchor', 'fail unless the receipt has anchors')
    .option('--json', 'machine-readable output')
    .action(async (file: string, opts: VerifyOptions) => {
      const logVkeys = [...opts.logVkey];
      const witnessVkeys = [...opts.witnessVkey];
      if (opts.trustedKeys) {
        const t = readTrustedKeys(opts.trustedKeys);
        logVkeys.push(...t.log);
        witnessVkeys.push(...t.witness);
      }
      const policy = opts.policy === undefined ? undefined : readPolicy(opts.policy, logVkeys);
      if (logVkeys.length === 0 && (policy === undefined || policy.logs.length === 0)) {
        throw new UsageError(
          `no trusted log key: pass --log-vkey VKEY, --trusted-keys FILE${policy ? ' (the policy lists no log)' : ' or --policy FILE'}`,
        );
      }
      const chains = chainViews(opts);
      for (const t of opts.require) checkTargetName(t);
      const registries = readRegistries(opts.registry);
      const tsaAnchors = readTsaTrustAnchors(opts.tsaCa);
      const tsaPolicies = readTsaPolicies(opts.tsaPolicy);
      let raw: unknown;
      try {
        raw = parseJsonStrict(readFileSync(file === '-' ? 0 : file, 'utf8'));
      } catch (e) {
        if (e instanceof RemembrancerError) throw new UsageError(`${file} is not JSON: ${e.message}`);
        throw new UsageError(`cannot read ${file}: ${errorMessage(e)}`);
      }
      const anchors = anchorsMember(raw);
      if (anchors.kind === 'list') {
        // Anchors cannot be checked without keys for them: that is the caller's omission, not the receipt's.
        const missing = [
          ...(registries.size === 0 ? ['--registry FILE (the federation registry)'] : []),
          ...(tsaAnchors.length === 0 && anchors.anchors.some(hasRfc3161Evidence)
            ? ['--tsa-ca FILE (the TSA trust anchor)']
            : []),
        ];
        if (missing.length > 0) {
          throw new UsageError(
            `the receipt has ${anchors.anchors.length} anchor(s); to verify them pass ${missing.join(' and ')}`,
          );
        }
      }
      const result = verifyReceipt(raw, { logVkeys, witnessVkeys, ...(policy ? { policy } : {}) });
      let anchorResults: AnchorVerificationResult[] = [];
      if (anchors.kind === 'list') {
        anchorResults = result.ok
          ? await verifyAnchors(
              parseReceipt(raw),
              anchors.anchors,
              anchorTrust(registries, tsaAnchors, tsaPolicies, chains),
            )
          : anchors.anchors.map((_, i) => anchorNotRun(i, 'the entry receipt did not verify'));
      }
      // A receipt-level problem with the anchors themselves: malformed, or absent when required.
      const unmet = opts.require.filter((t) => !anchorResults.some((a) => a.ok && a.target === t));
      const anchorsProblem =
        anchors.kind === 'invalid'
          ? anchors.why
          : anchors.kind === 'none' && opts.requireAnchor
            ? 'the receipt has no anchors (--require-anchor)'
            : unmet.length > 0
              ? `no verified anchor at ${unmet.join(', ')} (--require)`
              : undefined;
      const ok = result.ok && anchorsProblem === undefined && anchorResults.every((a) => a.ok);
      // JSON output: the checkpoint root as base64, as everywhere else (not a byte-indexed object).
      const json = {
        ...(result.checkpoint
          ? { ...result, checkpoint: { ...result.checkpoint, root: base64Encode(result.checkpoint.root) } }
          : result),
        ok,
        ...(anchors.kind === 'none' ? {} : { anchors: anchorResults }),
        ...(anchorsProblem === undefined ? {} : { anchors_error: anchorsProblem }),
      };
      printResult(opts, json, () =>
        [
          // The policy verdict is worth reading when it passes too: who cosigned, what was needed.
          ...result.checks.map(
            (c) =>
              `${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.ok ? (c.name === 'policy' && c.message ? `: ${c.message}` : '') : `: ${c.message ?? c.code ?? 'failed'}`}`,
          ),
          ...anchorCheckLines(anchorResults),
          ...(anchorsProblem === undefined ? [] : [`FAIL anchors: ${anchorsProblem}`]),
          ok
            ? `receipt verified${anchorResults.length > 0 ? ` to ${anchorResults.length} anchor(s)` : ''}`
            : 'receipt NOT verified',
        ].join('\n'),
      );
      process.exitCode = ok ? EXIT_OK : EXIT_FAILURE;
    });
}
