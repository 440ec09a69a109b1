import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface, type Interface } from 'node:readline';
import { REPO_ROOT } from './cli-process.js';

/*
 * A Linux network namespace for partition tests: processes run in it have a loopback of their
 * own, so they reach each other at 127.0.0.1:<port> but neither the host's 127.0.0.1 ports nor
 * the host theirs — a real partition, unlike SIGSTOP. Needs root (CAP_SYS_ADMIN) and iproute2.
 */

export interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface NetNs {
  name: string;
  /** Prefix a command runs inside the namespace with (`ip netns exec` execs it: same pid). */
  prefix: readonly string[];
  /** One HTTP request from inside the namespace (a node one-liner run there). */
  fetchText(url: string, init?: FetchInit): Promise<{ status: number; text: string }>;
  /** The same, its body parsed as JSON. */
  fetchJson<T>(url: string, init?: FetchInit): Promise<{ status: number; body: T }>;
  /** Deletes the namespace (its processes must be stopped first: a namespace lives while they do). */
  remove(): void;
}

const IP_TIMEOUT_MS = 10_000;

/**
 * Creates a uniquely named namespace with its loopback up, or returns why it cannot (not root,
 * no iproute2, a container without the capability): the caller skips its test with that reason.
 * Synchronous so a test file can decide to skip when it loads.
 */
export function createNetNs(label: string): NetNs | string {
  const name = `rmb-${label}-${process.pid}-${randomBytes(3).toString('hex')}`;
  try {
    execFileSync('ip', ['netns', 'add', name], { timeout: IP_TIMEOUT_MS, stdio: 'pipe' });
  } catch (e) {
    return `network namespaces are not available here (\`ip netns add\` failed: ${(e as Error).message.split('\n')[0]})`;
  }
  const remove = (): void => {
    try {
      execFileSync('ip', ['netns', 'delete', name], { timeout: IP_TIMEOUT_MS, stdio: 'pipe' });
    } catch {
      // Already gone.
    }
  };
  try {
    execFileSync('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up'], {
      timeout: IP_TIMEOUT_MS,
      stdio: 'pipe',
    });
  } catch (e) {
    remove();
    return `cannot bring up loopback in a network namespace: ${(e as Error).message.split('\n')[0]}`;
  }
  const prefix = ['ip', 'netns', 'exec', name];
  const netns: NetNs = {
    name,
    prefix,
    fetchText(url, init = {}) {
      return new Promise((resolve, reject) => {
        execFile(
          prefix[0]!,
          [...prefix.slice(1), process.execPath, '--input-type=module', '-e', FETCH_SCRIPT, url, JSON.stringify(init)],
          { timeout: 20_000 },
          (err, stdout, stderr) => {
            if (err) reject(new Error(`fetch ${url} in netns ${name} failed: ${err.message} ${stderr}`));
            else resolve(JSON.parse(stdout) as { status: number; text: string });
          },
        );
      });
    },
    async fetchJson<T>(url: string, init: FetchInit = {}) {
      const r = await netns.fetchText(url, init);
      return { status: r.status, body: (r.text === '' ? undefined : JSON.parse(r.text)) as T };
    },
    remove,
  };
  return netns;
}

/** Run in the namespace by fetchJson: argv URL and init (JSON); prints {status, text}. */
const FETCH_SCRIPT = `
const [url, init] = process.argv.slice(1);
const r = await fetch(url, { ...JSON.parse(init), signal: AbortSignal.timeout(10000) });
process.stdout.write(JSON.stringify({ status: r.status, text: await r.text() }));
`;

/** A dev TSA (startDevTsa) in its own process inside a namespace, on a given port of its loopback. */
export interface NetNsDevTsa {
  url: string;
  caCertPem: string;
  /** Requests it received so far (asked of the process). */
  requests(): Promise<number>;
  stop(): Promise<void>;
}

/** Run in the namespace by startDevTsaIn: argv dir and port; prints {url, ca}, then answers `requests` lines. */
const TSA_SCRIPT = `
import { createInterface } from 'node:readline';
import { startDevTsa } from '@vaultmesh/node';
const [dir, port] = process.argv.slice(1);
const tsa = await startDevTsa({ dir, name: 'netns', port: Number(port) });
process.stdout.write(JSON.stringify({ url: tsa.url, ca: tsa.caCertPem }) + '\\n');
for await (const line of createInterface({ input: process.stdin }))
  if (line === 'requests') process.stdout.write(JSON.stringify({ requests: tsa.requests() }) + '\\n');
await tsa.stop();
`;

function nextLine(lines: Interface, child: ChildProcess, what: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer in ${timeoutMs} ms`)), timeoutMs);
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`${what}: the process exited (${code})`));
    };
    child.once('exit', onExit);
    lines.once('line', (line) => {
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve(line);
    });
  });
}

/**
 * Starts a dev TSA inside `ns` listening on 127.0.0.1:`port` of the namespace's loopback (the
 * compiled @vaultmesh/node, as the e2e nodes run). Its stdin closing stops it.
 */
export async function startDevTsaIn(ns: NetNs, dir: string, port: number): Promise<NetNsDevTsa> {
  const child = spawn(
    ns.prefix[0]!,
    [...ns.prefix.slice(1), process.execPath, '--input-type=module', '-e', TSA_SCRIPT, dir, String(port)],
    { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin!.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  let first: { url: string; ca: string };
  try {
    first = JSON.parse(await nextLine(lines, child, 'the netns dev TSA start', 30_000)) as typeof first;
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    url: first.url,
    caCertPem: first.ca,
    async requests() {
      const answer = nextLine(lines, child, 'the netns dev TSA request count', 10_000);
      child.stdin!.write('requests\n');
      return (JSON.parse(await answer) as { requests: number }).requests;
    },
    stop,
  };
}
