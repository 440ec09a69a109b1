import { parseCadence } from '../cadence/index.js';
import { signDocument } from '../namespace/entry-signatures.js';
import type { JsonObject } from '../namespace/json-members.js';
import { parseNamespaceSpec, type NamespaceSpec, type RecordedNamespaceSpec } from '../namespace/namespace-spec.js';
import {
  CADENCE_SET_SCHEMA,
  NAMESPACE_CREATE_SCHEMA,
  NAMESPACE_POLICY_SET_SCHEMA,
  SCHEMA_REGISTER_SCHEMA,
  parseGovernanceDocument,
  type CadenceSet,
  type GovernanceDocument,
  type NamespaceCreate,
  type NamespacePolicySet,
  type SchemaRegister,
} from './governance-document.js';
import { underPointer } from './governance-invalid.js';

/*
 * Unsigned governance documents from what an operator types: partial specs are completed and
 * normalized here, once, so the signed document never depends on defaults at replay. Operators
 * then add their signatures with signGovernanceDocument, in any order.
 */

export interface GovernanceTimes {
  /** RFC 3339 UTC; defaults to now. */
  issued_at?: string;
  /** RFC 3339 UTC; defaults to issued_at (in force at once). */
  effective_after?: string;
}

export interface NamespaceCreateInput extends GovernanceTimes {
  namespace: string;
  /** A spec, possibly partial: absent members take the defaults (defaultNamespaceSpec). */
  spec?: unknown;
}

export interface NamespacePolicySetInput extends GovernanceTimes {
  namespace: string;
  /** The namespace's version after this change: its current version + 1. */
  version: number;
  /** A spec, possibly partial: absent members keep their value in `base`. */
  spec: unknown;
  /** The namespace's current spec; defaults to defaultNamespaceSpec(). */
  base?: RecordedNamespaceSpec;
}

export interface CadenceSetInput extends GovernanceTimes {
  namespace: string;
  version: number;
  cadence: unknown;
}

export interface SchemaRegisterInput extends GovernanceTimes {
  schema_id: string;
  definition: JsonObject;
}

export type GovernanceDocumentInput =
  | ({ schema: typeof NAMESPACE_CREATE_SCHEMA } & NamespaceCreateInput)
  | ({ schema: typeof NAMESPACE_POLICY_SET_SCHEMA } & NamespacePolicySetInput)
  | ({ schema: typeof CADENCE_SET_SCHEMA } & CadenceSetInput)
  | ({ schema: typeof SCHEMA_REGISTER_SCHEMA } & SchemaRegisterInput);

function times(input: GovernanceTimes): { issued_at: string; effective_after: string } {
  const issued_at = input.issued_at ?? new Date().toISOString();
  return { issued_at, effective_after: input.effective_after ?? issued_at };
}

/**
 * An unsigned namespace.create@1.0.0; its spec is complete, every member present (`messaging`
 * included). Errors: GOVERNANCE_INVALID with the offending member's pointer.
 */
export function buildNamespaceCreate(input: NamespaceCreateInput): NamespaceCreate & { spec: NamespaceSpec } {
  const spec = underPointer('/spec', () => parseNamespaceSpec(input.spec ?? {}));
  return parseGovernanceDocument({
    schema: NAMESPACE_CREATE_SCHEMA,
    namespace: input.namespace,
    version: 1,
    spec,
    ...times(input),
  }) as NamespaceCreate & { spec: NamespaceSpec };
}

/** An unsigned namespace.policy.set@1.0.0 replacing the whole spec by `spec` merged onto `base`; complete, as above. */
export function buildNamespacePolicySet(input: NamespacePolicySetInput): NamespacePolicySet & { spec: NamespaceSpec } {
  const spec = underPointer('/spec', () => parseNamespaceSpec(input.spec, input.base));
  return parseGovernanceDocument({
    schema: NAMESPACE_POLICY_SET_SCHEMA,
    namespace: input.namespace,
    version: input.version,
    spec,
    ...times(input),
  }) as NamespacePolicySet & { spec: NamespaceSpec };
}

/** An unsigned governance.cadence.set@1.0.0. */
export function buildCadenceSet(input: CadenceSetInput): CadenceSet {
  const cadence = underPointer('', () => parseCadence(input.cadence, '/cadence'));
  return parseGovernanceDocument({
    schema: CADENCE_SET_SCHEMA,
    namespace: input.namespace,
    version: input.version,
    cadence,
    ...times(input),
  }) as CadenceSet;
}

/** An unsigned schema.register@1.0.0. */
export function buildSchemaRegister(input: SchemaRegisterInput): SchemaRegister {
  return parseGovernanceDocument({
    schema: SCHEMA_REGISTER_SCHEMA,
    schema_id: input.schema_id,
    definition: input.definition,
    ...times(input),
  }) as SchemaRegister;
}

/** Any of the four, chosen by `input.schema`. */
export function buildGovernanceDocument(input: GovernanceDocumentInput): GovernanceDocument {
  switch (input.schema) {
    case NAMESPACE_CREATE_SCHEMA:
      return buildNamespaceCreate(input);
    case NAMESPACE_POLICY_SET_SCHEMA:
      return buildNamespacePolicySet(input);
    case CADENCE_SET_SCHEMA:
      return buildCadenceSet(input);
    case SCHEMA_REGISTER_SCHEMA:
      return buildSchemaRegister(input);
  }
}

/**
 * Adds operator `operatorId`'s Ed25519 signature (32-byte `seed`), replacing an earlier one by the
 * same operator; signatures stay sorted by signer, so every operator assembling the same approvals
 * gets byte-identical documents. GOVERNANCE_INVALID for a malformed document, INVALID_ARGUMENT
 * for a malformed id or seed.
 */
export function signGovernanceDocument<T extends GovernanceDocument>(doc: T, operatorId: string, seed: Uint8Array): T {
  const parsed = parseGovernanceDocument(doc);
  return parseGovernanceDocument(signDocument(parsed, operatorId, seed)) as T;
}
