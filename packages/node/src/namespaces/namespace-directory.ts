import {
  GOVERNANCE_NAMESPACE,
  RemembrancerError,
  canonicalBytes,
  checkGovernanceSubmission,
  defaultNamespaceSpec,
  advanceGovernance,
  buildCadenceSet,
  errorMessage,
  parseCadence,
  parseNamespaceSpec,
  buildNamespaceCreate,
  buildNamespacePolicySet,
  parseGovernanceDocument,
  replayGovernance,
  signGovernanceDocument,
  utf8Decode,
  verifyGovernanceSignatures,
  type CadenceSpec,
  type GovernanceDocument,
  type GovernanceOperators,
  type GovernanceState,
  type NamespaceSpec,
} from '@vaultmesh/core';
import type { LogEngine } from '../log/log-engine.js';
import type { CadenceScheduler } from './cadence-scheduler.js';
import type { SchemaRegistry } from './schema-registry.js';
import { WriterIndex, type NamespaceRulesView } from './writer-authorization.js';

/*
 * The live rules of every namespace on this node, and the only way to change them. Each change is a
 * signed governance document appended to `sys:governance`; the rules in force are exactly the
 * replay of that log at the current time (replayGovernance in core, a pure function), so a node
 * rebuilt from its log — or anyone holding a copy of it — arrives at the same state. Documents take
 * effect at their `effective_after`; until then they are pending and a timer applies them.
 */

export interface NamespaceRules extends NamespaceRulesView {
  /** The namespace's rules version: 1 at creation, one more per change. */
  version: number;
  created_at: string;
  updated_at: string;
  /** `sys:` namespaces belong to the node itself: no writers, not created through governance. */
  system: boolean;
}

export interface GovernanceSubmission {
  /** Index of the document in sys:governance. */
  index: number;
  document: GovernanceDocument;
  /** Whether it was in force when this call returned (false: pending until effective_after). */
  effective: boolean;
}

export interface LocalOperator {
  id: string;
  seed: Uint8Array;
}

export interface NamespaceDirectoryOptions {
  engine: LogEngine;
  operators: GovernanceOperators;
  /** This node's operator key: signs documents made through the admin API (PUT /v1/ns/{ns}). */
  localOperator?: LocalOperator;
  schemas: SchemaRegistry;
  cadence: CadenceScheduler;
  /** Refuses a cadence this node's own settings cannot honour (POLICY_INVALID), when it proposes one. */
  checkCadence?: (cadence: CadenceSpec) => void;
  now?: () => number;
  /** How often pending documents are checked for having become effective, ms. */
  pendingCheckMs?: number;
  logger?: {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
    error(obj: object, msg: string): void;
  };
}

/** The rules of a `sys:` namespace: written by the node only, readable by all. */
function systemSpec(): NamespaceSpec {
  return { ...defaultNamespaceSpec(), description: 'node system log (governance documents)' };
}

const READ_CHUNK = 1024;

export class NamespaceDirectory {
  private readonly engine: LogEngine;
  private readonly now: () => number;
  private docs: { index: number; doc: GovernanceDocument }[] = [];
  private state!: GovernanceState;
  private projected!: GovernanceState;
  private index = new WriterIndex([]);
  private queue: Promise<unknown> = Promise.resolve();
  /** Logs that governance brought into force and the engine is creating (its create awaits storage). */
  private readonly creating = new Map<string, Promise<void>>();
  /** The cadence applications made so far (the scheduler runs them in order; its storage awaits); never rejects. */
  private cadenceApplied: Promise<unknown> = Promise.resolve();
  /** The first cadence application that failed since effectsApplied() last reported. */
  private cadenceFailure: { error: unknown } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private following: NodeJS.Timeout | undefined;

  private constructor(private readonly options: NamespaceDirectoryOptions) {
    this.engine = options.engine;
    this.now = options.now ?? Date.now;
  }

  /**
   * Opens the directory: creates sys:governance if needed, replays it and applies what is in force.
   * A node then calls adoptLegacyNamespaces() once, before it serves.
   */
  static async open(options: NamespaceDirectoryOptions): Promise<NamespaceDirectory> {
    const dir = new NamespaceDirectory(options);
    if (!dir.engine.getNamespace(GOVERNANCE_NAMESPACE))
      await dir.engine.createNamespace(GOVERNANCE_NAMESPACE, { system: true });
    dir.docs = await dir.readLog();
    dir.refresh();
    await dir.effectsApplied();
    return dir;
  }

