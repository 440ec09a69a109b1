import { bytesEqual, utf8Encode } from '@vaultmesh/core';
import { entryToBytes } from '../../entries/entry-bytes.js';
import type { LogEngine } from '../../log/log-engine.js';
import type { InboxRow } from './inbox-record.js';
import { listedInInbox, rowMessage } from './inbox-rows.js';
import type { InboxStorage, InboxTransition } from './inbox-storage.js';
import { isRecord } from './turn-decision.js';

/** Entries read from a log at a time while reconciling. */
const SCAN_CHUNK = 1024;

export interface ReconcileReport {
  /** Intents whose delivery record was in the log: now applied. */
  applied: number;
  /** Intents whose append never happened: held again, for a retry to apply. */
  held: number;
  /** `record` entries found in the log for intents that had not stored their index. */
  recorded: number;
}

/** Byte strings sought in a log, by length first (most entries are ruled out without comparing bytes). */
class Sought {
  readonly #byLength = new Map<number, Array<{ bytes: Uint8Array; row: InboxRow }>>();

  add(bytes: Uint8Array, row: InboxRow): void {
    const list = this.#byLength.get(bytes.length) ?? [];
    list.push({ bytes, row });
    this.#byLength.set(bytes.length, list);
  }

  /** The first row seeking exactly `data`, removed so that it is found once. */
  take(data: Uint8Array): InboxRow | undefined {
    const list = this.#byLength.get(data.length);
    const i = list?.findIndex((s) => bytesEqual(s.bytes, data)) ?? -1;
    if (i < 0) return undefined;
    return list!.splice(i, 1)[0]!.row;
  }

  get size(): number {
    let n = 0;
    for (const list of this.#byLength.values()) n += list.length;
    return n;
  }
}

/**
 * Resolves the intents a crash left (rows still `applying`) against the target logs, the truth
 * of what was applied, before the inbox takes any message. Each namespace with intents is scanned
 * from its scan mark (below it every delivery record's effect is recorded) to its size:
 * - an intent whose planned delivery record is in the log was applied there: it becomes applied
 *   at that index (listed in the application inbox if it should be);
 * - a `record` intent that had not stored its entry's index gets it from the first entry of
 *   exactly its bytes not already some message's record entry (entries of the same bytes are
 *   the same record, whichever of them it names);
 * - every other intent's append never happened: it is held again, and applied by the next
 *   delivery of any message of its stream (a `record` entry found stays: only its delivery
 *   record is then owed).
 * Streams then move past what became final, and the mark moves to the size scanned. Runs once,
 * at open, before any append of this inbox, so nothing appends behind the scan.
 */
export async function reconcileInbox(storage: InboxStorage, engine: LogEngine): Promise<ReconcileReport> {
  const report: ReconcileReport = { applied: 0, held: 0, recorded: 0 };
  const byNamespace = new Map<string, InboxRow[]>();
  for (const row of await storage.applyingRows()) {
    const list = byNamespace.get(row.namespace) ?? [];
    list.push(row);
    byNamespace.set(row.namespace, list);
  }
  for (const [namespace, rows] of byNamespace) await reconcileNamespace(storage, engine, namespace, rows, report);
  return report;
}

async function reconcileNamespace(
  storage: InboxStorage,
  engine: LogEngine,
  namespace: string,
  rows: readonly InboxRow[],
  report: ReconcileReport,
): Promise<void> {
  const exists = engine.getNamespace(namespace) !== undefined;
  const size = exists ? engine.sequencedSize(namespace) : 0;
  const mark = Math.min((await storage.scanMark(namespace)) ?? 0, size);
  const deliveries = new Sought();
  const records = new Sought();
  for (const row of rows) {
    if (row.delivery !== undefined) deliveries.add(utf8Encode(row.delivery), row);
    else if (row.recordIndex === undefined && isRecord(rowMessage(row)))
      records.add(entryToBytes(rowMessage(row).payload.parameters), row);
  }
  const claimed = new Set(await storage.recordIndexesFrom(namespace, mark));
  const found = new Map<InboxRow, number>();
  const recordAt = new Map<InboxRow, number>();
  for (let start = mark; start < size && deliveries.size + records.size > 0; start += SCAN_CHUNK) {
    const chunk = await engine.getEntries(namespace, start, Math.min(size, start + SCAN_CHUNK));
    chunk.forEach((data, i) => {
      const index = start + i;
      const delivered = deliveries.take(data);
      if (delivered) {
        found.set(delivered, index);
        return;
      }
      if (claimed.has(index)) return;
      const recorded = records.take(data);
      if (recorded) {
        recordAt.set(recorded, index);
        claimed.add(index);
      }
    });
  }

  const streams = new Set<string>();
  const transitions: InboxTransition[] = [];
  for (const row of rows) {
    streams.add(row.sourceOrigin);
    const key = { sourceOrigin: row.sourceOrigin, sourceIndex: row.sourceIndex };
    const deliveryIndex = found.get(row);
    if (deliveryIndex !== undefined) {
      transitions.push({
        ...key,
        to: 'applied',
        delivery: row.delivery!,
        deliveryIndex,
        recordIndex: row.recordIndex,
        listed: listedInInbox(rowMessage(row)),
      });
      continue;
    }
    const recordIndex = recordAt.get(row);
    transitions.push({ ...key, to: 'held', ...(recordIndex === undefined ? {} : { recordIndex }) });
  }
  await storage.settle({ namespace, transitions, advance: [...streams], raiseScanMark: size });
  // Counted once the settlement is stored (it is all or nothing).
  for (const t of transitions) {
    if (t.to === 'applied') report.applied++;
    else {
      if (t.to === 'held' && t.recordIndex !== undefined) report.recorded++;
      report.held++;
    }
  }
}
