import {
  NODE_NAME_PATTERN,
  RemembrancerError,
  base64Decode,
  bitcoinOtsProof,
  bytesEqual,
  chainEvidenceAttestation,
  parseBlockHeader,
  parseCadenceTarget,
  parseTransaction,
  type EpochStatement,
  type FederationReceiptEvidence,
} from '@vaultmesh/core';
import type { EpochRecord } from '../anchor-records.js';

/*
 * Issue 11, item 4: a finalized Bitcoin epoch exported as a standard OpenTimestamps detached proof
 * (https://github.com/opentimestamps/python-opentimestamps, core/timestamp.py DetachedTimestampFile):
 * file digest = the epoch root, the operations through the anchoring transaction and up the
 * block's merkle tree, a Bitcoin block-header attestation at the block's height. Anyone with
 * `ots verify` and a Bitcoin node checks it without trusting this node.
 */

// Plain Uint8Arrays (not Buffer views); the hex was checked by verifyChainEvidence before use.
const hexBytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));

/** The media type the OpenTimestamps tools and servers use for `.ots` files. */
export const OTS_MEDIA_TYPE = 'application/vnd.opentimestamps.ots';

/** Which epoch to export: collaborative, or (with `node`) that node's independent epoch. */
export interface EpochOtsKey {
  target: string;
  epoch: number;
  /** The anchoring node of an independent epoch; absent for the collaborative one. */
  node?: string;
}

export interface EpochOtsFile {
  ots: Uint8Array;
  /** `<target with ':' as '-'>-<epoch>[-<node>].ots`: safe in a content-disposition header. */
  filename: string;
}

/**
 * A target from a request (attacker-controlled) → a `btc:<network>` target. A string that is no
 * target at all is INVALID_ARGUMENT (400); a well-formed target of another kind is NOT_FOUND:
 * only a Bitcoin anchor has an OpenTimestamps proof.
 */
export function otsTargetParam(raw: unknown): string {
  let kind: string;
  try {
    kind = parseCadenceTarget(raw).kind;
  } catch (cause) {
    throw new RemembrancerError('INVALID_ARGUMENT', 'target must be an anchor target such as btc:regtest', { cause });
  }
  const target = raw as string;
  if (kind !== 'btc')
    throw new RemembrancerError(
      'NOT_FOUND',
      `${target} is not a Bitcoin target: only btc:<network> epochs have .ots proofs`,
    );
  return target;
}

/** `?node=` of an independent epoch (attacker-controlled) → a node name, or INVALID_ARGUMENT. */
export function otsNodeParam(raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !NODE_NAME_PATTERN.test(raw))
    throw new RemembrancerError('INVALID_ARGUMENT', 'node must be a node name such as alpha.vaultmesh.local');
  return raw;
}

/**
 * The `.ots` bytes of a finalized epoch, from its statement and evidence. The stored evidence is
 * checked again before anything is exported (verifyChainEvidence: header, transaction, the
 * OP_RETURN carrying exactly this root, the merkle branch, the statement's network), because a
 * proof file leaves this node and is trusted by what it says. Refused: evidence of another kind
 * (ANCHOR_EVIDENCE_INVALID), evidence failing a check (ANCHOR_EVIDENCE_INVALID naming it), and a
 * transaction longer than the OpenTimestamps reference reads (NOT_FOUND: there is no such proof).
 */
export function epochOtsProof(statement: EpochStatement, evidence: FederationReceiptEvidence): Uint8Array {
  const what = `epoch ${statement.epoch} at ${statement.target}`;
  if (evidence.type !== 'btc')
    throw new RemembrancerError(
      'ANCHOR_EVIDENCE_INVALID',
      `${what} holds ${evidence.type} evidence, not a Bitcoin transaction: it has no OpenTimestamps proof`,
    );
  chainEvidenceAttestation(evidence, statement);
  // The txid (which the merkle tree commits to) hashes the transaction without its witnesses
  // (BIP 141), so the operations must rebuild exactly that serialization around the root.
  const tx = parseTransaction(hexBytes(evidence.tx));
  let proof: ReturnType<typeof bitcoinOtsProof>;
  try {
    proof = bitcoinOtsProof({
      root: base64Decode(statement.root),
      txStripped: tx.stripped,
      index: evidence.index,
      branch: evidence.branch.map((h) => hexBytes(h)),
      height: evidence.height,
    });
  } catch (cause) {
    if (!(cause instanceof RemembrancerError) || cause.code !== 'INVALID_ARGUMENT') throw cause;
    throw new RemembrancerError('NOT_FOUND', `${what} has no OpenTimestamps proof: ${cause.message}`, { cause });
  }
  // What a verifier will compare with the header it trusts: refuse to export anything else.
  if (!bytesEqual(proof.commitment, parseBlockHeader(hexBytes(evidence.header)).merkleRoot))
    throw new RemembrancerError('INTERNAL', `${what}: the proof's operations do not lead to the block's merkle root`);
  return proof.ots;
}

/** The file name for an epoch's proof: the target's ':' (not portable in file names) becomes '-'. */
export function epochOtsFilename(key: EpochOtsKey): string {
  return `${key.target.replace(/:/g, '-')}-${key.epoch}${key.node === undefined ? '' : `-${key.node}`}.ots`;
}

/**
 * The proof of a stored epoch (`lookup` is AnchorStorage.epoch). NOT_FOUND when the node holds no
 * finalized epoch under that key (unknown, still running, abandoned or empty).
 */
export async function epochOtsFile(
  lookup: (target: string, epoch: number, mode: EpochRecord['mode'], node: string) => Promise<EpochRecord | undefined>,
  key: EpochOtsKey,
): Promise<EpochOtsFile> {
  const record =
    key.node === undefined
      ? await lookup(key.target, key.epoch, 'collaborative', '')
      : await lookup(key.target, key.epoch, 'independent', key.node);
  const f = record?.status === 'finalized' ? record.finalization : undefined;
  if (f === undefined) {
    const which = key.node === undefined ? 'collaborative epoch' : `independent epoch of ${key.node}`;
    throw new RemembrancerError(
      'NOT_FOUND',
      `no finalized ${which} ${key.epoch} at ${key.target} on this node${record ? ` (it is ${record.status})` : ''}`,
    );
  }
  return { ots: epochOtsProof(f.statement, f.evidence), filename: epochOtsFilename(key) };
}
