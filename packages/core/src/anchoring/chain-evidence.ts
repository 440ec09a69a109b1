import { RemembrancerError } from '../errors.js';
import { base64Decode, fromHex, toHex } from '../encoding/index.js';
import { parseCadenceTarget } from '../cadence/cadence-target.js';
import { arrayOf, child, integerIn, objectWith, refuse, type JsonObject } from '../namespace/json-members.js';
import { requireMembers } from './document-members.js';
import type { EpochStatement } from './epoch-statement.js';
import { toDisplayHex } from '../bitcoin/bitcoin-hash.js';
import { bitcoinBlockHash, parseBlockHeader } from '../bitcoin/block-header.js';
import { MAX_BITCOIN_BRANCH_LENGTH } from '../bitcoin/merkle-branch.js';
import { bitcoinTxid, parseTransaction } from '../bitcoin/transaction.js';
import { verifyBitcoinAnchor } from '../bitcoin/verify-bitcoin-anchor.js';
import { MAX_EVM_HEADER_BYTES, decodeEvmBlockHeader } from '../evm/evm-block-header.js';
import { keccak256 } from '../evm/evm-rlp.js';
import { MAX_EVM_TX_BYTES, decodeEvmTransaction } from '../evm/evm-transaction.js';
import { MAX_EVM_PROOF_NODES } from '../evm/evm-tx-proof.js';
import { verifyEvmAnchor } from '../evm/verify-evm-anchor.js';

/*
 * Chain anchor evidence in federation receipts (issue 11, items 2 and 4): what proves that an
 * epoch root is committed by a transaction in a block, checkable offline against that block's
 * header. The receipt's `anchor` fields are derived from the evidence, never taken on its word:
 * tx_hash is the transaction's id, block the block hash, timestamp the header's time.
 *
 *   eip155: {type, chain_id, header, tx_index, proof, tx}   (all byte strings 0x-hex)
 *   btc:    {type, network, header, tx, index, branch, height} (hex; branch in internal byte order)
 */

/** EVM evidence: the block header's RLP and a Merkle-Patricia proof of the transaction in it. */
export interface EvmChainEvidence {
  type: 'eip155';
  chain_id: number;
  header: string;
  tx_index: number;
  proof: string[];
  tx: string;
}

/** Bitcoin evidence: the 80-byte header, the transaction and its Merkle branch. */
export interface BitcoinChainEvidence {
  type: 'btc';
  network: string;
  header: string;
  tx: string;
  index: number;
  branch: string[];
  height: number;
}

export type ChainEvidence = EvmChainEvidence | BitcoinChainEvidence;

const EVM_MEMBERS = ['type', 'chain_id', 'header', 'tx_index', 'proof', 'tx'];
const BTC_MEMBERS = ['type', 'network', 'header', 'tx', 'index', 'branch', 'height'];

function hexString(
  code: 'FEDERATION_RECEIPT_MALFORMED',
  v: unknown,
  at: string,
  maxBytes: number,
  prefix: boolean,
  exactBytes?: number,
): string {
  const re = prefix ? /^0x([0-9a-f]{2})+$/ : /^([0-9a-f]{2})+$/;
  const digits = typeof v === 'string' ? v.length - (prefix ? 2 : 0) : -1;
  const size = exactBytes === undefined ? `at most ${maxBytes}` : `exactly ${exactBytes}`;
  if (
    typeof v !== 'string' ||
    digits > 2 * maxBytes ||
    (exactBytes !== undefined && digits !== 2 * exactBytes) ||
    !re.test(v)
  )
    refuse(code, at, `must be lowercase hex${prefix ? ' with 0x' : ''} of ${size} bytes`);
  return v;
}

/** The form of chain evidence (attacker-controlled); nothing is verified. */
export function chainEvidenceMembers(
  code: 'FEDERATION_RECEIPT_MALFORMED',
  value: unknown,
  pointer: string,
  type: 'eip155' | 'btc',
): ChainEvidence {
  if (type === 'eip155') {
    const ev: JsonObject = requireMembers(code, objectWith(code, value, pointer, EVM_MEMBERS), pointer, EVM_MEMBERS);
    return {
      type,
      chain_id: integerIn(code, ev['chain_id'], child(pointer, 'chain_id'), 1, Number.MAX_SAFE_INTEGER),
      header: hexString(code, ev['header'], child(pointer, 'header'), MAX_EVM_HEADER_BYTES, true),
      tx_index: integerIn(code, ev['tx_index'], child(pointer, 'tx_index'), 0, 1_000_000),
      proof: arrayOf(code, ev['proof'], child(pointer, 'proof'), MAX_EVM_PROOF_NODES, (n, at) =>
        hexString(code, n, at, MAX_EVM_TX_BYTES + 1024, true),
      ),
      tx: hexString(code, ev['tx'], child(pointer, 'tx'), MAX_EVM_TX_BYTES, true),
    };
  }
  const ev: JsonObject = requireMembers(code, objectWith(code, value, pointer, BTC_MEMBERS), pointer, BTC_MEMBERS);
  const network = ev['network'];
  if (typeof network !== 'string' || !/^[a-z]{1,16}$/.test(network))
    refuse(code, child(pointer, 'network'), 'must be a Bitcoin network name');
  return {
    type,
    network,
    header: hexString(code, ev['header'], child(pointer, 'header'), 80, false, 80),
    tx: hexString(code, ev['tx'], child(pointer, 'tx'), 4_000_000, false),
    index: integerIn(code, ev['index'], child(pointer, 'index'), 0, 1_000_000),
    branch: arrayOf(code, ev['branch'], child(pointer, 'branch'), MAX_BITCOIN_BRANCH_LENGTH, (h, at) =>
      hexString(code, h, at, 32, false, 32),
    ),
    height: integerIn(code, ev['height'], child(pointer, 'height'), 0, Number.MAX_SAFE_INTEGER),
  };
}

