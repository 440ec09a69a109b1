import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { RemembrancerError } from '@vaultmesh/core';

/** How long stopping a dev chain waits after SIGTERM, and again after SIGKILL. */
export const DEV_CHAIN_STOP_TIMEOUT_MS = 5_000;

/**
 * A dev chain whose npm package cannot be resolved: bcoin and @foundry-rs/anvil are development
 * dependencies of the repository, absent from an install without them. `federation up` says so
 * and anchors without that chain; a chain that is installed but fails to start throws a plain
 * RemembrancerError instead. The code is the one for a chain node nobody can reach.
 */
export class DevChainNotInstalledError extends RemembrancerError {
  /** The npm package that is missing. */
  readonly packageName: string;

  constructor(packageName: string, cause: unknown) {
    super(
      'DEV_CHAIN_UNAVAILABLE',
      `${packageName} is not installed (a development dependency: run npm install in the repository)`,
      { cause },
    );
    this.name = 'DevChainNotInstalledError';
    this.packageName = packageName;
  }
}

/** Resolves `specifier` from this package (so from the repository's node_modules), or throws DevChainNotInstalledError. */
export function resolveDevPackage(packageName: string, specifier: string): string {
  try {
    return createRequire(import.meta.url).resolve(specifier);
  } catch (e) {
    throw new DevChainNotInstalledError(packageName, e);
  }
}

/**
 * A plain script of this folder. tsc compiles only the .ts files, so the .mjs scripts stay in
 * src/; dist/anchoring/dev-chains and src/anchoring/dev-chains are at the same depth below the
 * package, so one relative path finds them from the compiled code and from the sources alike.
 */
export function devChainScript(name: string): string {
  return fileURLToPath(new URL(`../../../src/anchoring/dev-chains/${name}`, import.meta.url));
}

/** Resolves once the child has exited, or after `ms` (then whether it exited is in child.exitCode). */
export function exited(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** SIGTERM, then SIGKILL if the child has not exited within DEV_CHAIN_STOP_TIMEOUT_MS. */
export async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await exited(child, DEV_CHAIN_STOP_TIMEOUT_MS);
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await exited(child, DEV_CHAIN_STOP_TIMEOUT_MS);
}

/**
 * Stops the child when this process exits without stopping it (process.exit, an uncaught error);
 * returns what removes that hook. SIGTERM, not SIGKILL: anvil's guard must live to pass it on
 * (a killed guard would orphan anvil). A SIGKILL of this process runs no hook: the children also
 * watch their stdin, which closes then.
 */
export function stopWithThisProcess(child: ChildProcess): () => void {
  const stop = () => {
    child.kill('SIGTERM');
  };
  process.once('exit', stop);
  return () => {
    process.removeListener('exit', stop);
  };
}

/** The last `bytes` of what a child wrote on `streams`, for error messages; drained for the child's whole life. */
export function outputTail(
  child: ChildProcess,
  bytes: number,
  streams: readonly ('stdout' | 'stderr')[] = ['stdout', 'stderr'],
): () => string {
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-bytes);
  };
  for (const s of streams) child[s]?.on('data', keep);
  return () => tail;
}
