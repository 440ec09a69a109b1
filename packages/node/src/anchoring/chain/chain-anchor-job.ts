import { RemembrancerError, base64Decode, errorMessage, type EpochStatement } from '@vaultmesh/core';
import type { Logger } from 'pino';
import type { ChainEpochKey, JournaledAttempt } from './chain-journal-records.js';
import type { ChainJournalStorage } from './chain-journal-storage.js';
import type { ChainAttempt, ChainEvidence, ChainPayload, ChainSender, ChainTxStatus } from './chain-sender.js';

/*
 * Follows one epoch's chain anchor to finality (issue 11, items 1, 3 and 5):
 *
 *   - the first time: sign one transaction, journal it, broadcast it;
 *   - every `pollMs`: ask the chain where each journaled attempt is. An attempt in a block counts
 *     its confirmations; one that left its block (a reorganisation) goes back to pending and its
 *     history says so; one the node no longer knows is broadcast again (the same signed bytes);
 *   - an attempt not in a block `replaceAfterMs` after it was sent is replaced by one paying more
 *     (same nonce or inputs), up to the fee cap; when every attempt is conflicted for good (its
 *     nonce or inputs taken by something else), a fresh one is signed;
 *   - once an attempt has `confirmations` blocks (its own included) the evidence is built from
 *     that block and the anchor is final. Nothing is final before.
 *
 * Everything is journaled, so a node restarted mid-anchor resumes from the journal: it follows
 * the transactions it signed instead of paying for new ones.
 */

export interface ChainAnchorPolicy {
  readonly confirmations: number;
  readonly replaceAfterMs: number;
  readonly pollMs: number;
}

export interface ChainAnchorJobOptions {
  readonly sender: ChainSender;
  readonly journal: ChainJournalStorage;
  readonly policy: ChainAnchorPolicy;
  readonly now: () => number;
  /** True once the node is stopping: the job stops polling (it resumes from the journal). */
  readonly stopping: () => boolean;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly logger?: Logger;
}

export interface ChainAnchorOutcome {
  readonly attempt: ChainAttempt;
  readonly evidence: ChainEvidence;
  /** Transactions broadcast by this run (first sends, rebroadcasts and replacements). */
  readonly broadcasts: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function chainPayload(statement: EpochStatement): ChainPayload {
  return { root: base64Decode(statement.root), federationId: statement.federation_id, epoch: statement.epoch };
}

export function chainEpochKey(statement: EpochStatement): ChainEpochKey {
  return {
    target: statement.target,
    epoch: statement.epoch,
    mode: statement.mode,
    node: statement.mode === 'collaborative' ? '' : (statement.node ?? ''),
  };
}

function feeText(a: ChainAttempt): string {
  return a.fee.kind === 'eip1559'
    ? `nonce ${a.nonce}, max fee ${a.fee.maxFeePerGas} wei/gas, tip ${a.fee.maxPriorityFeePerGas}`
    : `${a.fee.feeRateSatVb} sat/vB, ${a.fee.feeSats} sats for ${a.fee.vbytes} vB`;
}

export class ChainAnchorJob {
  readonly #o: ChainAnchorJobOptions;
  readonly #sleep: (ms: number) => Promise<void>;
  #broadcasts = 0;

  constructor(options: ChainAnchorJobOptions) {
    this.#o = options;
    this.#sleep = options.sleep ?? defaultSleep;
  }

  /** Anchors the statement's root; resolves when an attempt is final, throws when stopped. */
  async run(statement: EpochStatement): Promise<ChainAnchorOutcome> {
    const key = chainEpochKey(statement);
    const payload = chainPayload(statement);
    const j = this.#o.journal;
    if ((await j.attempts(key)).length === 0) await this.#sign(key, payload, undefined);
    for (;;) {
      if (this.#o.stopping())
        throw new RemembrancerError('SHUTTING_DOWN', `anchoring of epoch ${key.epoch} at ${key.target} paused`);
      const attempts = await j.attempts(key);
      for (const a of attempts) if (a.state === 'prepared') await this.#send(key, a.attempt, 'sent');
      const seen = await this.#look(key, await j.attempts(key));
      const best = seen
        .filter((s) => s.status.state === 'included')
        .sort((x, y) => confirmationsOf(y.status) - confirmationsOf(x.status))[0];
      if (best !== undefined && best.status.state === 'included') {
        if (best.status.confirmations >= this.#o.policy.confirmations) {
          const evidence = await this.#o.sender.evidence(best.journaled.attempt, best.status.blockHash);
          await j.see(key, best.journaled.attempt.txid, { ...best.status, state: 'final' }, this.#o.now(), {
            name: 'final',
            detail: `${best.status.confirmations} confirmations in block ${best.status.blockHash} at height ${best.status.height}`,
          });
          return { attempt: best.journaled.attempt, evidence, broadcasts: this.#broadcasts };
        }
      } else {
        await this.#unstick(key, payload, seen);
      }
      await this.#sleep(this.#o.policy.pollMs);
    }
  }

  async #sign(key: ChainEpochKey, payload: ChainPayload, replacing: ChainAttempt | undefined): Promise<boolean> {
    const a = await this.#o.sender.prepare(payload, replacing);
    if (a === undefined) return false;
    await this.#o.journal.add(
      key,
      a,
      this.#o.now(),
      replacing === undefined ? feeText(a) : `replaces ${replacing.txid}: ${feeText(a)}`,
    );
    await this.#send(key, a, 'sent');
    return true;
  }

