// The per-namespace baseline of the anchoring benchmark: what anchoring costs without epochs.
// Every namespace anchors its own latest sealed checkpoint whenever its cadence comes due (once an
// epoch, as the benchmark's cadence) and it sealed something new since its last anchor: one real
// RFC 3161 request per namespace checkpoint, to its own dev TSA so the count is its own.
import { crypto, utf8Encode } from '@vaultmesh/core';
import { requestTimestamp, type DevTsa } from '../packages/node/src/anchoring/index.js';
import { CADENCE_MS, type BenchNamespace } from './anchoring-federation.ts';

export interface BaselineCount {
  /** Due times at which a namespace had a new sealed checkpoint: each needs an anchor of its own. */
  due: number;
  /** Requests the baseline's TSA received (its own count). */
  requests: number;
}

/**
 * Runs the baseline for exactly `periods` due times of every namespace (so its demand per cadence
 * period is `due / periods`, with no edge effects of a timed window). A namespace's request is not
 * awaited before its next due time: the dev TSA answers one request at a time (one openssl process
 * each), and a namespace still waiting for its previous anchor when the next falls due skips that
 * one (counted in `due`, not sent), so `requests` is what the TSA could serve and `due` what the
 * namespaces asked for.
 */
export async function runPerNamespaceBaseline(
  tsa: DevTsa,
  namespaces: readonly BenchNamespace[],
  periods: number,
): Promise<BaselineCount> {
  let due = 0;
  const requests0 = tsa.requests();
  const inFlight = new Map<string, Promise<void>>();
  const anchored = new Map<string, string>();
  const loops = namespaces.map(async ({ node, ns }, i) => {
    // Spread the namespaces' due times over the cadence, as their own schedules would be.
    await new Promise((r) => setTimeout(r, (i * CADENCE_MS) / namespaces.length));
    const first = Date.now();
    for (let k = 0; k < periods; k++) {
      const dueAt = first + k * CADENCE_MS;
      await new Promise((r) => setTimeout(r, Math.max(0, dueAt - Date.now())));
      try {
        const r = await fetch(`${node.url}/v1/ns/${ns}/checkpoint?sealed=1`, { signal: AbortSignal.timeout(10_000) });
        const note = await r.text();
        if (r.status === 200 && anchored.get(ns) !== note) {
          due++;
          anchored.set(ns, note);
          if (!inFlight.has(ns)) {
            const digest = crypto.sha256(utf8Encode(note));
            const request = requestTimestamp(tsa.url, digest, { trustAnchorsPem: [tsa.caCertPem], timeoutMs: 30_000 })
              .then(() => undefined)
              // A busy or slow TSA: the namespace anchors a later checkpoint instead.
              .catch(() => undefined)
              .finally(() => inFlight.delete(ns));
            inFlight.set(ns, request);
          }
        }
      } catch {
        // A slow reply on a loaded machine: this namespace tries again at its next due time.
      }
    }
  });
  await Promise.all(loops);
  await Promise.all(inFlight.values());
  return { due, requests: tsa.requests() - requests0 };
}
