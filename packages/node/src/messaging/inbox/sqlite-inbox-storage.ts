import { decideAdmission, type Admission } from './inbox-admission.js';
import type { InboxRow, NewInboxRow, StoredInboxItem } from './inbox-record.js';
import { advanceStream } from './inbox-rows.js';
import type { InboxSettlement, InboxStorage, InboxTransition } from './inbox-storage.js';
import { InboxStore } from './inbox-store.js';

/**
 * InboxStorage over the SQLite InboxStore (one file): reads are the store's; admit() and settle()
 * run their reads and writes in one of its IMMEDIATE transactions (atomically()).
 */
export class SqliteInboxStorage implements InboxStorage {
  constructor(readonly store: InboxStore) {}

  /** Opens (creating if missing) the inbox file at `path`. */
  static open(path: string): SqliteInboxStorage {
    return new SqliteInboxStorage(new InboxStore(path));
  }

  async messageIdAt(sourceOrigin: string, sourceIndex: number): Promise<string | undefined> {
    return this.store.messageIdAt(sourceOrigin, sourceIndex);
  }

  async get(sourceOrigin: string, sourceIndex: number): Promise<InboxRow | undefined> {
    return this.store.get(sourceOrigin, sourceIndex);
  }

  async bySeq(namespace: string, sourceOrigin: string, seq: number): Promise<InboxRow | undefined> {
    return this.store.bySeq(namespace, sourceOrigin, seq);
  }

  async streamFrom(namespace: string, sourceOrigin: string, seq: number, limit: number): Promise<InboxRow[]> {
    return this.store.streamFrom(namespace, sourceOrigin, seq, limit);
  }

  async nextSeq(namespace: string, sourceOrigin: string): Promise<number> {
    return this.store.nextSeq(namespace, sourceOrigin);
  }

  async admit(namespace: string, sourceOrigin: string, messages: readonly NewInboxRow[]): Promise<Admission[]> {
    const s = this.store;
    return s.atomically(() => {
      const idsByIndex = new Map<number, string>();
      const indexBySeq = new Map<number, number>();
      for (const m of messages) {
        const id = s.messageIdAt(sourceOrigin, m.sourceIndex);
        if (id !== undefined) idsByIndex.set(m.sourceIndex, id);
        const holder = s.bySeq(namespace, sourceOrigin, m.seq);
        if (holder !== undefined) indexBySeq.set(m.seq, holder.sourceIndex);
      }
      const nextSeq = s.nextSeq(namespace, sourceOrigin);
      const { admissions, inserts } = decideAdmission(messages, { nextSeq, idsByIndex, indexBySeq });
      for (const row of inserts) s.insertHeld(row);
      return admissions;
    });
  }

  async settle(settlement: InboxSettlement): Promise<void> {
    const s = this.store;
    const { namespace } = settlement;
    s.atomically(() => {
      if (settlement.initialScanMark !== undefined && s.scanMark(namespace) === undefined)
        s.raiseScanMark(namespace, settlement.initialScanMark);
      for (const t of settlement.transitions) this.#apply(namespace, t);
      for (const origin of settlement.advance) advanceStream(s, namespace, origin);
      if (settlement.raiseScanMark !== undefined) s.raiseScanMark(namespace, settlement.raiseScanMark);
    });
  }

  #apply(namespace: string, t: InboxTransition): void {
    const s = this.store;
    const { sourceOrigin: origin, sourceIndex: index } = t;
    switch (t.to) {
      case 'applying':
        return s.markApplying(origin, index, t.delivery);
      case 'recorded':
        return s.markRecorded(origin, index, t.recordIndex, t.delivery);
      case 'applied':
        s.markApplied(origin, index, t.delivery, t.deliveryIndex, t.recordIndex);
        if (t.listed) s.addItem(namespace, origin, index);
        return;
      case 'refused':
        return s.markRefused(origin, index, t.code, t.message);
      case 'held':
        if (t.recordIndex !== undefined) s.markRecorded(origin, index, t.recordIndex);
        return s.markHeld(origin, index);
    }
  }

  async items(namespace: string, after: number, limit: number): Promise<StoredInboxItem[]> {
    return this.store.items(namespace, after, limit);
  }

  async lastCursor(namespace: string): Promise<number> {
    return this.store.lastCursor(namespace);
  }

  async scanMark(namespace: string): Promise<number | undefined> {
    return this.store.scanMark(namespace);
  }

  async recordIndexesFrom(namespace: string, from: number): Promise<number[]> {
    return this.store.recordIndexesFrom(namespace, from).sort((a, b) => a - b);
  }

  async applyingRows(): Promise<InboxRow[]> {
    return this.store.applyingRows();
  }

  async close(): Promise<void> {
    this.store.close();
  }
}
