import { RemembrancerError, errorMessage } from '../errors.js';
import { base64Decode, toHex } from '../encoding/index.js';
import { crypto } from '../crypto/index.js';
import type { RegistrySet } from '../federation/registry-set.js';
import { verifyTimestampToken } from '../timestamp/timestamp-token.js';
import { verifyChainEvidence, type ChainEvidence } from './chain-evidence.js';
import type { EpochStatement } from './epoch-statement.js';
import type { FederationReceiptEvidence } from './federation-receipt.js';
import type { AnchorAttestation, FederationReceiptTrust } from './verify-federation-receipt.js';

const invalid = (message: string, cause?: unknown) =>
  new RemembrancerError('ANCHOR_EVIDENCE_INVALID', message, cause === undefined ? undefined : { cause });

/**
 * Verifies RFC 3161 evidence offline (docs/rfc3161.md): every token must verify with
 * verifyTimestampToken against the trust anchors and carry `digest` (the epoch statement's) as its
 * message imprint; `any` is one token, `all` one per TSA, never the same token twice. What the
 * receipt's anchor must say comes from the first token: tx_hash the lowercase hex SHA-256 of its
 * DER, block its serialNumber, timestamp its genTime. When `policyOids` is not empty, every token
 * must be issued under one of them (the TSA policy the verifier accepts). Rejects with
 * ANCHOR_EVIDENCE_INVALID naming the token.
 */
export function rfc3161EvidenceVerifier(trustAnchorsPem: readonly string[], policyOids: readonly string[] = []) {
  return async (evidence: FederationReceiptEvidence, digest: Uint8Array): Promise<AnchorAttestation> => {
    if (evidence.type !== 'rfc3161') throw invalid(`evidence of type ${String(evidence.type)} cannot be verified`);
    const tokens = evidence.tokens.map((t) => base64Decode(t));
    if (evidence.policy === 'any' && tokens.length !== 1) {
      throw invalid(`policy any carries exactly one token, not ${tokens.length}`);
    }
    const seen = new Set<string>();
    let first: AnchorAttestation | undefined;
    for (const [i, der] of tokens.entries()) {
      const hash = toHex(crypto.sha256(der));
      if (seen.has(hash)) throw invalid(`token ${i} repeats an earlier token`);
      seen.add(hash);
      let verified;
      try {
        verified = await verifyTimestampToken(der, { digest, trustAnchorsPem });
      } catch (e) {
        throw invalid(`token ${i}: ${errorMessage(e)}`, e);
      }
      if (policyOids.length > 0 && !policyOids.includes(verified.policyOid)) {
        throw invalid(`token ${i} is under TSA policy ${verified.policyOid}, not ${policyOids.join(' or ')}`);
      }
      first ??= { tx_hash: hash, block: verified.serialNumber, timestamp: verified.genTimeIso };
    }
    if (first === undefined) throw invalid('the evidence holds no token');
    return first;
  };
}

/** Verifies chain evidence for a federation receipt's `anchor` check: the attestation, or a rejection. */
export type ChainEvidenceVerifier = (evidence: ChainEvidence, statement: EpochStatement) => Promise<AnchorAttestation>;

/**
 * Chain evidence verified offline only (verifyChainEvidence: the transaction is in the block whose
 * header the evidence holds, of the statement's chain, and carries the epoch root). Whether that
 * block is on the chain, and how deep, needs a node of that chain, which this verifier does not
 * ask: its note says so, and rejections name the failed check (ANCHOR_EVIDENCE_INVALID).
 */
export const offlineChainEvidenceVerifier: ChainEvidenceVerifier = async (evidence, statement) => {
  const v = verifyChainEvidence(evidence, statement);
  const failed = v.checks.find((c) => !c.ok);
  if (!v.ok || v.attests === undefined) {
    throw invalid(`chain evidence fails check ${failed?.name ?? '?'}: ${failed?.detail ?? 'no detail'}`);
  }
  const a = v.attests;
  return {
    tx_hash: a.tx_hash,
    block: a.block,
    timestamp: a.timestamp,
    note: `checks ${v.checks.map((c) => c.name).join(', ')} pass offline; block ${a.block} at height ${a.height}: whether it is on the chain needs a node of that chain, not asked`,
  };
};

/** What a verifier of anchored receipts trusts: registry versions, TSA roots and policies, a chain check. */
export interface ReceiptAnchorTrustInput {
  /** The registry versions it trusts, by version (parseRegistryVersions of what the user gave). */
  readonly registries: ReadonlyMap<number, RegistrySet> | readonly RegistrySet[];
  /** PEM certificates of the TSA trust anchors (each text may hold several). */
  readonly tsaTrustAnchorsPem?: readonly string[];
  /** TSA policy OIDs to accept; empty accepts any policy the token names. */
  readonly tsaPolicyOids?: readonly string[];
  /** How chain evidence is checked: offline only unless the caller can ask a chain node. */
  readonly chain?: ChainEvidenceVerifier;
}

/**
 * The FederationReceiptTrust that verifyReceiptAnchor / verifyAnchors need, from the verifier's
 * own trust: RFC 3161 evidence by rfc3161EvidenceVerifier, chain evidence by `chain`
 * (offlineChainEvidenceVerifier by default).
 */
export function receiptAnchorTrust(input: ReceiptAnchorTrustInput): FederationReceiptTrust {
  const byVersion = Array.isArray(input.registries)
    ? new Map((input.registries as readonly RegistrySet[]).map((r) => [r.version, r]))
    : (input.registries as ReadonlyMap<number, RegistrySet>);
  const rfc3161 = rfc3161EvidenceVerifier(input.tsaTrustAnchorsPem ?? [], input.tsaPolicyOids ?? []);
  const chain = input.chain ?? offlineChainEvidenceVerifier;
  return {
    registry: (version) => byVersion.get(version),
    verifyEvidence: (evidence, digest, receipt) =>
      evidence.type === 'rfc3161' ? rfc3161(evidence, digest) : chain(evidence, receipt.statement),
  };
}
