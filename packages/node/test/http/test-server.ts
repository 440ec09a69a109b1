import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { initNode, type NodeIdentity } from '../../src/config/node-config.js';
import { localPeerEntry } from '../../src/federation/local-peer.js';
import { buildHttpServer } from '../../src/http/server.js';
import type { HttpLimits } from '../../src/config/http-limits.js';
import { openLogEngine, type ObservableLogEngine } from '../../src/log/index.js';
import { openNamespaceServices, type NamespaceServices } from '../../src/namespaces/namespace-services.js';

export interface TestServer {
  app: FastifyInstance;
  engine: ObservableLogEngine;
  identity: NodeIdentity;
  namespaces: NamespaceServices;
  token: string;
  close(): Promise<void>;
}

/** A real node (SQLite engine in a temp dir + HTTP routes) for app.inject() tests, no sockets. */
export async function startTestServer(
  opts: {
    checkpointIntervalMs?: number;
    minCheckpointIntervalMs?: number;
    queueMaxEntries?: number;
    now?: () => number;
    limits?: Partial<HttpLimits>;
    bodyLimitBytes?: number;
    explorerDir?: string;
  } = {},
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'remembrancer-http-'));
  const identity = initNode(dir, 'test.vaultmesh.local');
  const engine = await openLogEngine({
    dbPath: identity.dbPath,
    nodeName: identity.config.name,
    logSeed: identity.logSeed,
    checkpointIntervalMs: opts.checkpointIntervalMs ?? 60_000,
    ...(opts.minCheckpointIntervalMs !== undefined ? { minCheckpointIntervalMs: opts.minCheckpointIntervalMs } : {}),
    synchronous: 'NORMAL',
    ...(opts.queueMaxEntries !== undefined ? { queueMaxEntries: opts.queueMaxEntries } : {}),
  });
  const namespaces = await openNamespaceServices({
    engine,
    dataDir: dir,
    adminToken: identity.adminToken,
    operators: identity.governance,
    localOperator: { id: identity.operatorId, seed: identity.operatorSeed },
    ...(opts.now ? { now: opts.now } : {}),
  });
  const app = buildHttpServer({
    namespaces,
    engine,
    nodeName: identity.config.name,
    version: '0.0.0-test',
    self: localPeerEntry(identity),
    adminToken: identity.adminToken,
    bodyLimitBytes: opts.bodyLimitBytes ?? 4 * 1024 * 1024,
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.explorerDir !== undefined ? { explorerDir: opts.explorerDir } : {}),
  });
  return {
    app,
    engine,
    identity,
    namespaces,
    token: identity.adminToken,
    async close() {
      await app.close();
      await namespaces.close();
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
