import type { OutboxRow, RowUpdate, StreamRef } from './outbox-row.js';
import type { DeliveryLane, OutboxStorage, ScannedRange, StreamHead } from './outbox-storage.js';
import { OutboxStore } from './outbox-store.js';

/**
 * OutboxStorage over the SQLite OutboxStore (one file, one connection): each operation is one
 * call of the store, already a transaction of its own where it writes more than a row.
 */
export class SqliteOutboxStorage implements OutboxStorage {
  constructor(readonly store: OutboxStore) {}

  /** Opens (creating if missing) the outbox file at `path`. */
  static open(path: string): SqliteOutboxStorage {
    return new SqliteOutboxStorage(new OutboxStore(path));
  }

  async recordSent(rows: readonly OutboxRow[], scanned: readonly ScannedRange[] = []): Promise<OutboxRow[]> {
    return this.store.recordSent(rows, scanned);
  }

  async scanMark(namespace: string): Promise<number> {
    return this.store.scanMark(namespace);
  }

  async streamSeqs(): Promise<Array<StreamRef & { seq: number }>> {
    return this.store.streamSeqs();
  }

  async queuedNamespaces(): Promise<string[]> {
    return this.store.queuedNamespaces();
  }

  async markSealed(namespace: string, size: number, dueMs: number): Promise<number> {
    return this.store.markSealed(namespace, size, dueMs);
  }

  async heads(lane: DeliveryLane): Promise<StreamHead[]> {
    return this.store.heads(lane);
  }

  async streamRows(lane: DeliveryLane, stream: StreamRef, limit: number, afterSeq = 0): Promise<OutboxRow[]> {
    return this.store.streamRows(lane, stream, limit, afterSeq);
  }

  async update(updates: readonly RowUpdate[]): Promise<void> {
    this.store.update(updates);
  }

  async row(id: string): Promise<OutboxRow | undefined> {
    return this.store.row(id);
  }

  async replies(queryId: string): Promise<string[]> {
    return this.store.replies(queryId);
  }

  async addReply(queryId: string, replyId: string): Promise<void> {
    this.store.addReply(queryId, replyId);
  }

  async close(): Promise<void> {
    this.store.close();
  }
}
