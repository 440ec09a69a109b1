// The messaging benchmark's receiving application: one server-sent-events stream of a target
// namespace's inbox (GET /v1/ns/{ns}/inbox, Accept: text/event-stream), timing each message's
// arrival on the benchmark process's clock (performance.now(), the clock its sends are timed on).
import { EventStreamParser } from '../packages/cli/src/client/event-stream-parser.ts';

/** How long the stream may take to answer with its headers, ms. */
const OPEN_TIMEOUT_MS = 15_000;

/**
 * The `message_id` of an inbox item's event data, read without parsing the whole item (its message,
 * proof and receipt: ~3 KB of JSON a message, the bench process's largest cost besides the sends).
 * The node writes JSON.stringify of an InboxItem, whose `message_id` member is a 64-hex-digit id; an
 * event not in that form falls back to JSON.parse.
 */
export function messageIdOf(data: string): string {
  const at = data.indexOf(ID_MEMBER);
  const id = at < 0 ? '' : data.slice(at + ID_MEMBER.length, at + ID_MEMBER.length + 64);
  if (/^[0-9a-f]{64}$/.test(id) && data.charCodeAt(at + ID_MEMBER.length + 64) === 0x22) return id;
  return (JSON.parse(data) as { message_id: string }).message_id;
}
const ID_MEMBER = '"message_id":"';

export class InboxWatch {
  /** Message id → arrival time (performance.now()), the first time it is seen. */
  readonly arrivals = new Map<string, number>();
  /** The ids in `arrivals`, in arrival order. */
  readonly #order: string[] = [];
  readonly #controller: AbortController;
  readonly #reading: Promise<void>;
  #failure: Error | undefined;
  #wake: (() => void) | undefined;

  private constructor(controller: AbortController, body: ReadableStream<Uint8Array>) {
    this.#controller = controller;
    this.#reading = this.#read(body).catch((e: unknown) => {
      if (!controller.signal.aborted) this.#failure = e instanceof Error ? e : new Error(String(e));
      this.#wake?.();
    });
  }

  /** Opens the stream after cursor `after`, with a token that may read the namespace's inbox. */
  static async open(url: string, ns: string, token: string, after = 0): Promise<InboxWatch> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), OPEN_TIMEOUT_MS);
    let res: Response;
    try {
      res = await fetch(`${url}/v1/ns/${ns}/inbox?after=${after}&limit=1000`, {
        headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
        signal: controller.signal,
      });
    } finally {
      clearTimeout(timer);
    }
    if (res.status !== 200 || !res.body) {
      controller.abort();
      throw new Error(`inbox event stream of ${ns} answered ${res.status}: ${await res.text().catch(() => '')}`);
    }
    return new InboxWatch(controller, res.body);
  }

  async #read(body: ReadableStream<Uint8Array>): Promise<void> {
    const parser = new EventStreamParser();
    const decoder = new TextDecoder();
    const reader = body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) throw new Error('the inbox event stream ended');
      const now = performance.now();
      let added = false;
      for (const event of parser.push(decoder.decode(value, { stream: true }))) {
        if (event.type !== 'message') continue;
        const id = messageIdOf(event.data);
        if (!this.arrivals.has(id)) {
          this.arrivals.set(id, now);
          this.#order.push(id);
          added = true;
        }
      }
      if (added) this.#wake?.();
    }
  }

  /** Resolves once every id in `ids` has arrived; throws after `timeoutMs` or if the stream failed. */
  async waitForAll(ids: readonly string[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const missing = new Set(ids.filter((id) => !this.arrivals.has(id)));
    // Only what arrived since the last look is checked: a pass over every id still missing at
    // each wake cost the bench process more CPU than reading the stream (20,000 ids, ~1,000 wakes).
    let seen = this.#order.length;
    while (missing.size > 0) {
      if (this.#failure) throw this.#failure;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`${missing.size} of ${ids.length} messages not in the inbox after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
      for (; seen < this.#order.length; seen++) missing.delete(this.#order[seen]!);
    }
  }

  async close(): Promise<void> {
    this.#controller.abort();
    await this.#reading;
  }
}
