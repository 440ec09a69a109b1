// The per-namespace baseline of the anchoring benchmark: what anchoring costs without epochs.
// Every namespace anchors its own latest sealed checkpoint whenever its cadence comes due (every
// second, as the benchmark's cadence) and it sealed something new since its last anchor: one real
// RFC 3161 request per namespace checkpoint, to its own dev TSA so the count is its own.
import { crypto, utf8Encode } from '@vaultmesh/core';
import { requestTimestamp, type DevTsa } from '../packages/node/src/anchoring/index.js';
import type { BenchNamespace } from './anchoring-federation.ts';

const CADENCE_MS = 1000;

/** Runs the baseline until `stop()`: resolves with the TSA requests it made. */
export function runPerNamespaceBaseline(
  tsa: DevTsa,
  namespaces: readonly BenchNamespace[],
): { stop: () => Promise<number> } {
  let running = true;
  const anchored = new Map<string, string>();
  const loops = namespaces.map(async ({ node, ns }, i) => {
    // Spread the namespaces' due times over the cadence, as their own schedules would be.
    await new Promise((r) => setTimeout(r, (i * CADENCE_MS) / namespaces.length));
    while (running) {
      const due = Date.now();
      try {
        const r = await fetch(`${node.url}/v1/ns/${ns}/checkpoint?sealed=1`, { signal: AbortSignal.timeout(10_000) });
        const note = await r.text();
        if (r.status === 200 && anchored.get(ns) !== note) {
          await requestTimestamp(tsa.url, crypto.sha256(utf8Encode(note)), { trustAnchorsPem: [tsa.caCertPem] });
          anchored.set(ns, note);
        }
      } catch {
        // A slow reply on a loaded machine: this namespace tries again at its next due time.
      }
      await new Promise((r) => setTimeout(r, Math.max(0, due + CADENCE_MS - Date.now())));
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return tsa.requests();
    },
  };
}
