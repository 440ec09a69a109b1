import {
  RemembrancerError,
  chainEvidenceAttestation,
  chainEvidenceMembers,
  type EpochStatement,
  type Rfc3161Evidence,
  anchorQuorum,
  base64Decode,
  countEpochSignatures,
  crypto,
  epochEndMs,
  epochStatementDigest,
  errorMessage,
  toHex,
  verifyTimestampToken,
  type RegistrySet,
  type VerifiedTimestamp,
} from '@vaultmesh/core';
import type {
  AnchorTargetConfig,
  BitcoinTargetConfig,
  EvmTargetConfig,
  Rfc3161TargetConfig,
} from '../config/anchoring-config.js';
import { checkProposal } from './epoch-proposal.js';
import type { AnchorFields, EpochFinalization } from './epoch-finalization.js';

function invalid(why: string, cause?: unknown): never {
  throw new RemembrancerError(
    'EPOCH_REFUSED',
    `finalized epoch does not verify: ${why}`,
    cause === undefined ? undefined : { cause },
  );
}

/** Signatures a statement needs: a majority of the anchor peers, or the node itself for an independent epoch. */
export function requiredSignatures(registry: RegistrySet, mode: 'collaborative' | 'independent'): number {
  return mode === 'independent' ? 1 : anchorQuorum(registry);
}

/** The receipt's anchor fields from the first token (docs/anchoring.md): what every node derives alike. */
export function anchorFieldsOf(target: string, root: string, first: VerifiedTimestamp): AnchorFields {
  return {
    batch_root: root,
    target,
    tx_hash: toHex(crypto.sha256(first.tokenDer)),
    block: first.serialNumber,
    timestamp: first.genTimeIso,
  };
}

/**
 * Verifies RFC 3161 tokens over the statement digest against the target's TSAs: for `any` the one
 * token must chain to one of the configured TSAs' trust anchors; for `all` token i must come from
 * TSA i. genTime must fall after the epoch closed (less the skew window) and not in the future.
 */
export async function verifyTokens(
  tokensB64: readonly string[],
  digest: Uint8Array,
  target: Rfc3161TargetConfig,
  window: { notBeforeMs: number; notAfterMs: number },
): Promise<VerifiedTimestamp[]> {
  const expected = target.require === 'all' ? target.tsas.length : 1;
  if (tokensB64.length !== expected)
    invalid(`${target.id} (${target.require}) needs ${expected} token(s), got ${tokensB64.length}`);
  const out: VerifiedTimestamp[] = [];
  for (let i = 0; i < tokensB64.length; i++) {
    const anchors =
      target.require === 'all' ? target.tsas[i]!.trustAnchorsPem : target.tsas.flatMap((t) => t.trustAnchorsPem);
    try {
      out.push(
        await verifyTimestampToken(base64Decode(tokensB64[i]!), {
          digest,
          trustAnchorsPem: anchors,
          ...(target.policyOid === undefined ? {} : { policyOid: target.policyOid }),
          genTimeWindow: window,
        }),
      );
    } catch (cause) {
      invalid(`token ${i}: ${errorMessage(cause)}`, cause);
    }
  }
  return out;
}

/**
 * Checks a finalized epoch a peer pushed or answered (issue 10, items 4–7): the proposal as a
 * signer would (leaves, tree, root), a quorum of valid signatures by distinct anchor peers of the
 * statement's registry version, tokens that verify against this node's own trust anchors for the
 * target, and anchor fields derived from them. Throws EPOCH_REFUSED naming what failed.
 */
export async function checkFinalization(
  f: EpochFinalization,
  context: {
    registry: RegistrySet;
    target: AnchorTargetConfig;
    nowMs: number;
    maxClockSkewMs: number;
    /** Chain targets: how deep a block is on this node's own view of the chain (anchor-target.ts). */
    confirmations?: (blockHash: string, height: number) => Promise<number>;
  },
): Promise<void> {
  if (typeof f !== 'object' || f === null) invalid('not an object');
  const checked = checkProposal(f.statement, f.leaves, context);
  const s = checked.statement;
  if (!Array.isArray(f.signatures)) invalid('signatures must be an array');
  const { valid } = countEpochSignatures(s, f.signatures, context.registry);
  const needed = requiredSignatures(context.registry, s.mode);
  if (valid.length < needed) invalid(`${valid.length} valid signature(s), ${needed} needed`);
  const fields =
    context.target.kind === 'rfc3161'
      ? await rfc3161Fields(f, s, { ...context, target: context.target })
      : await chainFields(f, s, context.target, context.confirmations);
  const a = f.anchor as Partial<AnchorFields> | undefined;
  for (const k of Object.keys(fields) as (keyof AnchorFields)[]) {
    if (a?.[k] !== fields[k])
      invalid(`anchor.${k} is ${JSON.stringify(a?.[k])}, the evidence gives ${JSON.stringify(fields[k])}`);
  }
}

async function rfc3161Fields(
  f: EpochFinalization,
  s: EpochStatement,
  context: { target: Rfc3161TargetConfig; nowMs: number; maxClockSkewMs: number },
): Promise<AnchorFields> {
  const ev = f.evidence as Partial<Rfc3161Evidence> | null;
  if (typeof ev !== 'object' || ev === null || ev.type !== 'rfc3161' || !Array.isArray(ev.tokens))
    invalid('evidence must be {type: "rfc3161", policy, tokens}');
  if (ev.policy !== context.target.require)
    invalid(`evidence policy ${String(ev.policy)} is not the target's ${context.target.require}`);
  const tokens = await verifyTokens(ev.tokens, epochStatementDigest(s), context.target, {
    notBeforeMs: epochEndMs(s.epoch, context.target.epochMs) - context.maxClockSkewMs,
    notAfterMs: context.nowMs + context.maxClockSkewMs,
  });
  return anchorFieldsOf(s.target, s.root, tokens[0]!);
}

/**
 * A chain anchor is checked offline (verifyChainEvidence: header, proof, data, chain), then on
 * this node's own view of the chain: the block must be on its best chain with at least the
 * target's confirmations. A node that cannot ask its chain refuses for now (the leader pushes
 * again later) rather than take a peer's word for the block.
 */
async function chainFields(
  f: EpochFinalization,
  s: EpochStatement,
  target: EvmTargetConfig | BitcoinTargetConfig,
  confirmations: ((blockHash: string, height: number) => Promise<number>) | undefined,
): Promise<AnchorFields> {
  const type = (f.evidence as { type?: unknown } | null)?.type;
  if (type !== target.kind) invalid(`evidence of type ${JSON.stringify(type)} for a ${target.kind} target`);
  let attests;
  try {
    attests = chainEvidenceAttestation(
      chainEvidenceMembers('FEDERATION_RECEIPT_MALFORMED', f.evidence, '/evidence', target.kind),
      s,
    );
  } catch (e) {
    invalid(errorMessage(e), e);
  }
  if (confirmations === undefined) invalid(`no view of ${target.id} to check the block against`);
  let depth: number;
  try {
    depth = await confirmations(attests.block, attests.height);
  } catch (e) {
    invalid(`cannot ask ${target.id} about block ${attests.block}: ${errorMessage(e)}`, e);
  }
  if (depth < target.confirmations)
    invalid(
      `block ${attests.block} at height ${attests.height} has ${depth} confirmation(s) on this node's view of ${target.id}, ${target.confirmations} needed`,
    );
  return {
    batch_root: s.root,
    target: s.target,
    tx_hash: attests.tx_hash,
    block: attests.block,
    timestamp: attests.timestamp,
  };
}
