/**
 * Long-poll and server-sent-event readers waiting for a namespace's inbox to grow. A waiter ends
 * at the first of: an item added to its namespace, its timeout, its signal aborting, or close().
 * It resolves either way (never rejects): the reader looks at the inbox again and decides.
 */
export class ItemWaiters {
  readonly #waiting = new Map<string, Set<() => void>>();
  #closed = false;

  wait(namespace: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#closed || signal?.aborted || !(timeoutMs > 0)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const set = this.#waiting.get(namespace) ?? new Set<() => void>();
      this.#waiting.set(namespace, set);
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0 && this.#waiting.get(namespace) === set) this.#waiting.delete(namespace);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }

  /** Wakes every waiter of the namespace. */
  notify(namespace: string): void {
    const set = this.#waiting.get(namespace);
    if (set) for (const done of [...set]) done();
  }

  /** Wakes every waiter, and every later wait returns at once. */
  close(): void {
    this.#closed = true;
    for (const set of [...this.#waiting.values()]) for (const done of [...set]) done();
  }

  /** Waiters now, for tests and metrics. */
  get size(): number {
    let n = 0;
    for (const set of this.#waiting.values()) n += set.size;
    return n;
  }
}
