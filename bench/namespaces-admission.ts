// The admission layer alone, in process (no HTTP, no sequencing): EntryAdmission.admit over a batch of
// 1,000 parsed entries in each kind of namespace, as the batch route calls it. Over HTTP the same
// differences are blurred by ±20% run-to-run noise on this shared machine; here they are not.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildSchemaRegister,
  crypto,
  parseJsonStrict,
  publicKeyBase64,
  signDocument,
  signGovernanceDocument,
  type JsonObject,
} from '@vaultmesh/core';
import { initNode } from '../packages/node/src/config/node-config.ts';
import { openLogEngine } from '../packages/node/src/log/index.ts';
import { openNamespaceServices } from '../packages/node/src/namespaces/namespace-services.ts';
import { tokenSha256 } from '../packages/node/src/namespaces/writer-authorization.ts';
import { time, type BenchContext, type BenchResults } from './measure.ts';
import { round } from './namespaces-load.ts';
import { BENCH_SCHEMA, BENCH_SCHEMA_ID, NS_OPEN, NS_SCHEMA, NS_SIGNED, SIGNER_ID } from './namespaces-node.ts';

const NOTE = 'a typical small memory record';

export async function admissionBenchmarks(ctx: BenchContext): Promise<BenchResults> {
  const dir = mkdtempSync(join(tmpdir(), 'remembrancer-bench-admit-'));
  const identity = initNode(dir, 'bench.vaultmesh.local');
  const engine = await openLogEngine({
    dbPath: identity.dbPath,
    nodeName: identity.config.name,
    logSeed: identity.logSeed,
    checkpointIntervalMs: 3_600_000,
    synchronous: 'NORMAL',
  });
  const services = await openNamespaceServices({
    engine,
    dataDir: dir,
    adminToken: identity.adminToken,
    operators: identity.governance,
    localOperator: { id: identity.operatorId, seed: identity.operatorSeed },
  });
  try {
    const writerToken = 'bench-writer-token-abcdefghijklmnop';
    const signerSeed = crypto.randomBytes(32);
    await services.directory.submit(
      signGovernanceDocument(
        buildSchemaRegister({ schema_id: BENCH_SCHEMA_ID, definition: BENCH_SCHEMA }),
        identity.operatorId,
        identity.operatorSeed,
      ),
    );
    await services.directory.propose('create', NS_OPEN, {});
    await services.directory.propose('create', NS_SCHEMA, {
      schema_policy: { allow: ['bench.entry@^1.0.0'] },
      writers: [{ id: 'bench-bot', token_sha256: tokenSha256(writerToken), scopes: ['write'] }],
    });
    await services.directory.propose('create', NS_SIGNED, {
      writers: [{ id: SIGNER_ID, ed25519: publicKeyBase64(signerSeed) }],
    });

    // Entries as the batch route gets them: a body parsed by the node's strict JSON parser.
    const parsed = (entries: JsonObject[]): unknown[] =>
      (parseJsonStrict(JSON.stringify({ entries })) as { entries: unknown[] }).entries;
    const cases: Array<[string, string, string | undefined, unknown[]]> = [
      [
        'open',
        NS_OPEN,
        identity.adminToken,
        parsed(Array.from({ length: 1000 }, (_, n) => ({ kind: 'bench', n, note: NOTE }))),
      ],
      [
        'schema',
        NS_SCHEMA,
        writerToken,
        parsed(Array.from({ length: 1000 }, (_, n) => ({ schema: BENCH_SCHEMA_ID, kind: 'bench', n, note: NOTE }))),
      ],
      [
        'signed',
        NS_SIGNED,
        undefined,
        parsed(
          Array.from({ length: 1000 }, (_, n) => signDocument({ kind: 'bench', n, note: NOTE }, SIGNER_ID, signerSeed)),
        ),
      ],
    ];
    ctx.log('admission in process: batches of 1,000 through EntryAdmission.admit');
    const admit = (ns: string, token: string | undefined, entries: unknown[]) => () =>
      services.admission.admit(ns, token, entries, true).release();
    for (const [, ns, token, entries] of cases) time(admit(ns, token, entries), { repeats: 1, warmup: 5 });
    // Interleaved rounds: JIT state and other load on the machine drift over all cases alike.
    const rounds = ctx.quick ? 8 : 30;
    const samples = new Map<string, number[]>(cases.map(([key]) => [key, []]));
    for (let r = 0; r < rounds; r++) {
      for (const [key, ns, token, entries] of cases)
        samples.get(key)!.push(time(admit(ns, token, entries), { repeats: 1, warmup: 0 }).median);
    }
    const out: BenchResults = {};
    for (const [key, , , entries] of cases) {
      const sorted = samples.get(key)!.sort((a, b) => a - b);
      out[`admission_${key}_us_per_entry`] = round((sorted[sorted.length >> 1]! * 1e6) / entries.length, 2);
    }
    ctx.note(
      'admission',
      `EntryAdmission.admit on 1,000 entries parsed by the node's strict JSON parser (canonical bytes, writer check, size, schema, quota, rate); median of ${rounds} interleaved rounds; no HTTP, no sequencing`,
    );
    return out;
  } finally {
    await services.close();
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
