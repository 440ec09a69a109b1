import { RemembrancerError } from '../errors.js';
import { MAX_DOCUMENT_SIGNATURES, signingBytes, verifyDocumentSignature } from '../namespace/entry-signatures.js';
import {
  arrayOf,
  base64OfLength,
  child,
  integerIn,
  objectWith,
  refuse,
  stringMatching,
} from '../namespace/json-members.js';
import { WRITER_ID_PATTERN } from '../namespace/namespace-spec.js';
import { parseGovernanceDocument, type GovernanceDocument } from './governance-document.js';

/*
 * Who may change the rules: the node's configured operator keys, `threshold` of which must sign
 * every governance document. The configuration is the node's own (not part of the log), so a
 * malformed one is CONFIG_INVALID; documents failing it are GOVERNANCE_NOT_AUTHORIZED.
 */

export interface GovernanceOperator {
  /** The signer id operators use in `signatures` (WRITER_ID_PATTERN). */
  id: string;
  /** base64 of the 32-byte Ed25519 public key. */
  ed25519: string;
}

export interface GovernanceOperators {
  /** Distinct operators whose valid signatures a document needs, 1..min(operators, 32). */
  threshold: number;
  operators: GovernanceOperator[];
}

export const MAX_GOVERNANCE_OPERATORS = 256;

const C = 'CONFIG_INVALID' as const;

/** Checks an operator configuration `{threshold, operators: [{id, ed25519}]}`; errors are CONFIG_INVALID below `pointer`. */
export function parseGovernanceOperators(value: unknown, pointer: string): GovernanceOperators {
  const o = objectWith(C, value, pointer, ['threshold', 'operators']);
  const at = child(pointer, 'operators');
  const operators = arrayOf(C, o['operators'], at, MAX_GOVERNANCE_OPERATORS, (v, p) => {
    const op = objectWith(C, v, p, ['id', 'ed25519']);
    const id = stringMatching(
      C,
      op['id'],
      child(p, 'id'),
      WRITER_ID_PATTERN,
      'an operator id (letters, digits and . _ : @ / -, at most 128)',
    );
    return { id, ed25519: base64OfLength(C, op['ed25519'], child(p, 'ed25519'), 32, 'a 32-byte Ed25519 public key') };
  });
  if (operators.length === 0) refuse(C, at, 'must list at least one operator');
  operators.forEach((op, i) => {
    // Distinct ids and distinct keys: one key under two ids would count twice towards the threshold.
    if (operators.findIndex((x) => x.id === op.id) !== i)
      refuse(C, child(at, i), `operator id ${op.id} is listed twice`);
    if (operators.findIndex((x) => x.ed25519 === op.ed25519) !== i)
      refuse(C, child(child(at, i), 'ed25519'), `has the same key as another operator`);
  });
  // A document carries at most MAX_DOCUMENT_SIGNATURES signatures: a higher threshold could never be met.
  const threshold = integerIn(
    C,
    o['threshold'],
    child(pointer, 'threshold'),
    1,
    Math.min(operators.length, MAX_DOCUMENT_SIGNATURES),
  );
  return { threshold, operators };
}

/**
 * The ids of the configured operators whose signatures of `doc` verify, in document order. Throws
 * GOVERNANCE_INVALID for a malformed document (a signer signing twice included), and
 * GOVERNANCE_NOT_AUTHORIZED when fewer than `threshold` distinct operators signed validly, or when
 * any configured operator's signature does not verify: that is a forgery or a tampered document,
 * refused outright rather than ignored. Signatures by unknown signers count for nothing.
 */
export function verifyGovernanceSignatures(doc: GovernanceDocument, operators: GovernanceOperators): string[] {
  const d = parseGovernanceDocument(doc);
  const config = parseGovernanceOperators(operators, '');
  const message = signingBytes(d);
  const valid: string[] = [];
  const unknown: string[] = [];
  (d.signatures ?? []).forEach((s, i) => {
    const op = config.operators.find((o) => o.id === s.signer);
    if (op === undefined) {
      unknown.push(s.signer);
      return;
    }
    if (!verifyDocumentSignature(d, s, op.ed25519, message)) {
      throw new RemembrancerError(
        'GOVERNANCE_NOT_AUTHORIZED',
        `/signatures/${i}: the signature by operator ${op.id} does not verify; the document was forged or altered after signing`,
        {
          pointer: `/signatures/${i}`,
        },
      );
    }
    valid.push(op.id);
  });
  if (valid.length < config.threshold) {
    const parts = [`${d.schema} needs valid signatures by ${config.threshold} distinct operators, has ${valid.length}`];
    if (valid.length > 0) parts.push(`signed by ${valid.join(', ')}`);
    if (unknown.length > 0) parts.push(`ignored unknown signers ${unknown.join(', ')}`);
    throw new RemembrancerError('GOVERNANCE_NOT_AUTHORIZED', parts.join('; '), { pointer: '/signatures' });
  }
  return valid;
}