  /**
   * Every governance document in log order, as stored: all sequenced where this engine leads;
   * where it follows (issue 14), what the holder integrated (the rest may yet be another's).
   */
  private async readLog(): Promise<{ index: number; doc: GovernanceDocument }[]> {
    const size = this.engine.leading
      ? this.engine.sequencedSize(GOVERNANCE_NAMESPACE)
      : this.engine.integratedSize(GOVERNANCE_NAMESPACE);
    const out: { index: number; doc: GovernanceDocument }[] = [];
    for (let start = 0; start < size; start += READ_CHUNK) {
      const chunk = await this.engine.getEntries(GOVERNANCE_NAMESPACE, start, Math.min(size, start + READ_CHUNK));
      // Parsed (checked) once, by the replay in refresh(), which refuses the log if any is invalid.
      chunk.forEach((bytes, i) =>
        out.push({ index: start + i, doc: JSON.parse(utf8Decode(bytes)) as GovernanceDocument }),
      );
    }
    return out;
  }

  /** Namespaces that predate governance get a create document, so the replay accounts for every log. */
  async adoptLegacyNamespaces(): Promise<void> {
    for (const ns of this.engine.listNamespaces()) {
      if (ns.id.startsWith('sys:') || this.projected.namespaces.has(ns.id)) continue;
      try {
        await this.propose(
          'create',
          ns.id,
          { description: 'created before governance; adopted with default rules' },
          ns.createdAt,
        );
        this.options.logger?.info(
          { namespace: ns.id },
          'recorded a namespace.create for a namespace that predates the governance log',
        );
      } catch (e) {
        this.options.logger?.warn(
          { namespace: ns.id, err: errorMessage(e) },
          'namespace predates the governance log and could not be adopted; it keeps default rules',
        );
      }
    }
  }

  private nowIso(): string {
    return new Date(this.now()).toISOString();
  }

  /**
   * Replays the whole log at the current time (once, at open) and makes the node match. The
   * projection (everything, pending included) continues from that state instead of replaying again.
   */
  private refresh(): void {
    this.state = replayGovernance(this.docs, this.nowIso());
    const invalid = this.state.skipped.find((k) => k.reason.startsWith('invalid:'));
    if (invalid) {
      // Only checked documents are ever appended: an invalid one means the log or this build changed.
      throw new RemembrancerError(
        'STORAGE_FAILURE',
        `sys:governance entry ${invalid.index} is not a valid governance document: ${invalid.reason}`,
      );
    }
    this.projected = this.state.pending.length > 0 ? advanceGovernance(this.state, [], null) : this.state;
    this.applyEffects(undefined);
  }

  /**
   * Adds new log entries (or none, to apply what became due) to both states incrementally: a
   * submission costs what its document changes, not a replay of the whole log, so the event loop
   * (appends, checkpoints) is not held up by a long governance history.
   */
  private advance(entries: readonly { index: number; doc: GovernanceDocument }[]): void {
    const before = this.state;
    this.state = advanceGovernance(this.state, entries, this.nowIso());
    if (entries.length > 0) this.projected = advanceGovernance(this.projected, entries, null);
    this.applyEffects(before);
  }

  /** Makes logs, schedules, schemas and writers match the state, for what changed since `before` (all when undefined). */
  private applyEffects(before: GovernanceState | undefined): void {
    for (const [id, definition] of this.state.schemas) {
      if (before?.schemas.has(id) || this.options.schemas.has(id)) continue;
      this.options.schemas.register(id, definition, 'governance');
    }
    let changed = before === undefined;
    for (const ns of this.state.namespaces.values()) {
      // States share the records of namespaces a step did not touch.
      if (before?.namespaces.get(ns.id) === ns) continue;
      changed = true;
      this.createLog(ns.id, ns.version);
      this.applyCadence(ns.id, ns.spec.cadence, Date.parse(ns.updated_at));
    }
    if (changed) this.index = new WriterIndex(this.list());
  }

  /**
   * Creates the log of a namespace in force unless it exists or is being created. The state is
   * synchronous and the engine's create is not: open() and submissions await logsCreated(); a
   * document that takes effect later (applyDue) has its log created in the background.
   */
  private createLog(id: string, version: number): void {
    if (this.engine.getNamespace(id) || this.creating.has(id)) return;
    const created = this.engine
      .createNamespace(id, { governance_version: version })
      .then(() => undefined)
      .finally(() => {
        this.creating.delete(id);
        // The writer index lists the engine's logs: rebuilt once the last one being created exists.
        if (this.creating.size === 0) this.index = new WriterIndex(this.list());
      });
    // Reported here for a creation nobody awaits; logsCreated() also rejects with it.
    created.catch((e: unknown) =>
      this.options.logger?.error({ namespace: id, err: errorMessage(e) }, 'creating a governed namespace failed'),
    );
    this.creating.set(id, created);
  }

