import { errorMessage } from '../errors.js';
import { base64Decode } from '../encoding/index.js';
import { leafHash, verifyInclusion } from '../merkle/index.js';
import { peerForOrigin } from '../federation/registry-peers.js';
import type { RegistrySet } from '../federation/registry-set.js';
import { BoundedCache } from '../timestamp/bounded-cache.js';
import { epochLeafData } from './epoch-leaf.js';
import { countEpochSignatures, epochStatementDigest, requiredEpochSignatures } from './epoch-statement.js';
import {
  parseFederationReceipt,
  type FederationReceipt,
  type FederationReceiptAnchor,
  type FederationReceiptEvidence,
} from './federation-receipt.js';
import { verifyEpochLeaf } from './verify-epoch-leaf.js';

/** The checks of verifyFederationReceipt, in the order they run. */
export const FEDERATION_RECEIPT_CHECKS = ['format', 'registry', 'leaf', 'epoch-inclusion', 'quorum', 'anchor'] as const;
export type FederationReceiptCheckName = (typeof FEDERATION_RECEIPT_CHECKS)[number];

export interface FederationReceiptCheck {
  readonly name: FederationReceiptCheckName;
  readonly ok: boolean;
  /** Plain words for people: what was found, or why the check failed or did not run. */
  readonly detail: string;
}

export interface FederationReceiptVerification {
  /** True iff every check ran and passed. */
  readonly ok: boolean;
  /** One entry per check, in FEDERATION_RECEIPT_CHECKS order. */
  readonly checks: FederationReceiptCheck[];
  /** The parsed receipt, once its format check passed. */
  readonly receipt?: FederationReceipt;
}

/** What the anchor evidence attests, in the receipt's `anchor` spelling. */
export type AnchorAttestation = Pick<FederationReceiptAnchor, 'tx_hash' | 'block' | 'timestamp'> & {
  /** What else the verifier checked or could not (e.g. a chain block's depth), for the check's detail. */
  note?: string;
};

export interface FederationReceiptTrust {
  /** The registry version of this federation with that number, if the verifier knows (and trusts) it. */
  registry: (version: number) => RegistrySet | undefined;
  /**
   * Verifies the anchor evidence over `digest` (epochStatementDigest of the receipt's statement:
   * for RFC 3161 the message imprint of every token) against the verifier's trust anchors, and
   * returns what it attests; throws (or rejects) when the evidence does not verify.
   */
  verifyEvidence: (
    evidence: FederationReceiptEvidence,
    digest: Uint8Array,
    receipt: FederationReceipt,
  ) => Promise<AnchorAttestation>;
}

class CheckFailed extends Error {}

/**
 * Leaf and quorum checks that passed, by registry (the object the verifier's trust returned: a
 * registry version is a value, never changed in place) and by the exact checked JSON. Every
 * federation receipt of one epoch carries the same statement and signatures, and every receipt of
 * a namespace's entries in that epoch the same leaf: their Ed25519 signatures are most of a
 * verification, and whether they verify depends on nothing else. Failures are not remembered.
 */
const passedChecks = new WeakMap<RegistrySet, BoundedCache<string[]>>();

function rememberedPass(registry: RegistrySet, key: string, check: () => string[]): string[] {
  let passed = passedChecks.get(registry);
  if (passed === undefined) passedChecks.set(registry, (passed = new BoundedCache<string[]>(1024)));
  const known = passed.get(key);
  if (known !== undefined) return known;
  const result = check();
  passed.set(key, result);
  return result;
}

function fail(why: string): never {
  throw new CheckFailed(why);
}

/**
 * Verifies a federation receipt (parsed JSON, attacker-controlled) offline, from the log's
 * checkpoint to the anchor. Never throws or rejects: every problem is a failed check. The checks
 * run in order and the first failure stops the run; the checks after it are reported as not run
 * (ok false), so the list always names all six:
 * - format: parseFederationReceipt;
 * - registry: `trust.registry` knows the version the statement names, its federation is the
 *   receipt's and the statement's, and its anchor_strategy allows the statement's mode (hybrid
 *   allows both);
 * - leaf: verifyEpochLeaf against that registry (log signature, witness policy); for an
 *   independent epoch the log must be the anchoring node's own;
 * - epoch-inclusion: the leaf is leaf `leaf_index` of the statement's tree (RFC 9162 §2.1.3.2) and
 *   `anchor.batch_root` is the statement's root;
 * - quorum: every signature is by an eligible signer and verifies, enough of them to finalize
 *   (requiredEpochSignatures), and `quorum_met` says so;
 * - anchor: `anchor.target` is the statement's, `trust.verifyEvidence` accepts the evidence over
 *   epochStatementDigest, and what it attests is exactly `anchor.tx_hash`, `block`, `timestamp`.
 */
