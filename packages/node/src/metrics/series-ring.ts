/**
 * A fixed number of samples, newest overwriting oldest: the node's memory for its live chart stays
 * the same however long it runs. push() is O(1) and allocates nothing beyond the sample itself.
 */
export class SeriesRing<T> {
  readonly capacity: number;
  readonly #slots: Array<T | undefined>;
  /** Where the next sample goes. */
  #next = 0;
  #size = 0;

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1)
      throw new RangeError(`a series ring holds at least one sample, got ${capacity}`);
    this.capacity = capacity;
    this.#slots = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.#size;
  }

  push(sample: T): void {
    this.#slots[this.#next] = sample;
    this.#next = (this.#next + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size++;
  }

  /** The sample pushed last, if any. */
  newest(): T | undefined {
    return this.#size === 0 ? undefined : this.#slots[(this.#next - 1 + this.capacity) % this.capacity];
  }

  /** The samples held, oldest first (newest last, as a chart draws them). */
  toArray(): T[] {
    const out: T[] = [];
    const start = (this.#next - this.#size + this.capacity) % this.capacity;
    for (let i = 0; i < this.#size; i++) out.push(this.#slots[(start + i) % this.capacity] as T);
    return out;
  }
}
