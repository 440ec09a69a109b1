import type { Logger } from 'pino';
import { errorMessage } from '@vaultmesh/core';
import type { SequencingLease } from '../storage/postgres/sequencing-lease.js';

/** What a front end starts when it gets the lease and stops when it loses it (in reverse). */
export interface SingletonWork {
  name: string;
  start(): Promise<void> | void;
  /**
   * `graceful`: the front end is closing and still holds the lease (finish and hand over: a last
   * integration and checkpoint); otherwise the lease is lost and nothing more may be written.
   */
  stop(graceful: boolean): Promise<void> | void;
}

/**
 * Whether this front end holds the sequencing lease, kept true (issue 14): it tries to take or
 * renew the lease every quarter of its length; on getting it, it starts the node's singleton work
 * (integration and signing, cosigning, anchoring, delivery, cadence, gossip) in order; on losing
 * it — a renewal refused, failed, or not done before the grant's local deadline — it stops that
 * work at once, in reverse. With SQLite (no lease) the node is its only front end and leads from
 * start to close. stop() stops the work and gives the lease up, so a successor need not wait for
 * it to expire.
 */
export class FrontEndRole {
  private loop: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private started: SingletonWork[] = [];
  /** Role changes run one at a time, in order. */
  private changing: Promise<void> = Promise.resolve();
  private isLeading = false;
  private stopped = false;
  private ticking = false;

  constructor(
    private readonly lease: SequencingLease | undefined,
    private readonly work: readonly SingletonWork[],
    private readonly logger: Logger | undefined,
  ) {}

  get leading(): boolean {
    return this.isLeading;
  }

  /** Holding the lease with all its work started: serving as the node (what followers forward to). */
  get serving(): boolean {
    return this.isLeading && this.started.length === this.work.length;
  }

  /** Takes the lease if free (or leads at once without one) and starts renewing it. */
  async start(): Promise<void> {
    if (this.lease === undefined) {
      await this.become(true);
      return;
    }
    await this.tick();
    const every = Math.max(25, Math.floor(this.lease.ttlMs / 4));
    // A failed change is logged where it fails (become); the next tick tries again.
    this.loop = setInterval(() => void this.tick().catch(() => undefined), every);
  }

  /**
   * Renews (or takes) the lease and changes role to match. Starting the work — a promotion's
   * catch-up can take longer than the lease — does not hold up the next renewal: the returned
   * promise settles with the change, the tick is over as soon as the renewal is.
   */
  private async tick(): Promise<void> {
    const lease = this.lease!;
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    let leading: boolean | undefined;
    try {
      const grant = await lease.acquireOrRenew();
      if (grant !== undefined) this.armDeadline(grant.validUntil);
      leading = grant !== undefined;
    } catch (e) {
      // The database is unreachable: the grant cannot be renewed, so the work stops by its deadline.
      this.logger?.warn({ err: errorMessage(e) }, 'lease renewal failed');
      if (lease.grant === undefined) leading = false;
    } finally {
      this.ticking = false;
    }
    if (leading !== undefined) await this.become(leading);
  }

  /** Stops the work when the grant's local deadline passes without a renewal. */
  private armDeadline(validUntil: number): void {
    if (this.deadline !== undefined) clearTimeout(this.deadline);
    this.deadline = setTimeout(
      () => {
        // Timers may fire a little early: still valid means not yet, look again then.
        const g = this.lease?.grant;
        if (g !== undefined) return this.armDeadline(g.validUntil);
        this.lease?.drop();
        void this.become(false);
      },
      Math.max(1, Math.ceil(validUntil - performance.now())),
    );
  }

  private become(leading: boolean): Promise<void> {
    const run = this.changing.then(async () => {
      if (leading === this.isLeading || (leading && this.stopped)) return;
      this.isLeading = leading;
      if (leading) {
        this.logger?.info({ token: this.lease?.grant?.token }, 'this front end holds the sequencing lease');
        for (const w of this.work) {
          // Lost meanwhile: stop what started.
          if (!this.isLeading) break;
          try {
            await w.start();
          } catch (e) {
            // Half a node does not hold the lease: what started stops as on a loss, and the
            // lease is given up for another front end to take.
            this.logger?.error({ err: errorMessage(e), work: w.name }, 'starting the singleton work failed');
            this.isLeading = false;
            this.stopped = true;
            if (this.loop !== undefined) clearInterval(this.loop);
            if (this.deadline !== undefined) clearTimeout(this.deadline);
            await this.stopStarted(false);
            await this.lease
              ?.release()
              .catch((r: unknown) => this.logger?.warn({ err: errorMessage(r) }, 'releasing the lease failed'));
            throw e;
          }
          this.started.push(w);
        }
      } else {
        this.logger?.warn({}, 'this front end no longer holds the sequencing lease: its singleton work stops');
        await this.stopStarted(false);
      }
    });
    this.changing = run.catch((e: unknown) => this.logger?.error({ err: errorMessage(e) }, 'changing role failed'));
    return run;
  }

  private async stopStarted(graceful: boolean): Promise<void> {
    for (const w of this.started.reverse()) {
      try {
        await w.stop(graceful);
      } catch (e) {
        this.logger?.error({ err: errorMessage(e), work: w.name }, 'stopping failed');
      }
    }
    this.started = [];
  }

  /** Stops renewing, stops the work, gives the lease up. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.loop !== undefined) clearInterval(this.loop);
    if (this.deadline !== undefined) clearTimeout(this.deadline);
    await this.changing;
    this.isLeading = false;
    await this.stopStarted(this.lease === undefined || this.lease.grant !== undefined);
    await this.lease
      ?.release()
      .catch((e: unknown) => this.logger?.warn({ err: errorMessage(e) }, 'releasing the lease failed'));
  }
}
