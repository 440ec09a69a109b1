import { RemembrancerError } from '../errors.js';
import { compareUtcTimestamps } from '../federation/timestamp.js';
import { NAMESPACE_CREATE_SCHEMA, SCHEMA_REGISTER_SCHEMA, parseGovernanceDocument } from './governance-document.js';
import { advanceGovernance, governanceRuleViolation } from './governance-replay.js';
import type { GovernanceState } from './governance-state.js';

/**
 * What the node checks before appending `doc` (attacker-controlled) to sys:governance, against
 * `projected`, the replay of the whole log with `now` = null (a state with pending documents is
 * projected further here). The document must apply on top of every change already in the log:
 * a create names an unknown namespace; a policy or cadence change is the namespace's projected
 * version + 1 and takes effect no earlier than the namespace's last change. Per-namespace
 * effective times thus never go backwards, so the replay at any time is a prefix of the
 * projection and a document accepted here is never skipped by a replay. A schema registration
 * names a new id (a byte-identical repeat applies in a replay, but is not appended again).
 * GOVERNANCE_INVALID for a malformed document, GOVERNANCE_CONFLICT (409) for a rule it breaks.
 */
export function checkGovernanceSubmission(projected: GovernanceState, doc: unknown): void {
  const d = parseGovernanceDocument(doc);
  const p = projected.pending.length > 0 ? advanceGovernance(projected, [], null) : projected;
  const conflict = (pointer: string, why: string): never => {
    throw new RemembrancerError('GOVERNANCE_CONFLICT', `${d.schema} conflicts with the governance log: ${why}`, {
      pointer,
    });
  };
  const violation = governanceRuleViolation(p.namespaces, p.schemas, d);
  if (d.schema === SCHEMA_REGISTER_SCHEMA) {
    if (violation !== null) conflict('/definition', violation);
    // Replay tolerates a byte-identical registration, but appending one again would let anyone
    // grow the log by resubmitting a published, validly signed document.
    if (p.schemas.has(d.schema_id)) conflict('/schema_id', `schema ${d.schema_id} is already registered`);
    return;
  }
  const cur = p.namespaces.get(d.namespace);
  if (violation !== null)
    conflict(
      d.schema === NAMESPACE_CREATE_SCHEMA || cur === undefined ? '/namespace' : '/version',
      `${violation} (counting changes not in effect yet)`,
    );
  if (cur !== undefined && compareUtcTimestamps(d.effective_after, cur.updated_at) < 0) {
    conflict(
      '/effective_after',
      `effective_after ${d.effective_after} is before ${cur.updated_at}, when the latest change to namespace ${d.namespace} takes effect; a namespace's changes take effect in order`,
    );
  }
}
