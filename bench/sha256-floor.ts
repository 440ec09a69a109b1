// The hashing floor: what one SHA-256 of a 65-byte message (an RFC 6962 interior node) costs
// when JS asks node:crypto for it one call at a time, against the native batch per-hash rate.
import * as crypto from 'node:crypto';
import { loadNativeAddon } from '../packages/node/src/hashing/index.ts';
import { rate, ratio, time, type BenchContext, type BenchResults } from './measure.ts';

const MESSAGE_BYTES = 65;

export default async function sha256Floor(ctx: BenchContext): Promise<BenchResults> {
  const out: BenchResults = {};
  const calls = ctx.quick ? 250_000 : 1_000_000;
  // Distinct inputs, cycled, so nothing can be served from a cache of the last result.
  const pool = Array.from({ length: 1024 }, () => crypto.randomBytes(MESSAGE_BYTES));
  let sink = 0;

  ctx.log(`sha256-floor: ${calls} one-shot node:crypto hashes`);
  const oneShot = time(
    () => {
      for (let i = 0; i < calls; i++) sink ^= crypto.hash('sha256', pool[i & 1023]!, 'buffer')[0]!;
    },
    { repeats: ctx.quick ? 1 : 3, warmup: 0 },
  );
  out['sha256_floor_hashes_per_s'] = rate(calls, oneShot.median);

  const viaObject = time(
    () => {
      for (let i = 0; i < calls; i++)
        sink ^= crypto
          .createHash('sha256')
          .update(pool[i & 1023]!)
          .digest()[0]!;
    },
    { repeats: 1, warmup: 0 },
  );
  out['sha256_floor_createhash_hashes_per_s'] = rate(calls, viaObject.median);

  const addon = loadNativeAddon();
  if (addon) {
    // nodeHashes hashes 0x01 ‖ 64 bytes: exactly 65-byte messages, many per call.
    const pairs = ctx.quick ? 250_000 : 1_000_000;
    const children = crypto.randomBytes(64 * pairs);
    const chosen = addon.implementation();
    ctx.note('sha256_native_implementation', chosen);
    try {
      for (const name of addon.implementations()) {
        addon.setImplementation(name);
        const t = time(() => void (sink ^= addon.nodeHashes(children)[0]!), { repeats: ctx.quick ? 3 : 5 });
        out[`sha256_native_batch_${name}_hashes_per_s`] = rate(pairs, t.median);
      }
    } finally {
      addon.setImplementation(chosen);
    }
    out['sha256_native_batch_hashes_per_s'] = out[`sha256_native_batch_${chosen}_hashes_per_s`]!;
  } else {
    console.error('sha256-floor: native addon not built; skipping the native batch rate');
  }
  if (sink === 0.5) console.log(sink); // keeps the loops observable

  const vs = ratio(ctx.results['tree_build_leaves_per_s'], out['sha256_floor_hashes_per_s']);
  if (vs !== undefined) out['tree_build_vs_sha256_floor_ratio'] = vs;
  return out;
}
