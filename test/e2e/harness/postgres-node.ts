import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startPostgresCluster,
  type PostgresCluster,
} from '../../../packages/node/test/storage/postgres/postgres-cluster.js';
import { runCli, startServe, type ServeProcess } from './cli-process.js';

/**
 * One node on a PostgreSQL cluster of the test's own, for e2e files that run several `serve`
 * processes of it (issue 14): the cluster and the node's data directory are made before the
 * tests, and every process started with `serve()` is killed, the cluster stopped and the
 * directory removed after them.
 */
export interface PostgresNodeFixture {
  /** The node's data directory. */
  readonly data: string;
  readonly cluster: () => PostgresCluster;
  /** Starts a `serve` process of the node on the cluster (killed after the tests if still running). */
  serve(options?: { timeoutMs?: number }): Promise<ServeProcess>;
  /** Stops a process with SIGTERM, expecting it to exit 0, and forgets it. */
  stop(p: ServeProcess): Promise<void>;
  /** Kills a process with SIGKILL and forgets it. */
  kill(p: ServeProcess): Promise<void>;
  /** Headers of an admin request with a JSON body. */
  auth(): Record<string, string>;
}

export function postgresNodeFixture(prefix: string, name: string): PostgresNodeFixture {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const data = join(dir, 'node');
  let cluster: PostgresCluster | undefined;
  const running = new Set<ServeProcess>();
  before(async () => {
    cluster = await startPostgresCluster();
    const init = await runCli(['init', '--data', data, '--name', name, '--json']);
    assert.equal(init.code, 0, init.stderr);
  });
  after(async () => {
    for (const p of running) await p.kill().catch(() => undefined);
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    data,
    cluster: () => cluster!,
    async serve(options = {}) {
      const p = startServe(data, { storage: cluster!.url, ...options });
      // Settled here too, so a failure before the caller awaits it is not an unhandled rejection.
      p.catch(() => undefined);
      const started = await p;
      running.add(started);
      return started;
    },
    async stop(p) {
      running.delete(p);
      assert.equal(await p.stop(), 0, 'serve exits cleanly on SIGTERM');
    },
    async kill(p) {
      running.delete(p);
      await p.kill();
    },
    auth: () => ({
      authorization: `Bearer ${readFileSync(join(data, 'admin.token'), 'utf8').trim()}`,
      'content-type': 'application/json',
    }),
  };
}

/** Polls `get` every 50 ms until it gives a value (a throw counts as not yet); fails after `timeoutMs`. */
export async function until<T>(what: string, get: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
