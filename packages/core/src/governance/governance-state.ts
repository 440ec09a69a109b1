import type { JsonObject } from '../namespace/json-members.js';
import type { NamespaceSpec } from '../namespace/namespace-spec.js';
import type { GovernanceDocument } from './governance-document.js';

/*
 * What the governance log says at a given time: the projection replayGovernance computes. States
 * share nothing with their inputs; treat them as immutable (advanceGovernance returns new ones).
 */

/** One entry of the `sys:governance` log: its index there and its document. */
export interface GovernanceEntry {
  index: number;
  doc: GovernanceDocument;
}

export interface NamespaceState {
  id: string;
  spec: NamespaceSpec;
  /** 1 after the create, + 1 per change applied. */
  version: number;
  /** effective_after of the namespace.create. */
  created_at: string;
  /** effective_after of the last change applied (the create's at first). */
  updated_at: string;
  /** Log index of the last document applied to this namespace. */
  last_index: number;
}

/** A document that replay did not apply, and why; skipped documents never apply later. */
export interface SkippedGovernanceEntry {
  index: number;
  /** The document's schema, or null when the document is not a valid governance document. */
  schema: string | null;
  reason: string;
}

export interface GovernanceState {
  namespaces: Map<string, NamespaceState>;
  /** Registered schema id → its JSON Schema definition. */
  schemas: Map<string, JsonObject>;
  /** Valid documents not in effect yet (effective_after after `now`), in application order. */
  pending: GovernanceEntry[];
  skipped: SkippedGovernanceEntry[];
  /** Documents applied (a re-registration of an identical schema counts). */
  applied: number;
  /** One past the highest log index given so far: later entries must have indices from here on. */
  next_index: number;
}

export function emptyGovernanceState(): GovernanceState {
  return { namespaces: new Map(), schemas: new Map(), pending: [], skipped: [], applied: 0, next_index: 0 };
}