  /**
   * Applies a namespace's cadence in the background, as createLog creates its log (the state is
   * synchronous, the cadence storage is not); effectsApplied() waits for it. A failure is logged
   * here for an application nobody awaits (a document taking effect on the timer), and rejects
   * the next effectsApplied().
   */
  private applyCadence(id: string, cadence: CadenceSpec, effectiveAtMs: number): void {
    // Schedules are stored state, kept by the front end that holds the lease (issue 14); one that
    // gets it applies them all again (reapplyEffects).
    if (!this.engine.leading) return;
    const applied = this.options.cadence.apply(id, cadence, effectiveAtMs).catch((e: unknown) => {
      this.options.logger?.error({ namespace: id, err: errorMessage(e) }, 'applying a cadence failed');
      this.cadenceFailure ??= { error: e };
    });
    this.cadenceApplied = Promise.all([this.cadenceApplied, applied]);
  }

  /** Resolves once every log that governance brought into force so far exists; rejects if one failed. */
  async logsCreated(): Promise<void> {
    while (this.creating.size > 0) await Promise.all(this.creating.values());
  }

  /**
   * Resolves once every log and cadence schedule governance brought into force so far is in
   * place; rejects if one failed (a failed cadence application is reported once).
   */
  async effectsApplied(): Promise<void> {
    await this.logsCreated();
    await this.cadenceApplied;
    const failure = this.cadenceFailure;
    this.cadenceFailure = undefined;
    if (failure !== undefined) throw failure.error;
  }

  /** Applies documents whose time has come; called by the timer and before answering reads. */
  private applyDue(): void {
    const first = this.state.pending[0];
    if (first !== undefined && Date.parse(first.doc.effective_after) <= this.now()) {
      const before = this.state.pending.length;
      this.advance([]);
      this.options.logger?.info({ applied: before - this.state.pending.length }, 'governance documents took effect');
    }
  }

