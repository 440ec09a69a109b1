/**
 * Runs tasks one at a time per key, in the order they were queued, and tasks of different keys
 * concurrently. The inbox keys a stream (target namespace and source origin) so that two
 * deliveries of one message — a retry racing a relay — can never both find it new and both apply.
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T> | T): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    // The next task waits for this one to settle either way; a failure is its caller's to see.
    const tail = result.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Keys with a task queued or running. */
  get size(): number {
    return this.#tails.size;
  }
}
