import {
  CosignatureSigner,
  CosignatureVerifier,
  EMPTY_ROOT,
  RemembrancerError,
  TLOG_SIZE_CONTENT_TYPE,
  bytesEqual,
  formatCosignatureResponse,
  formatNote,
  formatSizeResponse,
  isRemembrancerError,
  isWitnessOriginHash,
  parseAddCheckpointRequest,
  utf8Decode,
  verifyConsistency,
  verifyParsedNote,
  witnessOriginHash,
  type ErrorCode,
  type NoteSignature,
  type ParsedAddCheckpointRequest,
} from '@vaultmesh/core';
import type { WitnessLogSource } from './witness-log-source.js';
import type { WitnessConflict, WitnessConflictReason, WitnessedCheckpoint } from './witness-records.js';
import type { WitnessDecision, WitnessStorage } from './witness-storage.js';

/** File name of the witness database inside a node's data directory. */
export const WITNESS_DB_FILE = 'witness.sqlite';

export interface WitnessOptions {
  /**
   * The witness's state (openWitnessStorage: its own SQLite file, never the log database, or the
   * node's PostgreSQL tables). The witness owns it: close() closes it.
   */
  storage: WitnessStorage;
  /** Cosigner name, `<node name>/witness`. */
  name: string;
  /** 32-byte Ed25519 seed of the witness key (never the log key). */
  seed: Uint8Array;
  /** Which origins are witnessed, with which log keys. */
  logs: WitnessLogSource;
  /** Clock in milliseconds since the epoch (Date.now by default). */
  now?: () => number;
  /** Called (after the commit) for each newly recorded conflicting checkpoint. */
  onConflict?: (conflict: WitnessConflict) => void;
}

/** A complete HTTP answer: the witness decides status, type and exact body; routes only relay it. */
export interface WitnessResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

export const WITNESS_TEXT_CONTENT_TYPE = 'text/plain; charset=utf-8';
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** The API's error shape (DESIGN: `{"code", "message"}`); the spec fixes statuses, not these bodies. */
function errorResponse(status: number, code: ErrorCode, message: string): WitnessResponse {
  return { status, contentType: JSON_CONTENT_TYPE, body: JSON.stringify({ code, message }) };
}

/** A request that passed the stateless checks. */
interface Checked {
  readonly req: ParsedAddCheckpointRequest;
  readonly logSignatures: NoteSignature[];
}

/** Requests committed in one transaction at most; more wait for the next one. */
const MAX_BATCH = 256;

/** One request's answer as decided in the transaction; `conflict` indexes the decision's conflicts. */
type Outcome =
  | { kind: 'cosigned'; cosignature: NoteSignature }
  | { kind: 'size-mismatch'; size: number }
  | { kind: 'inconsistent'; message: string; conflict?: number };

/**
 * A C2SP tlog-witness (https://c2sp.org/tlog-witness) over a WitnessStorage: verifies checkpoints
 * of known logs, keeps the latest one cosigned per origin, and cosigns with cosignature/v1
 * (https://c2sp.org/tlog-cosignature). addCheckpoint checks, persists (durably), cosigns and
 * answers one request; submitCheckpoint does the same for every request of one event-loop turn
 * with one commit. Either way the read-check-write runs in the storage's updateCheckpoints, so
 * requests are serialized across connections, processes and front ends too.
 */
export class Witness {
  readonly name: string;
  keyId: number;
  /** The cosignature/v1 (type 0x04) verifier key of this witness. */
  vkey: string;
  #signer: CosignatureSigner;
  readonly #logs: WitnessLogSource;
  readonly #now: () => number;
  readonly #storage: WitnessStorage;
  readonly #listeners = new Set<(c: WitnessConflict) => void>();
  readonly #queue: { checked: Checked; resolve: (r: WitnessResponse) => void; reject: (e: unknown) => void }[] = [];
  /** The flush under way: batches commit one after another, in arrival order (see #flush). */
  #flushing: Promise<void> | undefined;

  constructor(options: WitnessOptions) {
    this.#signer = new CosignatureSigner(options.name, options.seed);
    this.name = this.#signer.name;
    this.keyId = this.#signer.keyId;
    this.vkey = this.#signer.vkey;
    if (options.logs === null || typeof options.logs?.verifiersFor !== 'function') {
      throw new RemembrancerError('CONFIG_INVALID', 'witness needs a log source with verifiersFor(origin)');
    }
    this.#logs = options.logs;
    this.#now = options.now ?? Date.now;
    if (options.onConflict) this.#listeners.add(options.onConflict);
    this.#storage = options.storage;
  }

  verifier(): CosignatureVerifier {
    return this.#signer.verifier();
  }