export async function verifyFederationReceipt(
  receipt: unknown,
  trust: FederationReceiptTrust,
): Promise<FederationReceiptVerification> {
  const checks: FederationReceiptCheck[] = [];
  let failed = false;
  const run = async (name: FederationReceiptCheckName, body: () => string | Promise<string>): Promise<void> => {
    if (failed) {
      checks.push({ name, ok: false, detail: 'not run: an earlier check failed' });
      return;
    }
    try {
      checks.push({ name, ok: true, detail: await body() });
    } catch (e) {
      failed = true;
      checks.push({ name, ok: false, detail: errorMessage(e) });
    }
  };

  let r!: FederationReceipt;
  let registry!: RegistrySet;
  await run('format', () => {
    r = parseFederationReceipt(receipt);
    return `a ${r.format} of ${r.leaf.origin} for epoch ${r.statement.epoch} of ${r.statement.target}`;
  });
  await run('registry', () => {
    const s = r.statement;
    if (s.federation_id !== r.federation_id) {
      fail(
        `the statement is of federation ${JSON.stringify(s.federation_id)}, the receipt of ${JSON.stringify(r.federation_id)}`,
      );
    }
    const found = trust.registry(s.registry_version);
    if (found === undefined) fail(`registry version ${s.registry_version} is not known to this verifier`);
    registry = found;
    if (registry.federation_id !== s.federation_id || registry.version !== s.registry_version) {
      fail(
        `the trusted registry is version ${registry.version} of ${JSON.stringify(registry.federation_id)}, not the statement's`,
      );
    }
    if (registry.anchor_strategy !== 'hybrid' && registry.anchor_strategy !== s.mode) {
      fail(`registry version ${registry.version} anchors ${registry.anchor_strategy}ly, the epoch is ${s.mode}`);
    }
    return `registry version ${registry.version} of ${registry.federation_id} (${registry.anchor_strategy})`;
  });
  await run('leaf', () => {
    // verifyEpochLeaf throws unless the leaf passes: only a pass is remembered.
    const cosigners = rememberedPass(
      registry,
      `leaf|${JSON.stringify(r.leaf)}`,
      () => verifyEpochLeaf(r.leaf, registry).cosigners,
    );
    const s = r.statement;
    if (s.mode === 'independent' && peerForOrigin(registry, r.leaf.origin)?.id !== s.node) {
      fail(`an independent epoch of ${s.node} holds only its own logs, not ${r.leaf.origin}`);
    }
    return (
      `checkpoint of ${r.leaf.origin} at size ${r.leaf.size} is signed by its log and cosigned by ` +
      `${cosigners.length} of ${r.leaf.witness_policy.min_required} required (${cosigners.join(', ') || 'none needed'})`
    );
  });
  await run('epoch-inclusion', () => {
    const s = r.statement;
    try {
      verifyInclusion(
        r.leaf_index,
        s.tree_size,
        leafHash(epochLeafData(r.leaf)),
        r.inclusion_proof.map(base64Decode),
        base64Decode(s.root),
      );
    } catch (e) {
      fail(
        `the leaf is not proven to be leaf ${r.leaf_index} of the epoch tree of size ${s.tree_size}: ${errorMessage(e)}`,
      );
    }
    if (r.anchor.batch_root !== s.root)
      fail(`anchor.batch_root ${r.anchor.batch_root} is not the statement's root ${s.root}`);
    return `leaf ${r.leaf_index} of the epoch tree of size ${s.tree_size} with root ${s.root}`;
  });
  await run('quorum', () => {
    const s = r.statement;
    const valid = rememberedPass(registry, `quorum|${JSON.stringify([s, r.signatures])}`, () => {
      const counted = countEpochSignatures(s, r.signatures, registry);
      if (counted.invalid.length > 0)
        fail(`signatures that do not count (forged, or not by an eligible signer): ${counted.invalid.join(', ')}`);
      return counted.valid;
    });
    const needed = requiredEpochSignatures(s, registry);
    const met = valid.length >= needed;
    const summary = `${valid.length} of ${needed} required signatures (${valid.join(', ') || 'none'})`;
    if (met !== r.quorum_met) fail(`quorum_met says ${r.quorum_met}, but there are ${summary}`);
    if (!met) fail(`quorum not met: ${summary}`);
    return s.mode === 'independent' ? `signed by ${s.node}, anchoring alone` : `quorum met: ${summary}`;
  });
  await run('anchor', async () => {
    const s = r.statement;
    if (r.anchor.target !== s.target) fail(`anchor.target ${r.anchor.target} is not the statement's ${s.target}`);
    let attested: AnchorAttestation;
    try {
      attested = await trust.verifyEvidence(r.evidence, epochStatementDigest(s), r);
    } catch (e) {
      fail(`the ${r.evidence.type} evidence does not verify: ${errorMessage(e)}`);
    }
    for (const k of ['tx_hash', 'block', 'timestamp'] as const) {
      if (attested?.[k] !== r.anchor[k]) {
        fail(`anchor.${k} is ${JSON.stringify(r.anchor[k])}, the evidence attests ${JSON.stringify(attested?.[k])}`);
      }
    }
    const note = attested?.note === undefined ? '' : `; ${attested.note}`;
    return `${r.evidence.type} evidence over the epoch statement verifies: ${r.anchor.tx_hash} at ${r.anchor.timestamp}${note}`;
  });
  return {
    ok: !failed,
    checks,
    ...(checks[0]?.ok ? { receipt: r } : {}),
  };
}