  /** Broadcasts, journaling it; a refusal for good marks the attempt conflicted. */
  async #send(key: ChainEpochKey, a: ChainAttempt, how: 'sent' | 'rebroadcast'): Promise<void> {
    try {
      await this.#o.sender.broadcast(a);
      this.#broadcasts++;
      await this.#o.journal.markSent(key, a.txid, this.#o.now(), how, feeText(a));
    } catch (e) {
      if (e instanceof RemembrancerError && e.code === 'CHAIN_TX_REJECTED') {
        await this.#o.journal.see(key, a.txid, { state: 'conflicted' }, this.#o.now(), {
          name: 'rejected',
          detail: errorMessage(e),
        });
        return;
      }
      throw e;
    }
  }

  /** Every attempt's status now, journaled; a change of block is a reorganisation, recorded as such. */
  async #look(
    key: ChainEpochKey,
    attempts: JournaledAttempt[],
  ): Promise<{ journaled: JournaledAttempt; status: ChainTxStatus }[]> {
    const out: { journaled: JournaledAttempt; status: ChainTxStatus }[] = [];
    for (const a of attempts) {
      if (a.state === 'prepared') continue;
      const status = await this.#o.sender.status(a.attempt);
      out.push({ journaled: a, status });
      const now = this.#o.now();
      const txid = a.attempt.txid;
      if (status.state === 'included') {
        const moved = a.blockHash !== undefined && a.blockHash !== status.blockHash;
        const fresh = a.state !== 'included' || moved;
        await this.#o.journal.see(
          key,
          txid,
          status,
          now,
          fresh
            ? {
                name: moved ? 'reorged' : 'included',
                detail: `${moved ? `left block ${a.blockHash}; now ` : ''}in block ${status.blockHash} at height ${status.height}`,
              }
            : undefined,
        );
      } else if (a.state === 'included' || a.state === 'final') {
        await this.#o.journal.see(key, txid, { state: status.state }, now, {
          name: 'reorged',
          detail: `block ${a.blockHash} at height ${a.height} left the best chain; the transaction is ${status.state}`,
        });
        this.#o.logger?.warn(
          { target: key.target, epoch: key.epoch, txid, block: a.blockHash },
          'chain reorganisation dropped an anchor transaction; following it again',
        );
      } else if (status.state !== a.state) {
        await this.#o.journal.see(key, txid, { state: status.state }, now, {
          name: status.state,
          detail: status.state === 'conflicted' && status.by ? `by ${status.by}` : `was ${a.state}`,
        });
      }
    }
    return out;
  }

  /** No attempt in a block: send the missing ones again, replace a stuck one, or start afresh. */
  async #unstick(
    key: ChainEpochKey,
    payload: ChainPayload,
    seen: { journaled: JournaledAttempt; status: ChainTxStatus }[],
  ): Promise<void> {
    for (const s of seen) {
      if (s.status.state !== 'missing') continue;
      try {
        await this.#send(key, s.journaled.attempt, 'rebroadcast');
      } catch (e) {
        // A node may refuse the same bytes for now (anvil drops a transaction priced under the
        // base fee and refuses it again): a replacement paying more is the way on, so go on.
        if (e instanceof RemembrancerError && e.code === 'CHAIN_RPC_UNREACHABLE') throw e;
        await this.#o.journal.note(
          key,
          s.journaled.attempt.txid,
          'rebroadcast-refused',
          errorMessage(e),
          this.#o.now(),
        );
      }
    }
    const live = (await this.#o.journal.attempts(key)).filter((a) => a.state === 'pending' || a.state === 'missing');
    if (live.length === 0) {
      // Every attempt is conflicted for good: its nonce or inputs went to another transaction.
      await this.#sign(key, payload, undefined);
      return;
    }
    const newest = live.reduce((x, y) => (y.createdAtMs > x.createdAtMs ? y : x));
    const since = newest.sentAtMs ?? newest.createdAtMs;
    if (this.#o.now() - since < this.#o.policy.replaceAfterMs) return;
    // A replacement spends what the newest spends; none is possible past the fee cap.
    if (!(await this.#sign(key, payload, newest.attempt))) {
      const history = await this.#o.journal.events(key.target, key.epoch);
      if (!history.some((e) => e.txid === newest.attempt.txid && e.event === 'fee-cap'))
        await this.#o.journal.note(
          key,
          newest.attempt.txid,
          'fee-cap',
          'stuck, and the fee cap leaves no room for a replacement: waiting',
          this.#o.now(),
        );
    }
  }
}

function confirmationsOf(s: ChainTxStatus): number {
  return s.state === 'included' ? s.confirmations : 0;
}
