import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLogEngine, type ObservableLogEngine, type OpenLogEngineOptions } from '../../src/index.js';

export const NODE_NAME = 'alpha.vaultmesh.test';
export const LOG_SEED = Uint8Array.from({ length: 32 }, (_, i) => i + 1);

/** Temp dirs for one test file; call cleanup() in after(). */
export function tempDirs(prefix: string): { make(): string; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  let n = 0;
  return {
    make: () => join(root, `d${++n}`),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

export function open(dataDir: string, extra: Partial<OpenLogEngineOptions> = {}): Promise<ObservableLogEngine> {
  return openLogEngine({
    dataDir,
    nodeName: NODE_NAME,
    logSeed: LOG_SEED,
    checkpointIntervalMs: 0,
    synchronous: 'NORMAL',
    ...extra,
  });
}

const encoder = new TextEncoder();
export function entry(ns: string, i: number): Uint8Array {
  return encoder.encode(JSON.stringify({ ns, i, pad: 'x'.repeat(i % 17) }));
}
