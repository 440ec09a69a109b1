import { readFileSync } from 'node:fs';
import {
  RemembrancerError,
  errorMessage,
  parseJsonStrict,
  parseRegistryVersions,
  receiptAnchorTrust,
  registryDigest,
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
 * version), or `{versions: [...]}` as `GET /v1/federation/registry?all=1` serves it, each later
 * version an authorized successor of the one before (core's parseRegistryVersions).
 */
export function readRegistryFile(path: string): RegistrySet[] {
  const json = readJson(path, 'registry');
  try {
    return parseRegistryVersions(json);
  } catch (e) {
    if (!(e instanceof RemembrancerError)) throw e;
    // A member of a list of several is named by its position, as the user counts the file's entries.
    const entry = /^\/versions\/(\d+)/.exec(e.pointer ?? '')?.[1];
    // (Only a `{versions: [...]}` file's members get such a pointer.)
    const several = entry !== undefined && (json as { versions: unknown[] }).versions.length > 1;
    const named = several ? ` (entry ${entry})` : '';
    throw new UsageError(`registry ${path}${named}: ${e.message}`);
  }
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
): FederationReceiptTrust {
  return receiptAnchorTrust({
    registries,
    tsaTrustAnchorsPem: tsaAnchorsPem,
    tsaPolicyOids: tsaPolicies,
    chain: chainEvidenceVerifier(chains),
  });
}
