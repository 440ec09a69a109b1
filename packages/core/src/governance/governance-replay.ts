import { RemembrancerError } from '../errors.js';
import { compareUtcTimestamps, isUtcTimestamp } from '../federation/timestamp.js';
import { canonicalize } from '../jcs/index.js';
import type { JsonObject } from '../namespace/json-members.js';
import { specInForce } from '../namespace/namespace-spec.js';
import {
  CADENCE_SET_SCHEMA,
  NAMESPACE_CREATE_SCHEMA,
  NAMESPACE_POLICY_SET_SCHEMA,
  SCHEMA_REGISTER_SCHEMA,
  parseGovernanceDocument,
  type GovernanceDocument,
} from './governance-document.js';
import {
  emptyGovernanceState,
  type GovernanceEntry,
  type GovernanceState,
  type NamespaceState,
  type SkippedGovernanceEntry,
} from './governance-state.js';

/*
 * The live namespace rules are exactly the replay of the governance log (issue 4, item 7): a pure
 * function of the log and the time, so every node replaying the same log at the same time gets the
 * same state, and a restart rebuilds it from scratch. Documents apply in (effective_after, log
 * index) order; one that breaks a rule (see applyEntry) is recorded in `skipped` and never throws,
 * because a log is what it is and replay must always finish. checkGovernanceSubmission keeps such
 * documents out of the log in the first place.
 */

function byEffectiveTime(a: GovernanceEntry, b: GovernanceEntry): number {
  return compareUtcTimestamps(a.doc.effective_after, b.doc.effective_after) || a.index - b.index;
}

/** Why `doc` cannot apply to the namespaces and schemas so far, or null when it can. */
export function governanceRuleViolation(
  namespaces: ReadonlyMap<string, NamespaceState>,
  schemas: ReadonlyMap<string, unknown>,
  doc: GovernanceDocument,
): string | null {
  switch (doc.schema) {
    case NAMESPACE_CREATE_SCHEMA: {
      const cur = namespaces.get(doc.namespace);
      return cur === undefined ? null : `namespace ${doc.namespace} already exists (version ${cur.version})`;
    }
    case NAMESPACE_POLICY_SET_SCHEMA:
    case CADENCE_SET_SCHEMA: {
      const cur = namespaces.get(doc.namespace);
      if (cur === undefined) return `namespace ${doc.namespace} does not exist`;
      if (doc.version !== cur.version + 1)
        return `version ${doc.version} does not follow version ${cur.version} of namespace ${doc.namespace}; expected ${cur.version + 1}`;
      return null;
    }
    case SCHEMA_REGISTER_SCHEMA: {
      const have = schemas.get(doc.schema_id);
      // A byte-identical (JCS) re-registration changes nothing and is harmless; any other is a conflict.
      if (have !== undefined && canonicalize(have) !== canonicalize(doc.definition))
        return `schema ${doc.schema_id} is already registered with a different definition`;
      return null;
    }
  }
}

/** Applies `entry` (its rules already checked) to the maps, which this call owns. */
function apply(
  namespaces: Map<string, NamespaceState>,
  schemas: Map<string, JsonObject>,
  { index, doc }: GovernanceEntry,
): void {
  switch (doc.schema) {
    case NAMESPACE_CREATE_SCHEMA:
      namespaces.set(doc.namespace, {
        id: doc.namespace,
        spec: specInForce(doc.spec),
        version: 1,
        created_at: doc.effective_after,
        updated_at: doc.effective_after,
        last_index: index,
      });
      return;
    case NAMESPACE_POLICY_SET_SCHEMA:
    case CADENCE_SET_SCHEMA: {
      const cur = namespaces.get(doc.namespace)!;
      const spec =
        doc.schema === CADENCE_SET_SCHEMA
          ? { ...structuredClone(cur.spec), cadence: structuredClone(doc.cadence) }
          : specInForce(doc.spec);
      namespaces.set(doc.namespace, {
        ...cur,
        spec,
        version: doc.version,
        updated_at: doc.effective_after,
        last_index: index,
      });
      return;
    }
    case SCHEMA_REGISTER_SCHEMA:
      if (!schemas.has(doc.schema_id))
        schemas.set(doc.schema_id, JSON.parse(canonicalize(doc.definition)) as JsonObject);
      return;
  }
}

/**
 * `state` with log `entries` added (indices unique, from state.next_index on; any order) and every
 * document in effect at `now` applied, pending ones included, in (effective_after, index) order.
 * `now` = null applies everything: the projection of the whole log. Invalid documents are skipped
 * with the parser's message. For a log whose documents each passed checkGovernanceSubmission,
 * advancing step by step gives the state a replay from scratch gives. Throws INVALID_ARGUMENT only
 * for caller errors (a malformed `now`, a reused or malformed index), never for a document.
 */
export function advanceGovernance(
  state: GovernanceState,
  entries: readonly GovernanceEntry[],
  now: string | null,
): GovernanceState {
  if (now !== null && !isUtcTimestamp(now))
    throw new RemembrancerError(
      'INVALID_ARGUMENT',
      `replay time must be an RFC 3339 UTC timestamp or null, got ${JSON.stringify(String(now).slice(0, 64))}`,
    );
  const seen = new Set<number>();
  let next_index = state.next_index;
  for (const e of entries) {
    if (!Number.isSafeInteger(e.index) || e.index < state.next_index || seen.has(e.index)) {
      throw new RemembrancerError(
        'INVALID_ARGUMENT',
        `governance log index ${String(e.index)} is malformed, repeated or below ${state.next_index}, the next index expected`,
      );
    }
    seen.add(e.index);
    next_index = Math.max(next_index, e.index + 1);
  }

  const skipped: SkippedGovernanceEntry[] = [...state.skipped];
  const fresh: GovernanceEntry[] = [];
  for (const { index, doc } of [...entries].sort((a, b) => a.index - b.index)) {
    try {
      // Parsed again: the copy shares nothing with the caller, and a document that skipped the parser counts for nothing.
      fresh.push({ index, doc: parseGovernanceDocument(doc) });
    } catch (e) {
      if (!(e instanceof RemembrancerError)) throw e;
      const schema =
        typeof (doc as { schema?: unknown } | null)?.schema === 'string' ? (doc as { schema: string }).schema : null;
      skipped.push({ index, schema, reason: `invalid: ${e.message}` });
    }
  }

  const namespaces = new Map(state.namespaces);
  const schemas = new Map(state.schemas);
  const pending: GovernanceEntry[] = [];
  let applied = state.applied;
  for (const entry of [...state.pending, ...fresh].sort(byEffectiveTime)) {
    if (now !== null && compareUtcTimestamps(entry.doc.effective_after, now) > 0) {
      pending.push(entry);
      continue;
    }
    const reason = governanceRuleViolation(namespaces, schemas, entry.doc);
    if (reason === null) {
      apply(namespaces, schemas, entry);
      applied++;
    } else {
      skipped.push({ index: entry.index, schema: entry.doc.schema, reason });
    }
  }
  return { namespaces, schemas, pending, skipped, applied, next_index };
}

/**
 * The governance state at `now` (RFC 3339 UTC) from the log's entries, or with `now` = null the
 * projection of everything, pending changes included. Pure and deterministic: equal inputs give
 * deep-equal states.
 */
export function replayGovernance(entries: readonly GovernanceEntry[], now: string | null): GovernanceState {
  return advanceGovernance(emptyGovernanceState(), entries, now);
}
