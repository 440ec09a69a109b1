import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { assertCompiledCliFresh, CLI_BIN } from './compiled-cli.js';

import { e2eStorage } from './e2e-storage.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
// The CLI runs compiled; its dist/ is checked against the sources once, when a test file loads this.
assertCompiledCliFresh();
const NODE_ARGS = [CLI_BIN];

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `remembrancer ARGS` to completion (bounded by timeoutMs), feeding stdin if given. */
export function runCli(
  args: string[],
  options: { stdin?: string; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`remembrancer ${args.join(' ')} timed out; stderr: ${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? '');
  });
}

export interface LongRunningCli {
  child: ChildProcess;
  /** The first line the command printed on stdout, parsed as JSON (`--json` output). */
  first: Record<string, unknown>;
  /** SIGTERM and wait (then SIGKILL if it does not exit in time). */
  stop(): Promise<number | null>;
  /** SIGKILL and wait: a crash. */
  kill(): Promise<void>;
}

export interface ServeProcess extends LongRunningCli {
  url: string;
}

/** Resolves with the child's exit code; SIGKILL after timeoutMs (a stop that hangs then fails on its code). */
export function waitExit(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/**
 * How a long-running CLI process is launched, for fault tests: `prefix` runs it through a command
 * that execs its arguments (e.g. `ip netns exec NAME`, so its pid stays the node's and a signal
 * reaches it), `env` adds variables (e.g. libfaketime's LD_PRELOAD and FAKETIME).
 */
export interface CliLaunch {
  prefix?: readonly string[];
  env?: Record<string, string>;
}

/** Starts a long-running `remembrancer ARGS --json` and resolves with its first output line. */
export function startCli(args: string[], options: { timeoutMs?: number } & CliLaunch = {}): Promise<LongRunningCli> {
  return new Promise((resolve, reject) => {
    const argv = [...(options.prefix ?? []), process.execPath, ...NODE_ARGS, ...args, '--json'];
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`remembrancer ${args.join(' ')} did not start in time; stderr: ${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`remembrancer ${args.join(' ')} exited with ${code} before it was ready; stderr: ${stderr}`));
    });
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      let first: Record<string, unknown>;
      try {
        first = JSON.parse(line) as Record<string, unknown>;
      } catch {
        // Not the ready line: the command failed and prints its (--json) error; report all of it
        // when it exits (the exit listener above rejects, with this output added).
        let out = line + '\n';
        lines.on('line', (l) => (out += l + '\n'));
        child.removeAllListeners('exit');
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(
            new Error(
              `remembrancer ${args.join(' ')} exited with ${code} before it was ready; stdout: ${out}stderr: ${stderr}`,
            ),
          );
        });
        return;
      }
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({
        child,
        first,
        stop: async () => {
          child.kill('SIGTERM');
          return waitExit(child, 10_000);
        },
        kill: async () => {
          child.kill('SIGKILL');
          await waitExit(child, 10_000);
        },
      });
    });
  });
}

/** Starts `remembrancer serve` on an ephemeral loopback port and resolves once it listens. */
export async function startServe(
  dataDir: string,
  options: { timeoutMs?: number; listen?: string; storage?: string } & CliLaunch = {},
): Promise<ServeProcess> {
  const storage = options.storage ?? (await e2eStorage(dataDir));
  const p = await startCli(
    [
      'serve',
      '--data',
      dataDir,
      '--listen',
      options.listen ?? '127.0.0.1:0',
      ...(storage ? ['--storage', storage] : []),
    ],
    options,
  );
  return { ...p, url: p.first.url as string };
}
