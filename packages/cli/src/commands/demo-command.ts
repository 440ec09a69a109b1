import { existsSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import { dataPaths, initNode, runNode, type RunningNode } from '@vaultmesh/node';
import { ApiClient, ApiError } from '../client/api-client.js';
import { stopOnSignal } from '../stop-on-signal.js';

export const DEMO_NAMESPACE = 'dao:vaultmesh';
const DEMO_MEMORIES = [
  { kind: 'decision', title: 'Adopt the Remembrancer for DAO records', by: 'council', at: '2026-11-01T12:00:00Z' },
  { kind: 'proposal', title: 'Fund the federation witness programme', amount: 25000, currency: 'EUR' },
  { kind: 'attestation', subject: 'treasury audit 2026-Q3', result: 'clean', auditor: 'did:example:auditor' },
];

async function startListening(data: string, listen: string): Promise<RunningNode> {
  try {
    return await runNode({ dataDir: data, listen });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    const host = listen.slice(0, listen.lastIndexOf(':'));
    process.stderr.write(`${listen} is in use; listening on a free port instead\n`);
    return runNode({ dataDir: data, listen: `${host}:0` });
  }
}

export async function ensureNamespace(
  client: ApiClient,
  ns: string,
  spec: Record<string, unknown> = { description: 'demo namespace' },
): Promise<void> {
  try {
    await client.json('PUT', client.nsPath(ns), spec);
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 'NAMESPACE_EXISTS')) throw e;
  }
}

export interface DemoRecord {
  indices: number[];
  receiptPath: string;
  logVkey: string;
  size: number;
}

/**
 * Records the demo memories and saves the last one's receipt to DIR/demo-receipt.json; in a
 * federation, waits (bounded) until the checkpoint covering it is witnessed so the receipt
 * carries cosignatures.
 */
export async function recordDemoMemories(client: ApiClient, dataDir: string, waitWitnessedMs = 0): Promise<DemoRecord> {
  await ensureNamespace(client, DEMO_NAMESPACE);
  const { indices } = await client.json<{ indices: number[] }>('POST', client.nsPath(DEMO_NAMESPACE, '/batch'), {
    entries: DEMO_MEMORIES,
  });
  const last = indices[indices.length - 1]!;
  const deadline = Date.now() + waitWitnessedMs;
  while (Date.now() < deadline) {
    const res = await client.request('GET', client.nsPath(DEMO_NAMESPACE, '/checkpoint'));
    const size = Number((await res.text()).split('\n')[1]);
    if (size > last && res.headers.get('x-witnessed') === 'true') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const receipt = await client.receipt(DEMO_NAMESPACE, last);
  const receiptPath = join(dataDir, 'demo-receipt.json');
  writeFileSync(receiptPath, JSON.stringify(receipt, null, 2) + '\n');
  const ns = await client.json<{ log_vkey: string; size: number }>('GET', client.nsPath(DEMO_NAMESPACE));
  return { indices, receiptPath, logVkey: ns.log_vkey, size: ns.size };
}

/** `npm start`: a node on embedded storage with a demo namespace, a few memories and a verify example. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('start a node in DIR (created if needed) with a demo namespace and a few recorded memories')
    .option('--data <dir>', 'data directory', './data')
    .option('--name <name>', 'node name on first run', 'alpha.vaultmesh.local')
    .option('--listen <host:port>', 'listen address', '127.0.0.1:8080')
    .option('--json', 'machine-readable output (one JSON line once the demo is ready)')
    .action(async (opts: { data: string; name: string; listen: string; json?: boolean }) => {
      if (!existsSync(dataPaths(opts.data).config)) initNode(opts.data, opts.name, { listen: opts.listen });
      const node = await startListening(opts.data, opts.listen);
      const stopped = stopOnSignal(() => node.close());
      const client = new ApiClient({ url: node.url, token: node.identity.adminToken });
      const { indices, receiptPath, logVkey, size } = await recordDemoMemories(client, opts.data);
      const last = indices[indices.length - 1]!;
      const ns = { log_vkey: logVkey, size };
      const enc = encodeURIComponent(DEMO_NAMESPACE);
      const rel = relative(process.cwd(), receiptPath) || receiptPath;
      if (opts.json) {
        process.stdout.write(
          JSON.stringify({
            event: 'ready',
            url: node.url,
            name: node.identity.config.name,
            namespace: DEMO_NAMESPACE,
            indices,
            size: ns.size,
            receipt: receiptPath,
            log_vkey: ns.log_vkey,
          }) + '\n',
        );
      } else {
        process.stdout.write(
          [
            `Remembrancer node ${node.identity.config.name} is running (data in ${opts.data}).`,
            `Recorded ${indices.length} memories in ${DEMO_NAMESPACE} at indices ${indices.join(', ')}; the log now holds ${ns.size}.`,
            '',
            `  node         ${node.url}/v1/node`,
            `  namespace    ${node.url}/v1/ns/${enc}`,
            `  checkpoint   ${node.url}/v1/ns/${enc}/checkpoint`,
            `  entry        ${node.url}/v1/ns/${enc}/entries/${last}`,
            `  receipt      ${node.url}/v1/ns/${enc}/receipt/${last}`,
            `  metrics      ${node.url}/metrics`,
            '',
            `Receipt of entry ${last} saved to ${rel}. Verify it offline:`,
            `  npx remembrancer verify ${rel} --log-vkey '${ns.log_vkey}'`,
            '',
            'Record more:',
            `  echo '{"kind":"note","text":"hello"}' | npx remembrancer record --ns ${DEMO_NAMESPACE} --data ${opts.data} --url ${node.url}`,
            '',
            'Press Ctrl-C to stop.',
          ].join('\n') + '\n',
        );
      }
      await stopped;
    });
}
