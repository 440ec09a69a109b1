import { execFile } from 'node:child_process';
import { RemembrancerError } from '@vaultmesh/core';

/** Bound on one openssl run: key generation and signing take milliseconds here. */
export const OPENSSL_TIMEOUT_MS = 15_000;

export interface OpensslResult {
  /** The exit code (0 on success); null when it was killed (timeout). */
  code: number | null;
  output: string;
}

/**
 * Runs the `openssl` command line with `args` in `cwd`, bounded by `timeoutMs` (killed after it).
 * Resolves with the exit code and stdout+stderr whatever the code; rejects only when openssl
 * cannot be started (INTERNAL, e.g. not installed).
 */
export function runOpenssl(
  args: readonly string[],
  cwd: string,
  timeoutMs = OPENSSL_TIMEOUT_MS,
): Promise<OpensslResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'openssl',
      [...args],
      // OPENSSL_CONF would let the environment change what the commands below mean.
      {
        cwd,
        timeout: timeoutMs,
        encoding: 'utf8',
        maxBuffer: 1024 * 1024,
        env: { ...process.env, OPENSSL_CONF: '/dev/null' },
      },
      (error, stdout, stderr) => {
        const output = `${stdout}${stderr}`;
        if (error === null) return resolve({ code: 0, output });
        const code = (error as { code?: unknown }).code;
        if (typeof code === 'string') {
          return reject(
            new RemembrancerError('INTERNAL', `cannot run openssl (${code}): ${error.message}`, { cause: error }),
          );
        }
        resolve({ code: typeof code === 'number' ? code : null, output: output || error.message });
      },
    );
  });
}

/** runOpenssl, failing with INTERNAL and openssl's output unless it exits 0. */
export async function openssl(args: readonly string[], cwd: string, what: string): Promise<string> {
  const r = await runOpenssl(args, cwd);
  if (r.code !== 0) {
    throw new RemembrancerError(
      'INTERNAL',
      `openssl failed to ${what} (exit ${String(r.code)}): ${r.output.trim().slice(0, 500)}`,
    );
  }
  return r.output;
}
