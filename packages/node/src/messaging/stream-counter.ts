import { SETTLE_CHUNK_ROWS, SettledPrefixes, inSteps, type SettledPrefix } from './settled-prefixes.js';

/** What a backend reads for stream counts, all inside one read of one state of the store. */
export interface StreamCountReads<S, R extends { seq: number }> {
  /** Every stream, in key order. */
  streams(): Promise<S[]>;
  /** The stream's rows after `seq`, in seq order, at most `limit`. */
  rowsAfter(stream: S, seq: number, limit: number): Promise<R[]>;
  /** The stream's highest seq. */
  lastSeq(stream: S): Promise<number>;
}

/** A backend's store, read for counts: `read` runs fn over one consistent state (a read transaction). */
export interface StreamCountSource<Reads> {
  read<T>(fn: (reads: Reads) => Promise<T>): Promise<T>;
  close(): void;
}

/** How rows of one kind of stream are counted. */
export interface StreamCountSpec<S, R, B extends string> {
  /** The final states a settled row is counted in. */
  buckets: readonly B[];
  keyOf(stream: S): string;
  /** A settled row's bucket; undefined for a row still in flight. */
  bucketOf(row: R): B | undefined;
}

/**
 * The skeleton shared by the outbox's and the inbox's stream counts, on either backend: streams
 * are found in key order, each stream's settled prefix is counted once and kept (SettledPrefixes:
 * a settled row never changes), in steps of SETTLE_CHUNK_ROWS rows that yield to the event loop,
 * and a call then reads only the rows after each prefix. Reads are one at a time (a SQLite source
 * holds one transaction open on its connection across a read's awaits); concurrent calls share
 * one catch-up.
 */
export class StreamCounter<S, R extends { seq: number }, B extends string, Reads extends StreamCountReads<S, R>> {
  readonly #prefixes: SettledPrefixes<B>;
  #queue: Promise<unknown> = Promise.resolve();
  #catchingUp: Promise<void> | undefined;

  constructor(
    private readonly spec: StreamCountSpec<S, R, B>,
    private readonly source: StreamCountSource<Reads>,
  ) {
    this.#prefixes = new SettledPrefixes<B>(spec.buckets);
  }

  /**
   * Brings the settled prefixes up to date, then, in one read, `count` for every stream with its
   * settled prefix and the rows after it (the messages in flight and those past them).
   */
  async counts<C>(count: (reads: Reads, stream: S, prefix: SettledPrefix<B>, after: R[]) => Promise<C>): Promise<C[]> {
    this.#catchingUp ??= inSteps(() => this.#read((reads) => this.#settleStep(reads))).finally(() => {
      this.#catchingUp = undefined;
    });
    await this.#catchingUp;
    return this.#read(async (reads) => {
      const out: C[] = [];
      for (const s of await reads.streams()) {
        const prefix = this.#prefixes.get(this.spec.keyOf(s));
        out.push(await count(reads, s, prefix, await reads.rowsAfter(s, prefix.through, Number.MAX_SAFE_INTEGER)));
      }
      return out;
    });
  }

  close(): void {
    this.source.close();
  }

  /** One read at a time, in call order. */
  #read<T>(fn: (reads: Reads) => Promise<T>): Promise<T> {
    const run = this.#queue.then(() => this.source.read(fn));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Moves settled prefixes on by at most SETTLE_CHUNK_ROWS rows read; true if more may be left. */
  async #settleStep(reads: Reads): Promise<boolean> {
    let budget = SETTLE_CHUNK_ROWS;
    for (const s of await reads.streams()) {
      const key = this.spec.keyOf(s);
      for (;;) {
        if (budget === 0) return true;
        const rows = await reads.rowsAfter(s, this.#prefixes.get(key).through, budget);
        budget -= rows.length;
        const taken = this.#prefixes.absorb(
          key,
          rows.map((r) => ({ seq: r.seq, bucket: this.spec.bucketOf(r) })),
        );
        // Stopped at a message in flight, or read the stream to its end.
        if (taken < rows.length || rows.length === 0 || budget > 0) break;
      }
    }
    return false;
  }
}
