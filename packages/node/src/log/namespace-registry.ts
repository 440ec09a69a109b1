import {
  CompactRange,
  EMPTY_ROOT,
  NoteSigner,
  RemembrancerError,
  assertNamespaceId,
  signCheckpoint,
} from '@vaultmesh/core';
import type { LogStorage, NamespaceKey, StoredNamespace } from '../storage/log-storage.js';
import type { NamespaceRecord } from './log-engine.js';
import type { LogEngineLogger } from './logger.js';
import type { NamespaceState } from './namespace-state.js';

function copyRecord(r: NamespaceRecord): NamespaceRecord {
  return { ...r, policy: structuredClone(r.policy) };
}

/**
 * The namespaces the engine serves, by id (callers) and by storage key (the sequencer): creating
 * one, installing the stored ones, and looking them up. Records leave it as copies, so a caller
 * cannot edit what the engine holds.
 */
export class NamespaceRegistry {
  private readonly byId = new Map<string, NamespaceState>();
  private readonly byKey = new Map<NamespaceKey, NamespaceState>();

  constructor(
    private readonly storage: LogStorage,
    private readonly nodeName: string,
    private readonly logSeed: Uint8Array,
    private readonly logger: LogEngineLogger,
  ) {}

  /** The checkpoint origin (and log key name) of namespace `id` on this node. */
  originOf(id: string): string {
    return `${this.nodeName}/${id}`;
  }

  /** The signer of an origin: every namespace's log key is derived from the node's one log seed. */
  signerFor(origin: string): NoteSigner {
    return new NoteSigner(origin, this.logSeed);
  }

  /**
   * Stores a new, empty namespace with its first (size 0) checkpoint and installs it. Two calls
   * for one id at once both pass the check here; the storage refuses the second (NAMESPACE_EXISTS).
   */
  async create(id: string, policy: Record<string, unknown>): Promise<NamespaceRecord> {
    assertNamespaceId(id);
    if (policy === null || typeof policy !== 'object' || Array.isArray(policy)) {
      throw new RemembrancerError('INVALID_ARGUMENT', 'namespace policy must be a JSON object');
    }
    if (this.byId.has(id)) throw new RemembrancerError('NAMESPACE_EXISTS', `namespace ${id} already exists`);
    const origin = this.originOf(id);
    const signer = this.signerFor(origin);
    let policyText: string;
    try {
      policyText = JSON.stringify(policy);
    } catch (cause) {
      throw new RemembrancerError('INVALID_ARGUMENT', 'namespace policy is not JSON-serialisable', { cause });
    }
    const publishedAt = new Date().toISOString();
    const note = signCheckpoint({ origin, size: 0, root: EMPTY_ROOT }, signer);
    const stored = await this.storage.createNamespace(
      { id, origin, logVkey: signer.vkey, createdAt: publishedAt, policy: policyText },
      { size: 0, root: EMPTY_ROOT, note, publishedAt },
    );
    const st = this.install(stored, signer, new CompactRange(), 0);
    st.latest = { size: 0, root: EMPTY_ROOT, note, publishedAt };
    this.logger.info({ namespace: id, origin }, 'namespace created');
    return copyRecord(st.record);
  }

  /** Makes a stored namespace servable; the caller has checked it (see startup-check.ts) or just created it. */
  install(stored: StoredNamespace, signer: NoteSigner, range: CompactRange, storedBytes: number): NamespaceState {
    let policy: Record<string, unknown>;
    try {
      policy = JSON.parse(stored.policy) as Record<string, unknown>;
    } catch (cause) {
      throw new RemembrancerError('STORAGE_FAILURE', `namespace ${stored.id} has an unreadable policy`, { cause });
    }
    const st: NamespaceState = {
      key: stored.key,
      record: { id: stored.id, origin: stored.origin, logVkey: stored.logVkey, createdAt: stored.createdAt, policy },
      signer,
      range,
      root: undefined,
      latest: undefined,
      storedBytes,
      edges: new Map(),
    };
    this.byId.set(stored.id, st);
    this.byKey.set(stored.key, st);
    return st;
  }

  /** The namespace's state; NAMESPACE_NOT_FOUND if there is none. */
  state(namespace: string): NamespaceState {
    // Only valid ids are ever installed, so a hit needs no syntax check (a miss gets none either).
    const st = typeof namespace === 'string' ? this.byId.get(namespace) : undefined;
    if (st === undefined) {
      throw new RemembrancerError(
        'NAMESPACE_NOT_FOUND',
        `no namespace ${JSON.stringify(String(namespace).slice(0, 140))}`,
      );
    }
    return st;
  }

  /** The state of an installed namespace by storage key (keys come only from installed states). */
  stateByKey(key: NamespaceKey): NamespaceState {
    return this.byKey.get(key)!;
  }

  /** The state of a storage key, if installed (keys from another front end's notifications may not be yet). */
  findByKey(key: NamespaceKey): NamespaceState | undefined {
    return this.byKey.get(key);
  }

  record(id: string): NamespaceRecord | undefined {
    const st = this.byId.get(id);
    return st === undefined ? undefined : copyRecord(st.record);
  }

  records(): NamespaceRecord[] {
    return [...this.byKey.values()].map((st) => copyRecord(st.record));
  }

  states(): IterableIterator<NamespaceState> {
    return this.byKey.values();
  }

  get size(): number {
    return this.byKey.size;
  }
}
