import { RemembrancerError } from '@vaultmesh/core';

/** What an append may wait for: any signed checkpoint covering it, or a sealed one. */
export type CoverageKind = 'checkpoint' | 'sealed';

/** How often namespaces with waiters are re-checked without being poked (a missed poke costs this much), ms. */
export const COVERAGE_RECHECK_MS = 250;

export interface CoverageWaitersOptions {
  /** Size of the tree the namespace's latest checkpoint of this kind covers (0: none). */
  coveredSize(namespace: string, kind: CoverageKind): number | Promise<number>;
  /** Someone waits on the namespace and is not covered yet (adaptive checkpoints: ask for one soon). */
  uncovered(namespace: string): void;
  recheckMs?: number;
}

interface Waiter {
  kind: CoverageKind;
  /** Covered once the checkpoint's size is at least this. */
  size: number;
  settle(outcome: boolean | RemembrancerError): void;
}

interface NamespaceWaiters {
  waiters: Set<Waiter>;
  /** A check runs: a poke meanwhile only asks it to look once more. */
  checking: boolean;
  again: boolean;
}

/**
 * Appends waiting until a checkpoint (or a sealed one) covers them, per namespace. Nothing polls per
 * request: a namespace is re-checked when poked (a checkpoint was published or adopted, cosignatures
 * arrived), one check in flight per namespace however many pokes, and each check settles every
 * waiter it covers. Namespaces with waiters are also re-checked every `recheckMs`, so a poke that
 * never comes (cosignatures gossiped in, a follower's missed notification) costs only that delay.
 */
export class CoverageWaiters {
  private readonly namespaces = new Map<string, NamespaceWaiters>();
  private readonly recheckMs: number;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: CoverageWaitersOptions) {
    this.recheckMs = options.recheckMs ?? COVERAGE_RECHECK_MS;
  }

  /**
   * Resolves true once a checkpoint of `kind` covers `size` entries of the namespace, false after
   * `timeoutMs` or when `signal` aborts (the client went away); rejects with SHUTTING_DOWN if the
   * waiters are closed first.
   */
  wait(namespace: string, kind: CoverageKind, size: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.closed) return Promise.reject(shuttingDown());
    if (signal?.aborted) return Promise.resolve(false);
    let entry = this.namespaces.get(namespace);
    if (entry === undefined) {
      entry = { waiters: new Set(), checking: false, again: false };
      this.namespaces.set(namespace, entry);
    }
    const held = entry;
    const promise = new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => waiter.settle(false), timeoutMs);
      const aborted = () => waiter.settle(false);
      const waiter: Waiter = {
        kind,
        size,
        settle: (outcome) => {
          if (!held.waiters.delete(waiter)) return;
          clearTimeout(timer);
          signal?.removeEventListener('abort', aborted);
          this.forgetIfIdle(namespace, held);
          if (outcome instanceof RemembrancerError) reject(outcome);
          else resolve(outcome);
        },
      };
      held.waiters.add(waiter);
      signal?.addEventListener('abort', aborted, { once: true });
    });
    this.timer ??= setInterval(() => this.recheckAll(), this.recheckMs).unref();
    this.poke(namespace);
    return promise;
  }

  /** Something the namespace's coverage depends on changed (undefined: of every namespace). */
  poke(namespace?: string): void {
    if (namespace === undefined) {
      this.recheckAll();
      return;
    }
    const entry = this.namespaces.get(namespace);
    if (entry === undefined) return;
    if (entry.checking) {
      entry.again = true;
      return;
    }
    entry.checking = true;
    void this.check(namespace, entry);
  }

  /** Namespaces with waiters at the moment (metrics, tests). */
  get waitingNamespaces(): number {
    return this.namespaces.size;
  }

  /** Every waiter is rejected with SHUTTING_DOWN; later waits are refused the same way. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    for (const entry of [...this.namespaces.values()])
      for (const waiter of [...entry.waiters]) waiter.settle(shuttingDown());
    this.namespaces.clear();
  }

  private recheckAll(): void {
    for (const namespace of [...this.namespaces.keys()]) this.poke(namespace);
  }

  private async check(namespace: string, entry: NamespaceWaiters): Promise<void> {
    try {
      do {
        entry.again = false;
        const kinds = new Set([...entry.waiters].map((w) => w.kind));
        for (const kind of kinds) {
          const covered = await this.options.coveredSize(namespace, kind);
          for (const w of [...entry.waiters]) if (w.kind === kind && w.size <= covered) w.settle(true);
        }
      } while (entry.again && entry.waiters.size > 0);
      if (entry.waiters.size > 0) this.options.uncovered(namespace);
    } catch {
      // The answer could not be read now (storage, a policy being changed): the waiters stay, the
      // next poke or recheck asks again, and a waiter's timeout bounds it.
    } finally {
      entry.checking = false;
      this.forgetIfIdle(namespace, entry);
    }
  }

  private forgetIfIdle(namespace: string, entry: NamespaceWaiters): void {
    if (entry.waiters.size > 0 || entry.checking) return;
    if (this.namespaces.get(namespace) === entry) this.namespaces.delete(namespace);
    if (this.namespaces.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

function shuttingDown(): RemembrancerError {
  return new RemembrancerError('SHUTTING_DOWN', 'the node is shutting down');
}
