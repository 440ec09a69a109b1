import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { BatchHasher } from './batch-hasher.js';
import { packRuns, splitHashes } from './pack-entries.js';

/** What packages/node/native (binding.gyp target `sha256_batch`) exports. */
export interface NativeSha256Batch {
  leafHashes(data: Uint8Array, offsets: Uint32Array): Uint8Array;
  nodeHashes(children: Uint8Array): Uint8Array;
  /** SIMD flavour in use: `avx512`, `avx512vl`, `avx2` or `scalar`. */
  implementation(): string;
  /** Flavours this CPU can run, fastest first. */
  implementations(): string[];
  /** Switches flavour for the whole process; false when the name is not available. */
  setImplementation(name: string): boolean;
}

// src/hashing and dist/hashing sit at the same depth, so one relative path serves both.
export const DEFAULT_ADDON_PATH = fileURLToPath(
  new URL('../../native/build/Release/sha256_batch.node', import.meta.url),
);

/** The addon, or undefined when it is not built or does not load (wrong ABI, platform, …). */
export function loadNativeAddon(path: string = DEFAULT_ADDON_PATH): NativeSha256Batch | undefined {
  try {
    const mod = createRequire(import.meta.url)(path) as Partial<NativeSha256Batch>;
    if (typeof mod.leafHashes !== 'function' || typeof mod.nodeHashes !== 'function') return undefined;
    return mod as NativeSha256Batch;
  } catch {
    return undefined;
  }
}

export class NativeBatchHasher implements BatchHasher {
  readonly kind = 'native' as const;
  readonly #addon: NativeSha256Batch;

  constructor(addon: NativeSha256Batch) {
    this.#addon = addon;
  }

  get implementation(): string {
    return this.#addon.implementation();
  }

  leafHashes(datas: readonly Uint8Array[]): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const run of packRuns(datas)) splitHashes(this.#addon.leafHashes(run.data, run.offsets), out);
    return out;
  }

  leafHashesPacked(data: Uint8Array, offsets: Uint32Array): Uint8Array {
    return this.#addon.leafHashes(data, offsets);
  }

  nodeHashesPacked(children: Uint8Array): Uint8Array {
    return this.#addon.nodeHashes(children);
  }
}
