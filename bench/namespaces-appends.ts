// Appends through the admission layer (packages/node/src/namespaces/entry-admission.ts) in the three
// kinds of namespace of namespaces-node.ts: batches of 1,000 over 4 connections and single entries
// over 64 connections, as the http area drives its namespace, so the figures compare directly.
import { signDocument, type JsonObject } from '@vaultmesh/core';
import type { BenchContext, BenchResults } from './measure.ts';
import { loadAverage, measuredLoad } from './namespaces-load.ts';
import { BENCH_SCHEMA_ID, NS_OPEN, NS_SCHEMA, NS_SIGNED, SIGNER_ID, type RulesNode } from './namespaces-node.ts';

const NOTE = 'a typical small memory record';

interface Case {
  key: 'open' | 'schema' | 'signed';
  ns: string;
  headers: Record<string, string>;
  entry(n: number): JsonObject;
}

function cases(node: RulesNode): Case[] {
  const json = { 'content-type': 'application/json' };
  return [
    {
      key: 'open',
      ns: NS_OPEN,
      headers: { ...json, authorization: `Bearer ${node.adminToken}` },
      entry: (n) => ({ kind: 'bench', n, note: NOTE }),
    },
    {
      key: 'schema',
      ns: NS_SCHEMA,
      headers: { ...json, authorization: `Bearer ${node.writerToken}` },
      entry: (n) => ({ schema: BENCH_SCHEMA_ID, kind: 'bench', n, note: NOTE }),
    },
    // No bearer token: the writer's signature over the entry's JCS bytes is the credential.
    {
      key: 'signed',
      ns: NS_SIGNED,
      headers: json,
      entry: (n) => signDocument({ kind: 'bench', n, note: NOTE }, SIGNER_ID, node.signerSeed),
    },
  ];
}

export async function appendBenchmarks(ctx: BenchContext, node: RulesNode): Promise<BenchResults> {
  const warmup = ctx.quick ? 1 : 2;
  const batchSeconds = ctx.quick ? 3 : 10;
  const singleSeconds = ctx.quick ? 3 : 10;
  const out: BenchResults = {};
  for (const c of cases(node)) {
    // Bodies are built once, outside the timing: the client's own signing is not the node's cost.
    const batchBody = JSON.stringify({ entries: Array.from({ length: 1000 }, (_, i) => c.entry(i)) });
    ctx.log(`${c.key}: batches of 1,000 to ${c.ns}, 4 connections, ${batchSeconds} s (load ${loadAverage()})`);
    const batch = await measuredLoad(
      { url: `${node.url}/v1/ns/${c.ns}/batch`, method: 'POST', headers: c.headers, body: batchBody, connections: 4 },
      warmup,
      batchSeconds,
      `${c.key} batch`,
    );
    out[`ns_${c.key}_batch_eps`] = Math.round((batch.requests.total * 1000) / batchSeconds);

    ctx.log(`${c.key}: single entries to ${c.ns}, 64 connections, ${singleSeconds} s (load ${loadAverage()})`);
    const single = await measuredLoad(
      {
        url: `${node.url}/v1/ns/${c.ns}/entries`,
        method: 'POST',
        headers: c.headers,
        body: JSON.stringify(c.entry(1)),
        connections: 64,
      },
      warmup,
      singleSeconds,
      `${c.key} single`,
    );
    out[`ns_${c.key}_single_rps`] = Math.round(single.requests.total / singleSeconds);
    ctx.note(
      `ns_${c.key}`,
      `${batch.requests.total} batches, ${single.requests.total} single requests; batch body ${batchBody.length} bytes`,
    );
  }
  for (const k of ['schema', 'signed'] as const) {
    out[`ns_${k}_vs_open_batch_ratio`] =
      Math.round((out[`ns_${k}_batch_eps`]! / out['ns_open_batch_eps']!) * 100) / 100;
    out[`ns_${k}_vs_open_single_ratio`] =
      Math.round((out[`ns_${k}_single_rps`]! / out['ns_open_single_rps']!) * 100) / 100;
  }
  return out;
}
