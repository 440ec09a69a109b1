// The messaging benchmark's two nodes: real node processes (the compiled CLI's `serve`, founded by
// the e2e harness as operators found a federation) on loopback with the default checkpoint
// interval. The sender's namespaces are witnessed by the receiving node (witness_policy k = 1), and
// the target namespace takes their messages only with that cosignature (min_witnesses 1): every
// message travels under a checkpoint sealed by the other node. Not a benchmark itself.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FederationNode, LocalFederation } from '../test/e2e/harness/local-federation.ts';

export const TARGET_NS = 'bench:inbox';
export const OPERATION = 'bench.tick';

export interface MessagingPair {
  sender: FederationNode;
  receiver: FederationNode;
  fed: LocalFederation;
  stop(): Promise<void>;
}

/** One request, bounded, answering its status and JSON body. */
export async function requestJson<T>(
  url: string,
  init: RequestInit,
  timeoutMs = 30_000,
): Promise<{ status: number; body: T }> {
  const r = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  const text = await r.text();
  return { status: r.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

function adminHeaders(node: FederationNode): Record<string, string> {
  return { authorization: `Bearer ${node.token}`, 'content-type': 'application/json' };
}

async function putNamespace(node: FederationNode, ns: string, spec: object): Promise<void> {
  const r = await requestJson(`${node.url}/v1/ns/${ns}`, {
    method: 'PUT',
    headers: { ...adminHeaders(node), 'if-none-match': '*' },
    body: JSON.stringify(spec),
  });
  if (r.status !== 201)
    throw new Error(`PUT /v1/ns/${ns} on ${node.name} answered ${r.status}: ${JSON.stringify(r.body)}`);
}

/**
 * BENCH_CPU_PROF_DIR=DIR (an absolute path outside the repo): both nodes are started again under
 * `node --cpu-prof`, writing a .cpuprofile each into DIR when the bench stops them — how the
 * per-message CPU is found (a profiler flag is refused in NODE_OPTIONS). The node's pid stays the
 * process's (sh execs node), so the CPU readings from /proc still hold.
 */
async function restartProfiled(fed: LocalFederation, dir: string): Promise<void> {
  const prefix = ['sh', '-c', `exec "$0" --cpu-prof --cpu-prof-dir='${dir.replaceAll("'", '')}' "$@"`];
  for (let i = 0; i < fed.nodes.length; i++) {
    await fed.nodes[i]!.proc?.stop();
    await fed.restart(i, { prefix });
  }
}

/**
 * Builds the compiled CLI the nodes run (the e2e harness refuses a dist/ older than its sources),
 * starts two nodes and creates `sources` on the first, witnessed by the second, and TARGET_NS on
 * the second, accepting notify messages from exactly those sources. The caller stops it.
 */
export async function startMessagingPair(sources: readonly string[]): Promise<MessagingPair> {
  execFileSync('npx', ['tsc', '-b', 'packages/core', 'packages/node', 'packages/cli'], { stdio: 'inherit' });
  // Imported after the build: loading the harness checks that the compiled CLI is fresh.
  const { startLocalFederation } = await import('../test/e2e/harness/local-federation.ts');
  const dir = mkdtempSync(join(tmpdir(), 'remembrancer-bench-messaging-'));
  let fed: LocalFederation | undefined;
  const profileDir = process.env['BENCH_CPU_PROF_DIR'];
  const stop = async () => {
    // Profiled nodes stop on SIGTERM (a clean exit writes the profile); stopAll then SIGKILLs what is left.
    if (profileDir !== undefined) for (const x of fed?.nodes ?? []) await x.proc?.stop();
    await fed?.stopAll();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // No config: the default checkpoint interval (1 s), outbox tick and receipt wait.
    fed = await startLocalFederation(dir, 2);
    const [sender, receiver] = fed.nodes as [FederationNode, FederationNode];
    if (profileDir !== undefined) await restartProfiled(fed, profileDir);
    for (const ns of sources)
      await putNamespace(sender, ns, { witness_policy: { min_required: 1, allowlist: [receiver.name] } });
    await putNamespace(receiver, TARGET_NS, {
      messaging: {
        accept_from: sources.map((ns) => `${sender.name}/${ns}`),
        actions: ['notify'],
        operations: [OPERATION],
        min_witnesses: 1,
      },
    });
    return { sender, receiver, fed, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

export interface Accepted {
  id: string;
  index: number;
}

/** POST /v1/ns/{src}/messages with `count` notify messages to TARGET_NS (a batch when count > 1). */
export async function sendMessages(
  pair: MessagingPair,
  src: string,
  first: number,
  count: number,
): Promise<Accepted[]> {
  const one = (i: number) => ({
    target: { node: pair.receiver.name, namespace: TARGET_NS },
    action: 'notify',
    payload: { operation: OPERATION, parameters: { n: i, source: src } },
  });
  const body = count === 1 ? one(first) : { messages: Array.from({ length: count }, (_, k) => one(first + k)) };
  const r = await requestJson<Accepted | { messages: Accepted[] }>(`${pair.sender.url}/v1/ns/${src}/messages`, {
    method: 'POST',
    headers: adminHeaders(pair.sender),
    body: JSON.stringify(body),
  });
  if (r.status !== 202) throw new Error(`send from ${src} answered ${r.status}: ${JSON.stringify(r.body)}`);
  return 'messages' in r.body ? r.body.messages : [r.body];
}

/** The size of `ns`'s latest checkpoint on `node` (sealed under its witness policy with `sealed`), 0 if none. */
export async function checkpointSize(node: FederationNode, ns: string, sealed: boolean): Promise<number> {
  const r = await fetch(`${node.url}/v1/ns/${ns}/checkpoint${sealed ? '?sealed=1' : ''}`, {
    signal: AbortSignal.timeout(10_000),
  });
  const text = await r.text();
  if (r.status === 409 || r.status === 404) return 0;
  if (r.status !== 200) throw new Error(`checkpoint of ${ns} answered ${r.status}: ${text}`);
  return Number(text.split('\n')[1]);
}

/**
 * CPU seconds (user + system) a node process has used so far, from /proc (Linux; undefined
 * elsewhere): what a phase costs each node, whatever else shares the machine meanwhile.
 */
export function nodeCpuSeconds(node: FederationNode): number | undefined {
  const pid = node.proc?.child.pid;
  if (pid === undefined) return undefined;
  try {
    // Fields after the parenthesised command: utime and stime are the 12th and 13th, in clock ticks (100/s).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}
