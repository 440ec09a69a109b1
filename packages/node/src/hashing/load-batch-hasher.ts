import type { BatchHasher } from './batch-hasher.js';
import { JsBatchHasher } from './js-batch-hasher.js';
import { loadNativeAddon, NativeBatchHasher } from './native-batch-hasher.js';

export interface LoadBatchHasherOptions {
  /** `js` skips the addon. Default: `native` unless the environment says VAULTMESH_HASHER=js. */
  prefer?: 'native' | 'js';
  /** Where the addon is; default packages/node/native/build/Release/sha256_batch.node. */
  addonPath?: string;
}

let cached: BatchHasher | undefined;

/**
 * The native batch hasher when the addon is built and passes a self-test, else the node:crypto
 * one with identical output. Logs nothing; `kind` says which one it is.
 */
export function loadBatchHasher(options: LoadBatchHasherOptions = {}): BatchHasher {
  const isDefault = options.prefer === undefined && options.addonPath === undefined;
  if (isDefault && cached) return cached;
  const prefer = options.prefer ?? (process.env['VAULTMESH_HASHER'] === 'js' ? 'js' : 'native');
  let hasher: BatchHasher = new JsBatchHasher();
  if (prefer === 'native') {
    const addon = loadNativeAddon(options.addonPath);
    if (addon) {
      const native = new NativeBatchHasher(addon);
      if (agreesWithReference(native)) hasher = native;
    }
  }
  if (isDefault) cached = hasher;
  return hasher;
}

/**
 * Known-answer check at load: a hasher built for another CPU or miscompiled must not put wrong
 * hashes into a log, where they would stay forever. Covers every length class of the padding
 * (one block, length spilling into a second block, several blocks) and enough messages to fill
 * all SIMD lanes at once.
 */
function agreesWithReference(candidate: BatchHasher): boolean {
  try {
    const reference = new JsBatchHasher();
    const lengths = [0, 1, 54, 55, 56, 62, 63, 64, 65, 119, 120, 127, 128, 129, 200, 1000];
    const datas = [...lengths, ...lengths].map((len, i) => {
      const d = new Uint8Array(len);
      for (let j = 0; j < len; j++) d[j] = (i * 31 + j * 7) & 0xff;
      return d;
    });
    const a = candidate.leafHashes(datas);
    const b = reference.leafHashes(datas);
    const children = new Uint8Array(64 * 17);
    for (let j = 0; j < children.length; j++) children[j] = (j * 13 + 5) & 0xff;
    const c = candidate.nodeHashesPacked(children);
    const d = reference.nodeHashesPacked(children);
    return a.length === b.length && a.every((h, i) => equalBytes(h, b[i]!)) && equalBytes(c, d);
  } catch {
    return false;
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