/** A check of chain evidence: the chain verifier's named checks, then `target`. */
export interface ChainEvidenceCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface ChainEvidenceVerification {
  readonly ok: boolean;
  readonly checks: ChainEvidenceCheck[];
  /** What the evidence attests, in the receipt's anchor spelling (when ok). */
  readonly attests?: { tx_hash: string; block: string; timestamp: string; height: number };
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace(/\.000Z$/, 'Z');

/**
 * Verifies chain evidence offline against an epoch statement: the chain's own named checks
 * (verifyEvmAnchor: header, tx-proof, data; verifyBitcoinAnchor: header, transaction, op-return,
 * merkle-branch), then `target`: the evidence is of the chain the statement names (its chain id,
 * carried by the transaction itself for EVM; its network for Bitcoin). Never throws.
 *
 * Trust: this proves the transaction is in the block whose header the evidence holds. Whether that
 * block is on the chain, and how deep, is for the verifier to check against a header or a node it
 * trusts (`remembrancer verify --evm-rpc` / `--btc-rpc`).
 */
export function verifyChainEvidence(evidence: ChainEvidence, statement: EpochStatement): ChainEvidenceVerification {
  const root = base64Decode(statement.root);
  const checks: ChainEvidenceCheck[] = [];
  let target: ReturnType<typeof parseCadenceTarget>;
  try {
    target = parseCadenceTarget(statement.target);
  } catch {
    return { ok: false, checks: [{ name: 'target', ok: false, detail: `${statement.target} is not a chain target` }] };
  }
  const finish = (ok: boolean, detail: string, attests?: ChainEvidenceVerification['attests']) => {
    checks.push({ name: 'target', ok, detail });
    return { ok, checks, ...(ok && attests ? { attests } : {}) };
  };
  if (evidence.type === 'eip155') {
    const v = verifyEvmAnchor(evidence, { root, federationId: statement.federation_id, epoch: statement.epoch });
    checks.push(...v.checks);
    if (!v.ok) return { ok: false, checks };
    const tx = decodeEvmTransaction(fromHex(evidence.tx.slice(2)));
    if (target.kind !== 'eip155' || evidence.chain_id !== target.chainId)
      return finish(false, `the evidence is of chain ${evidence.chain_id}, the statement names ${statement.target}`);
    if (tx.chainId !== BigInt(target.chainId))
      return finish(
        false,
        `the transaction is signed for chain ${tx.chainId === undefined ? 'none (pre-EIP-155)' : String(tx.chainId)}, not ${target.chainId}`,
      );
    const headerBytes = fromHex(evidence.header.slice(2));
    const header = decodeEvmBlockHeader(headerBytes);
    return finish(true, `a transaction of chain ${target.chainId}`, {
      tx_hash: `0x${toHex(keccak256(fromHex(evidence.tx.slice(2))))}`,
      block: `0x${toHex(keccak256(headerBytes))}`,
      timestamp: iso(header.timestamp),
      height: header.number,
    });
  }
  const v = verifyBitcoinAnchor(evidence, root);
  checks.push(...v.checks);
  if (!v.ok) return { ok: false, checks };
  if (target.kind !== 'btc' || evidence.network !== target.network)
    return finish(false, `the evidence is of network ${evidence.network}, the statement names ${statement.target}`);
  const headerBytes = fromHex(evidence.header);
  return finish(true, `a transaction of Bitcoin ${evidence.network}`, {
    tx_hash: toDisplayHex(bitcoinTxid(parseTransaction(fromHex(evidence.tx)))),
    block: toDisplayHex(bitcoinBlockHash(headerBytes)),
    timestamp: iso(parseBlockHeader(headerBytes).time),
    height: evidence.height,
  });
}

/** verifyChainEvidence as one throwing call: the attestation, or EPOCH_ANCHOR_INVALID naming the failed check. */
export function chainEvidenceAttestation(
  evidence: ChainEvidence,
  statement: EpochStatement,
): NonNullable<ChainEvidenceVerification['attests']> {
  const v = verifyChainEvidence(evidence, statement);
  if (!v.ok || v.attests === undefined) {
    const failed = v.checks.find((c) => !c.ok);
    throw new RemembrancerError(
      'ANCHOR_EVIDENCE_INVALID',
      `chain evidence fails check ${failed?.name ?? '?'}: ${failed?.detail ?? 'no detail'}`,
    );
  }
  return v.attests;
}
