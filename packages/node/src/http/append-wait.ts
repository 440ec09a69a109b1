import type { FastifyInstance, FastifyReply } from 'fastify';
import { RemembrancerError, base64Encode, isRemembrancerError } from '@vaultmesh/core';
import type { AppendResult } from '../log/log-engine.js';
import { CoverageWaiters, type CoverageKind } from './coverage-waiters.js';
import { entryReceipts } from './entry-receipts.js';
import type { RouteContext } from './route-context.js';
import { routeSealing } from './sealed-query.js';

/*
 * `POST /v1/ns/{ns}/entries|batch?wait=checkpoint|sealed[&timeout=S]`: the append answers with its
 * receipt(s) once a checkpoint (or a sealed one) covers it, or 202 with where to poll.
 */

/** Seconds an append waits when `timeout` is not given. */
export const DEFAULT_WAIT_SECONDS = 10;
/** The longest wait accepted, s: well inside the server's idle-socket timeout (60 s by default). */
export const MAX_WAIT_SECONDS = 30;

export interface AppendWait {
  kind: CoverageKind;
  timeoutMs: number;
}

/** The `wait` and `timeout` query parameters (attacker-controlled): undefined when not waiting. */
export function appendWaitQuery(query: { wait?: unknown; timeout?: unknown }): AppendWait | undefined {
  const { wait, timeout } = query;
  if (wait === undefined) {
    if (timeout !== undefined) throw new RemembrancerError('INVALID_ARGUMENT', 'timeout is only taken with wait');
    return undefined;
  }
  if (wait !== 'checkpoint' && wait !== 'sealed')
    throw new RemembrancerError('INVALID_ARGUMENT', `wait must be 'checkpoint' or 'sealed'`);
  let seconds = DEFAULT_WAIT_SECONDS;
  if (timeout !== undefined) {
    seconds = typeof timeout === 'string' && /^\d{1,3}(\.\d{1,3})?$/.test(timeout) ? Number(timeout) : NaN;
    if (!(seconds > 0 && seconds <= MAX_WAIT_SECONDS))
      throw new RemembrancerError(
        'INVALID_ARGUMENT',
        `timeout must be a number of seconds above 0 and at most ${MAX_WAIT_SECONDS} (up to 3 decimals)`,
      );
  }
  return { kind: wait, timeoutMs: Math.round(seconds * 1000) };
}

/**
 * The waiters of one server: poked by the engine's checkpoints and the sealing's changes, asking
 * the engine for a checkpoint when someone waits (adaptive checkpoints). Released when the server
 * closes (before it waits for in-flight requests), unsubscribed once it has closed.
 */
export function serverCoverageWaiters(scope: FastifyInstance, ctx: RouteContext): CoverageWaiters {
  const sealing = routeSealing(ctx);
  const waiters = new CoverageWaiters({
    coveredSize: async (namespace, kind) => {
      if (kind === 'checkpoint') return ctx.engine.latestCheckpoint(namespace)?.size ?? 0;
      const ns = ctx.engine.getNamespace(namespace);
      return (ns && (await sealing.latestSealed(ns))?.checkpoint.size) ?? 0;
    },
    uncovered: (namespace) => ctx.engine.requestCheckpoint(namespace),
  });
  const unsubscribe = [
    ctx.engine.onCheckpoint((namespace) => waiters.poke(namespace)),
    sealing.onChange?.((namespace) => waiters.poke(namespace)),
  ];
  scope.addHook('preClose', async () => waiters.close());
  scope.addHook('onClose', async () => {
    waiters.close();
    for (const u of unsubscribe) u?.();
  });
  return waiters;
}

/**
 * Answers a stored append that asked to wait: 201 with the receipts (single: the receipt as GET
 * …/receipt/{i} serves it; batch: `{indices, leaf_hashes, receipts}`), or, past the timeout, when
 * the client left or the server closes, 202 with the indices and a Location to poll (the receipt
 * of the last entry: a checkpoint covering it covers them all).
 */
export async function answerWhenCovered(
  ctx: RouteContext,
  waiters: CoverageWaiters,
  reply: FastifyReply,
  namespace: string,
  results: readonly AppendResult[],
  wait: AppendWait,
  batch: boolean,
): Promise<unknown> {
  const ns = ctx.engine.getNamespace(namespace)!;
  const indices = results.map((r) => r.index);
  const last = Math.max(...indices);
  const sealed = wait.kind === 'sealed';
  const deadline = performance.now() + wait.timeoutMs;
  // A client that closes its connection drops its waiter.
  const gone = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableEnded) gone.abort();
  };
  reply.raw.once('close', onClose);
  try {
    for (;;) {
      const remaining = deadline - performance.now();
      if (remaining <= 0) break;
      let covered: boolean;
      try {
        covered = await waiters.wait(namespace, wait.kind, last + 1, remaining, gone.signal);
      } catch (e) {
        // Shutting down: the entries are stored all the same; the client polls the Location.
        if (isRemembrancerError(e) && e.code === 'SHUTTING_DOWN') break;
        throw e;
      }
      if (!covered) break;
      // Covered when checked; a sealed answer may have moved since (a witness suspended): wait on.
      const built = await entryReceipts(ctx, ns, indices, sealed);
      if (built === undefined) continue;
      reply.header('x-sealed', String(built.state.sealed));
      if (!batch) return reply.status(201).send(built.receipts[0]);
      return reply.status(201).send({ ...stored(results, batch), receipts: built.receipts });
    }
  } finally {
    reply.raw.removeListener('close', onClose);
  }
  const location = `/v1/ns/${encodeURIComponent(namespace)}/receipt/${last}${sealed ? '?sealed=1' : ''}`;
  return reply.status(202).header('location', location).header('retry-after', '1').send(stored(results, batch));
}

/** What an append answers without waiting: `{index, leaf_hash}`, or for a batch `{indices, leaf_hashes}`. */
export function stored(results: readonly AppendResult[], batch: boolean): Record<string, unknown> {
  if (!batch) return { index: results[0]!.index, leaf_hash: base64Encode(results[0]!.leafHash) };
  return { indices: results.map((r) => r.index), leaf_hashes: results.map((r) => base64Encode(r.leafHash)) };
}
