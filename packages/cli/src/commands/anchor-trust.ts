import { readFileSync } from 'node:fs';
import {
  RemembrancerError,
  base64Decode,
  crypto,
  errorMessage,
  parseJsonStrict,
  parseRegistry,
  registryDigest,
  toHex,
  verifyRegistryTransition,
  verifyTimestampToken,
  type AnchorAttestation,
  type FederationReceiptEvidence,
  type FederationReceiptTrust,
  type RegistrySet,
} from '@vaultmesh/core';
import { UsageError } from '../output.js';
import { chainEvidenceVerifier, type ChainViews } from './chain-trust.js';

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${path}: ${errorMessage(e)}`);
  }
  try {
    return parseJsonStrict(text);
  } catch (e) {
    throw new UsageError(`${what} ${path} is not JSON: ${errorMessage(e)}`);
  }
}

/**
 * The registry versions of one `--registry` file: a `federation.registry.set` document (one pinned
 * version), or `{versions: [...]}` as `GET /v1/federation/registry?all=1` serves it. In a list the
 * first version is the one the user pins; every later one must be its authorized successor
 * (verifyRegistryTransition), so a list cannot smuggle in a version its predecessors never signed.
 */
export function readRegistryFile(path: string): RegistrySet[] {
  const json = readJson(path, 'registry');
  const list =
    json !== null && typeof json === 'object' && !Array.isArray(json) && 'versions' in json ? json.versions : [json];
  if (!Array.isArray(list) || list.length === 0) {
    throw new UsageError(`registry ${path}: versions must be a non-empty array of registry versions`);
  }
  const sets: RegistrySet[] = [];
  for (const [i, raw] of list.entries()) {
    try {
      const set = parseRegistry(raw);
      const prev = sets[sets.length - 1];
      if (prev !== undefined) verifyRegistryTransition(prev, set);
      sets.push(set);
    } catch (e) {
      if (e instanceof RemembrancerError) {
        throw new UsageError(`registry ${path}${list.length > 1 ? ` (entry ${i})` : ''}: ${e.message}`);
      }
      throw e;
    }
  }
  return sets;
}

/** Every version of every `--registry` file, by version; one version given twice must be the same document. */
export function readRegistries(paths: readonly string[]): Map<number, RegistrySet> {
  const byVersion = new Map<number, RegistrySet>();
  for (const path of paths) {
    for (const set of readRegistryFile(path)) {
      const known = byVersion.get(set.version);
      if (known !== undefined && registryDigest(known) !== registryDigest(set)) {
        throw new UsageError(`registry ${path}: version ${set.version} differs from the one given in another file`);
      }
      byVersion.set(set.version, set);
    }
  }
  return byVersion;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

/** The PEM trust anchors of the `--tsa-ca` files (each may hold several certificates). */
export function readTsaTrustAnchors(paths: readonly string[]): string[] {
  return paths.map((path) => {
    let pem: string;
    try {
      pem = readFileSync(path, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read TSA trust anchor ${path}: ${errorMessage(e)}`);
    }
    if (!PEM_CERTIFICATE.test(pem)) throw new UsageError(`TSA trust anchor ${path} holds no PEM certificate`);
    return pem;
  });
}

/**
 * Verifies RFC 3161 evidence offline (docs/rfc3161.md): every token must verify with
 * verifyTimestampToken against the trust anchors and carry `digest` (the epoch statement's) as its
 * message imprint; `any` is one token, `all` one per TSA, never the same token twice. What the
 * receipt's anchor must say comes from the first token: tx_hash the lowercase hex SHA-256 of its
 * DER, block its serialNumber, timestamp its genTime. When `policyOids` is not empty, every token
 * must be issued under one of them (the TSA policy the verifier accepts, `--tsa-policy`).
 */
export function rfc3161EvidenceVerifier(trustAnchorsPem: readonly string[], policyOids: readonly string[] = []) {
  return async (evidence: FederationReceiptEvidence, digest: Uint8Array): Promise<AnchorAttestation> => {
    if (evidence.type !== 'rfc3161') throw new Error(`evidence of type ${String(evidence.type)} cannot be verified`);
    const tokens = evidence.tokens.map((t) => base64Decode(t));
    if (evidence.policy === 'any' && tokens.length !== 1) {
      throw new Error(`policy any carries exactly one token, not ${tokens.length}`);
    }
    const seen = new Set<string>();
    let first: AnchorAttestation | undefined;
    for (const [i, der] of tokens.entries()) {
      const hash = toHex(crypto.sha256(der));
      if (seen.has(hash)) throw new Error(`token ${i} repeats an earlier token`);
      seen.add(hash);
      let verified;
      try {
        verified = await verifyTimestampToken(der, { digest, trustAnchorsPem });
      } catch (e) {
        throw new Error(`token ${i}: ${errorMessage(e)}`, { cause: e });
      }
      if (policyOids.length > 0 && !policyOids.includes(verified.policyOid)) {
        throw new Error(`token ${i} is under TSA policy ${verified.policyOid}, not ${policyOids.join(' or ')}`);
      }
      first ??= { tx_hash: hash, block: verified.serialNumber, timestamp: verified.genTimeIso };
    }
    if (first === undefined) throw new Error('the evidence holds no token');
    return first;
  };
}

const OID = /^[0-2](\.(0|[1-9][0-9]*))+$/;

/** The `--tsa-policy` values, each a dotted-decimal OID. */
export function readTsaPolicies(oids: readonly string[]): string[] {
  for (const oid of oids) if (!OID.test(oid)) throw new UsageError(`--tsa-policy ${oid} is not a dotted-decimal OID`);
  return [...oids];
}

/** The trust `verifyReceiptAnchor` needs, from the `--registry`, `--tsa-ca`, `--tsa-policy` and chain options. */
export function anchorTrust(
  registries: ReadonlyMap<number, RegistrySet>,
  tsaAnchorsPem: readonly string[],
  tsaPolicies: readonly string[] = [],
  chains: ChainViews = { confirmations: 1 },
) {
  const rfc3161 = rfc3161EvidenceVerifier(tsaAnchorsPem, tsaPolicies);
  const chain = chainEvidenceVerifier(chains);
  const trust: FederationReceiptTrust = {
    registry: (version) => registries.get(version),
    verifyEvidence: (evidence, digest, receipt) =>
      evidence.type === 'rfc3161' ? rfc3161(evidence, digest) : chain(evidence, receipt.statement),
  };
  return trust;
}
