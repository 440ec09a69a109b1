import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { RemembrancerError, parseJsonStrict, parseVkey, verifyReceipt } from '@vaultmesh/core';
import { EXIT_FAILURE, EXIT_OK, UsageError, printResult } from '../output.js';

interface VerifyOptions {
  logVkey: string[];
  witnessVkey: string[];
  trustedKeys?: string;
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
      else throw new UsageError(`${path}: line ${i + 1} is not an Ed25519 log (0x01) or cosignature (0x04) verifier key`);
    });
  return { log, witness };
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .argument('<receipt>', "receipt JSON file ('-' for stdin)")
    .description('verify a receipt offline: leaf hash, log signature, inclusion proof, cosignatures (exit 0 verified, 1 not, 2 usage)')
    .option('--log-vkey <vkey>', 'trusted log verifier key (repeatable)', collect, [])
    .option('--witness-vkey <vkey>', 'trusted witness verifier key (repeatable)', collect, [])
    .option('--trusted-keys <file>', 'file of trusted verifier keys, one per line')
    .option('--json', 'machine-readable output')
    .action((file: string, opts: VerifyOptions) => {
      const logVkeys = [...opts.logVkey];
      const witnessVkeys = [...opts.witnessVkey];
      if (opts.trustedKeys) {
        const t = readTrustedKeys(opts.trustedKeys);
        logVkeys.push(...t.log);
        witnessVkeys.push(...t.witness);
      }
      if (logVkeys.length === 0) throw new UsageError('no trusted log key: pass --log-vkey VKEY or --trusted-keys FILE');
      let raw: unknown;
      try {
        raw = parseJsonStrict(readFileSync(file === '-' ? 0 : file, 'utf8'));
      } catch (e) {
        if (e instanceof RemembrancerError) throw new UsageError(`${file} is not JSON: ${e.message}`);
        throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
      }
      const result = verifyReceipt(raw as never, { logVkeys, witnessVkeys });
      printResult(opts, result, () =>
        [
          ...result.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.ok ? '' : `: ${c.message ?? c.code ?? 'failed'}`}`),
          result.ok ? 'receipt verified' : 'receipt NOT verified',
        ].join('\n'),
      );
      process.exitCode = result.ok ? EXIT_OK : EXIT_FAILURE;
    });
}