  /**
   * With several front ends (issue 14): documents another front end appended (the lease holder,
   * where governance is submitted) are read from the log as it is integrated and applied here
   * too, in log order; runs in the submission queue, so never beside a local submission.
   */
  catchUp(): Promise<void> {
    const run = this.queue.then(async () => {
      const size = this.engine.integratedSize(GOVERNANCE_NAMESPACE);
      if (size <= this.docs.length) return;
      const entries: { index: number; doc: GovernanceDocument }[] = [];
      for (let start = this.docs.length; start < size; start += READ_CHUNK) {
        const chunk = await this.engine.getEntries(GOVERNANCE_NAMESPACE, start, Math.min(size, start + READ_CHUNK));
        chunk.forEach((bytes, i) =>
          entries.push({ index: start + i, doc: JSON.parse(utf8Decode(bytes)) as GovernanceDocument }),
        );
      }
      // Another catch-up or submission may have taken some meanwhile: keep the ones still new.
      const fresh = entries.filter((e) => e.index >= this.docs.length);
      if (fresh.length === 0) return;
      this.docs.push(...fresh);
      this.advance(fresh);
      this.options.logger?.info({ documents: fresh.length }, 'governance documents from another front end applied');
      await this.effectsApplied();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * With several front ends: this one got the sequencing lease. Whatever the previous holder
   * applied or not (it may have stopped between a document and its effects), the logs and cadence
   * schedules of everything in force are made to match now, as at a restart; in the submission queue.
   */
  reapplyEffects(): Promise<void> {
    const run = this.queue.then(async () => {
      this.applyEffects(undefined);
      await this.effectsApplied();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Follows the governance log every `everyMs` (front ends of a shared database); stopFollowing() ends it. */
  startFollowing(everyMs = 250): void {
    this.following ??= setInterval(() => {
      this.catchUp().catch((e: unknown) =>
        this.options.logger?.error({ err: errorMessage(e) }, 'following the governance log failed'),
      );
    }, everyMs);
    this.following.unref();
  }

  stopFollowing(): void {
    if (this.following !== undefined) clearInterval(this.following);
    this.following = undefined;
  }

  start(): void {
    this.timer ??= setInterval(() => {
      try {
        this.applyDue();
      } catch (e) {
        this.options.logger?.error({ err: errorMessage(e) }, 'applying governance documents failed');
      }
    }, this.options.pendingCheckMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The rules in force for a namespace (undefined: no such namespace yet). */
  rules(id: string): NamespaceRules | undefined {
    this.applyDue();
    const ns = this.state.namespaces.get(id);
    if (ns)
      return {
        id,
        spec: ns.spec,
        version: ns.version,
        created_at: ns.created_at,
        updated_at: ns.updated_at,
        system: false,
      };
    const record = this.engine.getNamespace(id);
    if (!record) return undefined;
    if (id.startsWith('sys:'))
      return {
        id,
        spec: systemSpec(),
        version: 0,
        created_at: record.createdAt,
        updated_at: record.createdAt,
        system: true,
      };
    // A log created beneath the governance layer (a tool opening the engine directly): default
    // rules until adoptLegacyNamespaces() records it at the node's next start.
    return {
      id,
      spec: defaultNamespaceSpec(),
      version: 0,
      created_at: record.createdAt,
      updated_at: record.createdAt,
      system: false,
    };
  }

  /** Every namespace in force, system ones included, in creation order. */
  list(): NamespaceRules[] {
    return this.engine.listNamespaces().flatMap((n) => {
      const r = this.rules(n.id);
      return r ? [r] : [];
    });
  }

  /** Documents not in force yet, in the order they will take effect. */
  pending(): { index: number; doc: GovernanceDocument }[] {
    this.applyDue();
    return this.state.pending.map((p) => ({ index: p.index, doc: p.doc }));
  }

  writerIndex(): WriterIndex {
    this.applyDue();
    return this.index;
  }

  /** The state the log's replay gives now; the tests compare it with a replay from scratch. */
  liveState(): GovernanceState {
    this.applyDue();
    return this.state;
  }

  /**
   * Checks a signed governance document (attacker-controlled JSON) and appends it to sys:governance:
   * shape and schema, operator signatures up to the threshold, and that it applies on top of the
   * whole log (pending documents included). Submissions are serialized, so two cannot both pass
   * the check against the same state.
   */
  submit(json: unknown): Promise<GovernanceSubmission> {
    const run = this.queue.then(() => this.submitNow(json));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async submitNow(json: unknown): Promise<GovernanceSubmission> {
    const doc = parseGovernanceDocument(json);
    this.options.schemas.validateDocument(doc.schema, doc);
    verifyGovernanceSignatures(doc, this.options.operators);
    checkGovernanceSubmission(this.projected, doc);
    if (doc.schema === 'schema.register@1.0.0') this.options.schemas.check(doc.schema_id, doc.definition);
    const [result] = await this.engine.append(GOVERNANCE_NAMESPACE, [canonicalBytes(doc)]);
    const entry = { index: result!.index, doc };
    this.docs.push(entry);
    this.advance([entry]);
    await this.effectsApplied();
    return {
      index: result!.index,
      document: doc,
      effective: !this.state.pending.some((p) => p.index === result!.index),
    };
  }

  /**
   * Builds, signs with this node's operator key and submits a document: what `PUT /v1/ns/{ns}` does.
   * `create` takes a spec (absent members get defaults); `set` merges into the namespace's rules as
   * they will stand after every pending change; `cadence` replaces the cadence alone.
   */
  async propose(
    kind: 'create' | 'set' | 'cadence',
    namespace: string,
    body: unknown,
    effectiveAfter?: string,
  ): Promise<GovernanceSubmission> {
    const local = this.options.localOperator;
    if (!local)
      throw new RemembrancerError(
        'GOVERNANCE_NOT_AUTHORIZED',
        'this node has no operator key to sign governance documents with',
      );
    const times = { issued_at: this.nowIso(), ...(effectiveAfter ? { effective_after: effectiveAfter } : {}) };
    const current = this.projected.namespaces.get(namespace);
    if (kind !== 'create' && !current)
      throw new RemembrancerError('NAMESPACE_NOT_FOUND', `namespace '${namespace}' does not exist`);
    // The body is checked as the caller wrote it first, so errors point into it (POLICY_INVALID).
    const cadence = kind === 'cadence' ? parseCadence(body, '') : parseNamespaceSpec(body, current?.spec).cadence;
    if (cadence !== undefined) this.options.checkCadence?.(cadence);
    const doc =
      kind === 'create'
        ? buildNamespaceCreate({ namespace, spec: body, ...times })
        : kind === 'set'
          ? buildNamespacePolicySet({
              namespace,
              version: current!.version + 1,
              spec: body,
              base: current!.spec,
              ...times,
            })
          : buildCadenceSet({ namespace, version: current!.version + 1, cadence: body, ...times });
    return this.submit(signGovernanceDocument(doc, local.id, local.seed));
  }

  /** The rules a namespace will have once every pending document applied (for building the next change). */
  projectedRules(id: string): { spec: NamespaceSpec; version: number } | undefined {
    const ns = this.projected.namespaces.get(id);
    return ns ? { spec: ns.spec, version: ns.version } : undefined;
  }

  /** The whole governance log (for GET /v1/governance and offline replay). */
  documents(): readonly { index: number; doc: GovernanceDocument }[] {
    return this.docs;
  }
}
