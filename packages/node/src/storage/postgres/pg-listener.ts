import pg from 'pg';
import { storageFailure } from '../storage-failure.js';
import { redactUrl } from './pg-database.js';

export interface PgListenerOptions {
  url: string;
  channels: readonly string[];
  onNotify: (channel: string, payload: string) => void;
  /**
   * Called after every (re)connection once LISTEN is in place: notifications sent while the
   * connection was down are lost, so the listener's owner re-reads what it follows here.
   */
  onListening?: () => void;
  /** Told of connection failures (the listener keeps trying, with backoff up to 5 s). */
  onError?: (error: Error) => void;
}

const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 5_000;

/**
 * LISTEN on a connection of its own (a pooled connection would be handed to other work). It
 * reconnects after any failure; what a front end learns from notifications it also checks by
 * polling, so a lost notification only delays it.
 */
export class PgListener {
  readonly #options: PgListenerOptions;
  #client: pg.Client | undefined;
  #closed = false;
  #retryMs = RETRY_MIN_MS;
  #timer: NodeJS.Timeout | undefined;

  private constructor(options: PgListenerOptions) {
    this.#options = options;
  }

  /** Resolves once listening (STORAGE_FAILURE if the first connection fails). */
  static async start(options: PgListenerOptions): Promise<PgListener> {
    const l = new PgListener(options);
    try {
      await l.connect();
    } catch (cause) {
      await l.close();
      throw storageFailure(`cannot listen for changes at ${redactUrl(options.url)}`, cause);
    }
    return l;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#options.url, application_name: 'remembrancer-listener' });
    client.on('notification', (n) => this.#options.onNotify(n.channel, n.payload ?? ''));
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('listener connection ended')));
    this.#client = client;
    await client.connect();
    for (const c of this.#options.channels) await client.query(`LISTEN ${pg.escapeIdentifier(c)}`);
    this.#retryMs = RETRY_MIN_MS;
    this.#options.onListening?.();
  }

  private lost(client: pg.Client, error: Error): void {
    if (this.#closed || this.#client !== client) return;
    this.#client = undefined;
    client.end().catch(() => undefined);
    this.#options.onError?.(error);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#closed) return;
      this.connect().catch((e: unknown) =>
        this.lost(this.#client ?? client, e instanceof Error ? e : new Error(String(e))),
      );
    }, this.#retryMs);
    this.#retryMs = Math.min(RETRY_MAX_MS, this.#retryMs * 2);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const c = this.#client;
    this.#client = undefined;
    await c?.end().catch(() => undefined);
  }
}
