/**
 * The next seq of every stream (keyed by streamKey), in memory; the outbox rebuilds it at open
 * from its rows and the source logs. Seqs are taken through a journal, so an append that fails
 * gives back exactly what it took and the stream goes on with no gap.
 */
export class StreamSeqs {
  readonly #next = new Map<string, number>();

  /** The seq the stream's next message gets. */
  peek(key: string): number {
    return this.#next.get(key) ?? 1;
  }

  /** `seq` is used (found in the log or the rows): the stream goes on after it. */
  observe(key: string, seq: number): void {
    if (seq >= this.peek(key)) this.#next.set(key, seq + 1);
  }

  journal(): SeqJournal {
    return new SeqJournal(this.#next);
  }
}

/** Seqs taken together, which undo() gives back. */
export class SeqJournal {
  /** Per stream: the next seq before the first take, and after the last. */
  readonly #taken = new Map<string, { before: number | undefined; after: number }>();

  constructor(private readonly next: Map<string, number>) {}

  take(key: string): number {
    const seq = this.next.get(key) ?? 1;
    const t = this.#taken.get(key);
    if (t) t.after = seq + 1;
    else this.#taken.set(key, { before: this.next.get(key), after: seq + 1 });
    this.next.set(key, seq + 1);
    return seq;
  }

  /**
   * Gives the seqs back: each stream's next seq is what it was before, unless something else
   * moved it since (a seq found in the log meanwhile is used, and is never given back).
   */
  undo(): void {
    for (const [key, t] of this.#taken) {
      if (this.next.get(key) !== t.after) continue;
      if (t.before === undefined) this.next.delete(key);
      else this.next.set(key, t.before);
    }
    this.#taken.clear();
  }

  /** Makes `later`'s takes (made after this journal's) part of this one, to be undone together. */
  absorb(later: SeqJournal): void {
    for (const [key, t] of later.#taken) {
      const mine = this.#taken.get(key);
      if (mine) mine.after = t.after;
      else this.#taken.set(key, { ...t });
    }
  }
}