  /**
   * Switches to a new witness key (same name) from the next request on: a key rotation that the
   * registry has just approved, applied without a restart. Stored checkpoints stay as they are.
   */
  rotateKey(seed: Uint8Array): void {
    this.#signer = new CosignatureSigner(this.name, seed);
    this.keyId = this.#signer.keyId;
    this.vkey = this.#signer.vkey;
  }

  /**
   * Subscribes to conflicts: validly signed checkpoints with the stored size but another root, or
   * whose consistency proof from the stored checkpoint fails. Each distinct offered note is
   * reported once (and kept, see conflicts()). Listeners run synchronously after the commit; a
   * throwing listener never changes the answer. Returns the unsubscribe function.
   */
  onConflict(listener: (conflict: WitnessConflict) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * `POST <submission prefix>/add-checkpoint`, https://c2sp.org/tlog-witness#add-checkpoint.
   * Checks run in the spec's order: syntax (400), known origin (404), log signature (403), old
   * size not above the checkpoint size (400), old size equal to the stored size (409 with the
   * stored size as text/x.tlog.size), empty-tree root for size 0 (422), no proof from size 0
   * (422), consistency proof or equal roots (422); then the new state is persisted and fsynced,
   * and only then the cosignature is returned (200). `requestBody` is attacker-controlled; bytes
   * must be valid UTF-8 (never silently replaced, which would change the signed text).
   * Storage faults reject (a 500 for the HTTP layer); everything else is an answer.
   */
  async addCheckpoint(requestBody: string | Uint8Array): Promise<WitnessResponse> {
    const checked = this.#precheck(requestBody);
    if ('status' in checked) return checked;
    return (await this.#commit([checked], this.#clock()))[0]!;
  }

  /**
   * addCheckpoint with group commit, for servers: the request is parsed and its log signature
   * verified at once, then it waits for the end of the current event-loop turn, and all requests
   * gathered by then are checked in arrival order and persisted in one transaction, so one fsync
   * serves them all. Answers come after that commit, as the spec requires; requests for one origin
   * in one batch are checked against each other exactly as if they had come one by one.
   */
  submitCheckpoint(requestBody: string | Uint8Array): Promise<WitnessResponse> {
    let checked: Checked | WitnessResponse;
    try {
      checked = this.#precheck(requestBody);
    } catch (e) {
      return Promise.reject(e);
    }
    if ('status' in checked) return Promise.resolve(checked);
    return new Promise((resolve, reject) => {
      this.#queue.push({ checked, resolve, reject });
      if (this.#queue.length === 1 && this.#flushing === undefined) setImmediate(() => void this.#flush());
    });
  }

  /** Stateless checks, outside any transaction: syntax, origin, log signature, old size bound. */
  #precheck(requestBody: string | Uint8Array): Checked | WitnessResponse {
    let text: string;
    if (typeof requestBody === 'string') text = requestBody;
    else {
      try {
        text = utf8Decode(requestBody);
      } catch {
        return errorResponse(
          400,
          'WITNESS_REQUEST_MALFORMED',
          'malformed add-checkpoint request: body is not valid UTF-8',
        );
      }
    }
    let req: ParsedAddCheckpointRequest;
    try {
      req = parseAddCheckpointRequest(text);
    } catch (e) {
      if (isRemembrancerError(e)) return errorResponse(400, 'WITNESS_REQUEST_MALFORMED', e.message);
      throw e;
    }
    const { origin, size } = req.parsedCheckpoint;

    const verifiers = this.#logs.verifiersFor(origin);
    if (verifiers === undefined || verifiers.length === 0) {
      return errorResponse(404, 'NOT_FOUND', `this witness does not witness the log ${JSON.stringify(origin)}`);
    }
    // Unknown signatures are ignored; a trusted key whose signature fails, or no trusted
    // signature at all, is a 403 (the spec's two 403 cases).
    let logSignatures: NoteSignature[];
    try {
      logSignatures = verifyParsedNote(req.note, verifiers).verified;
    } catch (e) {
      if (isRemembrancerError(e)) return errorResponse(403, 'FORBIDDEN', e.message);
      throw e;
    }

    if (req.oldSize > size) {
      return errorResponse(
        400,
        'WITNESS_REQUEST_MALFORMED',
        `old size ${req.oldSize} is greater than the checkpoint size ${size}`,
      );
    }
    return { req, logSignatures };
  }

  #clock(): number {
    const nowMs = this.#now();
    if (!Number.isFinite(nowMs)) throw new RemembrancerError('INTERNAL', 'witness clock returned a non-finite time');
    return nowMs;
  }

  /**
   * Commits the queue, a batch at a time, until it is empty. One flush at a time: requests that
   * arrive while a batch commits wait for the next batch, so batches commit in arrival order
   * (two concurrent commits could take the storage's lock in either order, and a request would be
   * checked before one that came earlier). Resolves when the queue is empty.
   */
  #flush(): Promise<void> {
    this.#flushing ??= (async () => {
      try {
        while (this.#queue.length > 0) {
          const batch = this.#queue.splice(0, MAX_BATCH);
          try {
            const responses = await this.#commit(
              batch.map((p) => p.checked),
              this.#clock(),
            );
            batch.forEach((p, i) => p.resolve(responses[i]!));
          } catch (e) {
            for (const p of batch) p.reject(e);
          }
        }
      } finally {
        this.#flushing = undefined;
      }
    })();
    return this.#flushing;
  }

  /**
   * The stateful checks and the write, for each request in order, in one updateCheckpoints: the
   * size each check compares with is the size the write replaces (compare-and-swap), across
   * connections, processes and front ends. Conflict listeners run after the commit.
   */
  async #commit(items: readonly Checked[], nowMs: number): Promise<WitnessResponse[]> {
    const origins = items.map((c) => c.req.parsedCheckpoint.origin);
    const { result, newConflicts } = await this.#storage.updateCheckpoints(origins, (stored) =>
      this.#decide(items, stored, nowMs),
    );
    const { outcomes, conflicts } = result;
    return outcomes.map((outcome) => {
      switch (outcome.kind) {
        case 'cosigned':
          return {
            status: 200,
            contentType: WITNESS_TEXT_CONTENT_TYPE,
            body: formatCosignatureResponse([outcome.cosignature]),
          };
        case 'size-mismatch':
          return { status: 409, contentType: TLOG_SIZE_CONTENT_TYPE, body: formatSizeResponse(outcome.size) };
        case 'inconsistent':
          if (outcome.conflict !== undefined && newConflicts[outcome.conflict] === true)
            this.#notify(conflicts[outcome.conflict]!);
          return errorResponse(422, 'CHECKPOINT_INCONSISTENT', outcome.message);
      }
    });
  }

  /**
   * Every request's checks in order, each against the state the ones before it left (so requests
   * for one origin in one batch see each other, as if they had come one by one), in the storage's
   * transaction: the latest checkpoint of each origin changed, and the conflicts to keep.
   */
  #decide(
    items: readonly Checked[],
    stored: ReadonlyMap<string, WitnessedCheckpoint>,
    nowMs: number,
  ): WitnessDecision<{ outcomes: Outcome[]; conflicts: WitnessConflict[] }> {
    const state = new Map(stored);
    const changed = new Set<string>();
    const conflicts: WitnessConflict[] = [];
    const outcomes = items.map((c) => {
      const outcome = this.#apply(c, state.get(c.req.parsedCheckpoint.origin), nowMs);
      if ('next' in outcome) {
        state.set(outcome.next.origin, outcome.next);
        changed.add(outcome.next.origin);
        return outcome.outcome;
      }
      if ('conflict' in outcome) {
        conflicts.push(outcome.conflict);
        return { ...outcome.outcome, conflict: conflicts.length - 1 };
      }
      return outcome.outcome;
    });
    return {
      checkpoints: [...changed].map((origin) => state.get(origin)!),
      conflicts,
      result: { outcomes, conflicts },
    };
  }

  /**
   * One request's stateful checks against the origin's `stored` checkpoint and, if they pass, its
   * cosignature and the checkpoint that replaces it; or the conflict it shows.
   */
  #apply(
    { req, logSignatures }: Checked,
    stored: WitnessedCheckpoint | undefined,
    nowMs: number,
  ):
    | { outcome: Outcome }
    | { outcome: Outcome; next: WitnessedCheckpoint }
    | { outcome: Outcome; conflict: WitnessConflict } {
    const { origin, size, root } = req.parsedCheckpoint;
    const storedSize = stored?.size ?? 0;
    if (req.oldSize !== storedSize) return { outcome: { kind: 'size-mismatch', size: storedSize } };

    if (size === 0 && !bytesEqual(root, EMPTY_ROOT)) {
      return {
        outcome: {
          kind: 'inconsistent',
          message: 'a checkpoint of size 0 must have the root of the empty tree, SHA-256 of the empty string',
        },
      };
    }
    if (req.oldSize === 0) {
      if (req.proof.length !== 0)
        return {
          outcome: { kind: 'inconsistent', message: 'the consistency proof must be empty when the old size is 0' },
        };
    } else {
      // oldSize === storedSize > 0, so `stored` exists.
      const prev = stored!;
      let failure: string | undefined;
      let reason: WitnessConflictReason | undefined;
      if (size === prev.size) {
        // "If the old size matches the checkpoint size, the witness MUST check that the root
        // hashes are also identical"; the proof between equal sizes is empty. A mismatch is 422
        // since C2SP/C2SP#280 (tlog-witness/v1.0.0 said 409): a 409 would carry the very size the
        // client sent, which clients read as "resend from this size", so it must not be one.
        if (!bytesEqual(root, prev.root)) {
          failure = `root differs from the cosigned checkpoint of the same size ${size}`;
          reason = 'same-size-different-root';
        } else if (req.proof.length !== 0) {
          failure = 'the consistency proof between equal sizes must be empty';
        }
      } else {
        try {
          verifyConsistency(prev.size, size, req.proof, prev.root, root);
        } catch (e) {
          if (!isRemembrancerError(e)) throw e;
          failure = `consistency proof from ${prev.size} to ${size} does not verify: ${e.message}`;
          reason = 'inconsistent-proof';
        }
      }
      if (failure !== undefined) {
        if (reason === undefined) return { outcome: { kind: 'inconsistent', message: failure } };
        const conflict: WitnessConflict = {
          origin,
          reason,
          storedNote: prev.note,
          offeredNote: req.checkpoint,
          oldSize: req.oldSize,
          proof: req.proof,
          observedAt: new Date(nowMs).toISOString(),
        };
        // The spec allows logging such a request, "as it might be proof of log misbehavior".
        return { outcome: { kind: 'inconsistent', message: failure }, conflict };
      }
    }

    // Never zero (https://c2sp.org/tlog-witness: "the timestamp MUST NOT be zero"), and never
    // earlier than our last cosignature for this log: a cosignature states that at its time the
    // signed tree was the largest we had seen, so a clock stepping back must not make us claim a
    // smaller tree was the largest at a later time than a larger one.
    const timestamp = Math.max(Math.floor(nowMs / 1000), stored?.cosignedAt ?? 0, 1);
    const cosignature = this.#signer.cosign(req.note.text, timestamp);
    const next: WitnessedCheckpoint = {
      origin,
      originHash: stored?.originHash ?? witnessOriginHash(origin),
      size,
      root,
      // What the monitoring endpoint serves: the log signatures we verified and our cosignature
      // (https://c2sp.org/tlog-witness#monitor-retrieval-mechanism); unverifiable lines are dropped.
      note: formatNote({ text: req.note.text, signatures: [...logSignatures, cosignature] }),
      cosignedAt: timestamp,
      updatedAt: new Date(nowMs).toISOString(),
    };
    return { outcome: { kind: 'cosigned', cosignature }, next };
  }

  /**
   * `GET <monitoring prefix>/<origin hash>/checkpoint`,
   * https://c2sp.org/tlog-witness#monitor-retrieval-mechanism: the latest checkpoint cosigned for
   * the log, with the log signatures verified and this witness's cosignature; 404 if none.
   * `originHex` is attacker-controlled.
   */
  async latestCheckpoint(originHex: string): Promise<WitnessResponse> {
    if (!isWitnessOriginHash(originHex)) {
      return errorResponse(
        400,
        'INVALID_ARGUMENT',
        'origin hash must be 64 lowercase hex digits (SHA-256 of the origin)',
      );
    }
    const cp = await this.#storage.getByOriginHash(originHex);
    if (cp === undefined)
      return errorResponse(404, 'NOT_FOUND', 'this witness has not cosigned a checkpoint for that log');
    return { status: 200, contentType: WITNESS_TEXT_CONTENT_TYPE, body: cp.note };
  }

  /** The latest cosigned checkpoint of one origin. */
  checkpointFor(origin: string): Promise<WitnessedCheckpoint | undefined> {
    return this.#storage.get(origin);
  }

  /** Every log this witness has cosigned, with its latest cosigned checkpoint, by origin. */
  witnessedOrigins(): Promise<WitnessedCheckpoint[]> {
    return this.#storage.list();
  }

  /** Recorded conflicting checkpoints, newest first; of one origin or of all. */
  conflicts(origin?: string): Promise<WitnessConflict[]> {
    return this.#storage.conflicts(origin);
  }

  /** Commits what submitCheckpoint has queued, then closes the storage. */
  async close(): Promise<void> {
    await this.#flush();
    await this.#storage.close();
  }

  #notify(conflict: WitnessConflict): void {
    for (const listener of this.#listeners) {
      try {
        listener(conflict);
      } catch {
        // The evidence is already stored (conflicts()); a listener's failure must not turn a
        // 422 into a 500 or stop the other listeners.
      }
    }
  }
}
