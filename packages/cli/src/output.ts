import { RemembrancerError } from '@vaultmesh/core';

/** Exit codes shared by every command: 0 success, 1 failure (or "not verified"), 2 usage. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface OutputOptions {
  json?: boolean;
}

export function printResult(opts: OutputOptions, value: unknown, human: () => string): void {
  process.stdout.write(opts.json ? JSON.stringify(value, null, 2) + '\n' : human() + '\n');
}

export function printError(opts: OutputOptions, e: unknown): void {
  const code = e instanceof RemembrancerError ? e.code : e instanceof UsageError ? 'USAGE' : 'INTERNAL';
  const message = e instanceof Error ? e.message : String(e);
  if (opts.json) process.stdout.write(JSON.stringify({ error: { code, message } }, null, 2) + '\n');
  else process.stderr.write(`error: ${message}${code !== 'USAGE' && code !== 'INTERNAL' ? ` (${code})` : ''}\n`);
}
