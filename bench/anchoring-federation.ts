// The anchoring benchmark's federation: five real node processes (the compiled CLI's `serve`,
// started by the e2e harness the way operators found a federation) anchoring at a real openssl
// TSA on loopback, four namespaces on each node written to continuously. Not a benchmark itself.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnchorStrategy } from '@vaultmesh/core';
import { startDevTsa, type DevTsa } from '../packages/node/src/anchoring/index.js';
import type { FederationNode, LocalFederation } from '../test/e2e/harness/local-federation.ts';

export const TARGET = 'rfc3161:bench';
export const NODES = 5;
/** 20 namespaces across the 5 nodes, as in the tests (item 12). */
export const NAMESPACES_PER_NODE = 4;

export interface BenchNamespace {
  node: FederationNode;
  ns: string;
}

export interface AnchoringFederation {
  /** Removed by stop(): anything else the caller keeps here must be stopped first. */
  dir: string;
  fed: LocalFederation;
  tsa: DevTsa;
  namespaces: BenchNamespace[];
  stop(): Promise<void>;
}

/**
 * Builds the compiled CLI the nodes run (the e2e harness refuses a dist/ older than its sources),
 * then starts the TSA, the nodes and their namespaces (each cosigned by any other node, due at the
 * target every second). The caller stops it.
 */
export async function startAnchoringFederation(
  strategy: AnchorStrategy,
  timing: { epochMs: number; tickMs: number },
): Promise<AnchoringFederation> {
  execFileSync('npx', ['tsc', '-b', 'packages/core', 'packages/node', 'packages/cli'], { stdio: 'inherit' });
  // Imported after the build: loading the harness checks that the compiled CLI is fresh.
  const { startLocalFederation } = await import('../test/e2e/harness/local-federation.ts');
  const { createAnchoredNamespace } = await import('../test/e2e/harness/anchoring-client.ts');
  const dir = mkdtempSync(join(tmpdir(), `remembrancer-bench-anchoring-${strategy}-`));
  let tsa: DevTsa | undefined;
  let fed: LocalFederation | undefined;
  const stop = async () => {
    await fed?.stopAll();
    await tsa?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    tsa = await startDevTsa({ dir: join(dir, 'tsa'), name: 'bench' });
    fed = await startLocalFederation(
      dir,
      NODES,
      {
        checkpointIntervalMs: 100,
        anchoring: {
          targets: {
            [TARGET]: {
              tsas: [{ url: tsa.url, trustAnchors: [tsa.caCertPem] }],
              require: 'any',
              epochMs: timing.epochMs,
            },
          },
          leaderTimeoutMs: 3000,
          maxClockSkewMs: 500,
          tickMs: timing.tickMs,
        },
      },
      { anchorStrategy: strategy },
    );
    const namespaces: BenchNamespace[] = [];
    for (const [i, node] of fed.nodes.entries()) {
      const others = fed.nodes.filter((_, j) => j !== i).map((x) => x.name);
      for (let k = 0; k < NAMESPACES_PER_NODE; k++) {
        const ns = `b${i}:ns${k}`;
        await createAnchoredNamespace(node, ns, others, TARGET);
        namespaces.push({ node, ns });
      }
    }
    return { dir, fed, tsa, namespaces, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
