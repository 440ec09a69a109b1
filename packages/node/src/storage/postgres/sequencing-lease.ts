import { RemembrancerError } from '@vaultmesh/core';
import type { PgDatabase, PgQueryable } from './pg-database.js';
import { migratePostgres } from './pg-migrations.js';
import { PG_LEASE_SCHEMA } from './pg-lease-schema.js';
import type { WriteFence } from './write-fence.js';

/** The lease of the node's singleton work (integration, signing, cosigning, anchoring, delivery). */
export const SEQUENCER_LEASE = 'sequencer';

export interface LeaseGrant {
  /** The fencing token: larger than every token granted before. */
  token: number;
  /** Local monotonic time (performance.now()) after which this front end must consider the lease gone. */
  validUntil: number;
}

export interface LeaseHolderInfo {
  holder: string;
  token: number;
  holderUrl: string;
  /** Milliseconds until expiry by the database's clock (negative: expired). */
  expiresInMs: number;
}

export interface SequencingLeaseOptions {
  db: PgDatabase;
  /** This front end's identity, unique among the node's front ends (e.g. host:pid:random). */
  holder: string;
  /** Where this front end serves, told to the others while it holds the lease. */
  holderUrl?: string;
  /** Lease length, ms (default DEFAULT_LEASE_TTL_MS). */
  ttlMs?: number;
  name?: string;
}

/**
 * Lease length: a dead holder's work resumes on another front end within about this plus one
 * attempt interval (DEFAULT_LEASE_TTL_MS / 4), well inside issue 14's 5 s.
 */
export const DEFAULT_LEASE_TTL_MS = 2_000;

/**
 * A lease row in PostgreSQL with a fencing token. Expiry is judged by the database's clock alone
 * (clock_timestamp()), so front ends whose clocks disagree still agree on who holds it. Locally
 * the holder stops its work at `validUntil`, measured from BEFORE its renewal was sent with the
 * monotonic clock, so it stops no later than the database lets another take over (a paused
 * process that wakes after that finds its grant gone and, through the fence, cannot write).
 *
 * As a WriteFence it is checked inside every write transaction of the holder's work: the row is
 * read FOR SHARE and must still name this holder, with this token, unexpired. A takeover's UPDATE
 * of the row waits for those transactions, and every later check of the old holder fails.
 */
export class SequencingLease implements WriteFence {
  readonly holder: string;
  readonly name: string;
  readonly ttlMs: number;
  readonly #db: PgDatabase;
  #holderUrl: string;
  #grant: LeaseGrant | undefined;

  private constructor(options: SequencingLeaseOptions) {
    this.#db = options.db;
    this.holder = options.holder;
    this.name = options.name ?? SEQUENCER_LEASE;
    this.ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    this.#holderUrl = options.holderUrl ?? '';
    if (!Number.isSafeInteger(this.ttlMs) || this.ttlMs < 100) {
      throw new RemembrancerError(
        'CONFIG_INVALID',
        `lease ttl must be an integer of at least 100 ms, got ${this.ttlMs}`,
      );
    }
  }

  static async open(options: SequencingLeaseOptions): Promise<SequencingLease> {
    await migratePostgres(options.db, PG_LEASE_SCHEMA);
    return new SequencingLease(options);
  }

  /** Where this front end serves, known once it listens: told to the others from the next renewal or takeover on. */
  advertise(url: string): void {
    this.#holderUrl = url;
  }

  /** The grant this front end holds and believes valid now, if any. */
  get grant(): LeaseGrant | undefined {
    const g = this.#grant;
    return g !== undefined && performance.now() < g.validUntil ? g : undefined;
  }

  /**
   * Takes the lease if it is free or expired (a new token), renews it if this front end holds it
   * (same token), and otherwise leaves it. Resolves to the grant held afterwards, if any.
   */
  async acquireOrRenew(): Promise<LeaseGrant | undefined> {
    const sentAt = performance.now();
    const ttl = this.ttlMs;
    const held = this.#grant;
    let token: number | undefined;
    if (held !== undefined) {
      // Renewal keeps the token; it fails if the row moved on (expired and taken, or token changed).
      const r = await this.#db.row<{ token: number }>(
        `UPDATE lease_holders SET expires_at = clock_timestamp() + make_interval(secs => $4::double precision / 1000),
                holder_url = $5
         WHERE name = $1 AND holder = $2 AND token = $3 AND expires_at > clock_timestamp()
         RETURNING token`,
        [this.name, this.holder, held.token, ttl, this.#holderUrl],
      );
      token = r?.token;
    }
    if (token === undefined) {
      // A takeover (or the first grant): only when free or expired, always with a larger token.
      const r = await this.#db.row<{ token: number }>(
        `INSERT INTO lease_holders AS l (name, holder, token, expires_at, holder_url, acquired_at)
         VALUES ($1, $2, 1, clock_timestamp() + make_interval(secs => $3::double precision / 1000), $4, clock_timestamp())
         ON CONFLICT (name) DO UPDATE
           SET holder = EXCLUDED.holder, token = l.token + 1, expires_at = EXCLUDED.expires_at,
               holder_url = EXCLUDED.holder_url, acquired_at = EXCLUDED.acquired_at
           WHERE l.expires_at <= clock_timestamp()
         RETURNING token`,
        [this.name, this.holder, ttl, this.#holderUrl],
      );
      token = r?.token;
    }
    this.#grant = token === undefined ? undefined : { token, validUntil: sentAt + ttl };
    return this.#grant;
  }

  /** Gives the lease up now (a clean shutdown), so another front end need not wait for expiry. */
  async release(): Promise<void> {
    const held = this.#grant;
    this.#grant = undefined;
    if (held === undefined) return;
    await this.#db.run(
      `UPDATE lease_holders SET expires_at = clock_timestamp() WHERE name = $1 AND holder = $2 AND token = $3`,
      [this.name, this.holder, held.token],
    );
  }

  /** Forgets the grant locally (its renewal failed or timed out): the work stops before the database says so. */
  drop(): void {
    this.#grant = undefined;
  }

  /** WriteFence: throws LEASE_LOST unless this front end holds the lease, with its token, unexpired. */
  async check(tx: PgQueryable): Promise<void> {
    const held = this.grant;
    if (held === undefined)
      throw new RemembrancerError('LEASE_LOST', `this front end does not hold the ${this.name} lease`);
    const r = await tx.row<{ token: number }>(
      `SELECT token FROM lease_holders
       WHERE name = $1 AND holder = $2 AND token = $3 AND expires_at > clock_timestamp() FOR SHARE`,
      [this.name, this.holder, held.token],
    );
    if (r === undefined) {
      this.#grant = undefined;
      throw new RemembrancerError('LEASE_LOST', `the ${this.name} lease (token ${held.token}) is no longer ours`);
    }
  }

  /** Who holds the lease now, by the database's clock; undefined if it was never granted. */
  async current(): Promise<LeaseHolderInfo | undefined> {
    const r = await this.#db.row<{ holder: string; token: number; holder_url: string; expires_in_ms: number }>(
      `SELECT holder, token, holder_url,
              (extract(epoch FROM expires_at - clock_timestamp()) * 1000)::bigint AS expires_in_ms
       FROM lease_holders WHERE name = $1`,
      [this.name],
    );
    return r === undefined
      ? undefined
      : { holder: r.holder, token: r.token, holderUrl: r.holder_url, expiresInMs: r.expires_in_ms };
  }
}
