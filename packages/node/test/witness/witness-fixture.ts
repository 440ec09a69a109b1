// Shared set-up for the witness tests (not a test file itself): temp dirs, a log that grows a
// real RFC 6962 tree and signs checkpoints, and request bodies built with core's formatter.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MemoryTree,
  NoteSigner,
  formatAddCheckpointRequest,
  formatCheckpoint,
  formatNote,
  signCheckpoint,
  utf8Encode,
} from '@vaultmesh/core';
import { StaticWitnessLogs, Witness, type WitnessOptions } from '../../src/witness/index.js';
import { SqliteWitnessStorage } from '../../src/witness/sqlite-witness-storage.js';
import type { WitnessStorage } from '../../src/witness/witness-storage.js';

export const WITNESS_NAME = 'beta.vaultmesh.test/witness';
export const WITNESS_SEED = Uint8Array.from({ length: 32 }, (_, i) => 100 + i);

export function tempDirs(prefix: string): { make(): string; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  let n = 0;
  return {
    make: () => join(root, `d${++n}`),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** A log: an in-memory tree and its signing key. */
export class TestLog {
  readonly tree = new MemoryTree();
  readonly signer: NoteSigner;

  constructor(
    readonly origin: string,
    seedByte: number,
  ) {
    this.signer = new NoteSigner(origin, new Uint8Array(32).fill(seedByte));
  }

  get vkey(): string {
    return this.signer.vkey;
  }

  /** Appends leaves until the tree has `size` leaves. */
  growTo(size: number): this {
    while (this.tree.size < size)
      this.tree.append(utf8Encode(JSON.stringify({ origin: this.origin, i: this.tree.size })));
    return this;
  }

  /** The signed checkpoint note at `size` (the tree must be at least that large). */
  checkpoint(size: number, signer: NoteSigner = this.signer): string {
    this.growTo(size);
    return signCheckpoint({ origin: this.origin, size, root: this.tree.rootAt(size) }, signer);
  }

  /** A checkpoint with an arbitrary root, signed by this log: what an equivocating log publishes. */
  forkedCheckpoint(size: number, root: Uint8Array): string {
    const text = formatCheckpoint({ origin: this.origin, size, root });
    return formatNote({ text, signatures: [this.signer.sign(text)] });
  }

  /** An add-checkpoint body from `oldSize` to `size` with the real consistency proof. */
  request(oldSize: number, size: number): string {
    this.growTo(size);
    const proof = oldSize === 0 ? [] : this.tree.consistencyProof(oldSize, size);
    return formatAddCheckpointRequest({ oldSize, proof, checkpoint: this.checkpoint(size) });
  }
}

/**
 * A witness of `logs` over `place`: a directory (its witness.sqlite, waiting up to `busyTimeoutMs`
 * for other connections) or a storage already open (e.g. on PostgreSQL). Closing it closes the storage.
 */
export function openWitness(
  place: string | WitnessStorage,
  logs: readonly TestLog[],
  extra: Partial<WitnessOptions> = {},
  busyTimeoutMs?: number,
): Witness {
  return new Witness({
    storage:
      typeof place === 'string' ? SqliteWitnessStorage.open(join(place, 'witness.sqlite'), busyTimeoutMs) : place,
    name: WITNESS_NAME,
    seed: WITNESS_SEED,
    logs: new StaticWitnessLogs(logs.map((l) => [l.origin, [l.vkey]] as const)),
    ...extra,
  });
}

/** The checkpoint body (note text) of a signed note. */
export function noteText(note: string): string {
  return note.slice(0, note.lastIndexOf('\n\n') + 1);
}
