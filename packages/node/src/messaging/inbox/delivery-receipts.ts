import {
  errorMessage,
  receiptBuilder,
  utf8Decode,
  type MessageDelivery,
  type Receipt,
  type ReceiptBuilder,
} from '@vaultmesh/core';
import type { LogEngine, PublishedCheckpoint } from '../../log/log-engine.js';
import type { DeliveryProof } from '../messaging-wire.js';

/** How often a wait for a checkpoint looks again, ms (the default checkpoint interval is 1 s). */
export const CHECKPOINT_POLL_MS = 25;

export interface DeliveryReceiptsOptions {
  engine: LogEngine;
  /** The note served for a checkpoint: the log-signed note plus every cosignature held. */
  checkpointNote: (origin: string, checkpoint: PublishedCheckpoint) => string | Promise<string>;
  logger?: { warn(obj: object, msg: string): void };
}

/**
 * The proof of delivery of applied messages: their delivery record and its receipt
 * (vaultmesh.receipt@1.0.0, built as GET /v1/ns/{ns}/receipt/{index} builds it) against the
 * namespace's latest published checkpoint, once one covers the record.
 */
export class DeliveryReceipts {
  #closed = false;
  /** Wakes the sleeping waits (close). */
  readonly #sleepers = new Set<() => void>();

  constructor(private readonly options: DeliveryReceiptsOptions) {}

  /**
   * Resolves with the latest checkpoint of the namespace once it covers `index`, or undefined
   * after `timeoutMs` (or on close). Checkpoints are signed on the engine's interval; nothing
   * here asks for one sooner, so a burst of deliveries shares one signature.
   */
  async covering(namespace: string, index: number, timeoutMs: number): Promise<PublishedCheckpoint | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const cp = this.latest(namespace);
      if (cp && cp.size > index) return cp;
      const left = deadline - Date.now();
      if (this.#closed || left <= 0) return undefined;
      await this.sleep(Math.min(CHECKPOINT_POLL_MS, left));
    }
  }

  /**
   * The proofs of delivery records of the namespace, each with its receipt under `checkpoint`
   * (else the latest) when that covers it. The checkpoint's note — a read of the cosignatures
   * held — is made and parsed once for all the records proved (one receiptBuilder), not once a
   * record: an answer or an inbox page proves hundreds under one checkpoint.
   */
  proofsUnder(
    namespace: string,
    checkpoint?: PublishedCheckpoint,
  ): (index: number, entry: MessageDelivery) => Promise<DeliveryProof> {
    const cp = checkpoint ?? this.latest(namespace);
    let build: Promise<ReceiptBuilder> | undefined;
    return async (index, entry) => {
      const proof: DeliveryProof = { index, entry };
      if (!cp || cp.size <= index) return proof;
      const receipt = await this.receipt(namespace, index, cp, (origin) => {
        build ??= Promise.resolve(this.options.checkpointNote(origin, cp)).then((checkpointNote) =>
          receiptBuilder({ namespace, origin, checkpointNote }),
        );
        return build;
      });
      if (receipt) proof.receipt = receipt;
      return proof;
    };
  }

  close(): void {
    this.#closed = true;
    for (const wake of [...this.#sleepers]) wake();
  }

  private latest(namespace: string): PublishedCheckpoint | undefined {
    try {
      return this.options.engine.latestCheckpoint(namespace);
    } catch {
      // Shutting down: no receipt rather than a failed answer for a message already applied.
      return undefined;
    }
  }

  private async receipt(
    namespace: string,
    index: number,
    cp: PublishedCheckpoint,
    builderOf: (origin: string) => Promise<ReceiptBuilder>,
  ): Promise<Receipt | undefined> {
    const { engine } = this.options;
    try {
      const ns = engine.getNamespace(namespace);
      const data = await engine.getEntry(namespace, index);
      if (!ns || !data) return undefined;
      // The stored leaf data: its leaf hash is the log's, with no second canonicalization.
      return (await builderOf(ns.origin))(
        index,
        data,
        JSON.parse(utf8Decode(data)) as unknown,
        await engine.inclusionProof(namespace, index, cp.size),
      );
    } catch (e) {
      // The record is applied either way; the sender asks again and gets the receipt then.
      this.options.logger?.warn({ namespace, index, err: errorMessage(e) }, 'cannot build a delivery receipt');
      return undefined;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#sleepers.add(done);
    });
  }
}
