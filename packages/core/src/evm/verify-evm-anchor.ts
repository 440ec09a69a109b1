import { bytesEqual, fromHex, toHex } from '../encoding/index.js';
import { namedChecks } from '../checks/named-checks.js';
import { RemembrancerError } from '../errors.js';
import { decodeEvmAnchorData, evmFederationIdHash } from './evm-anchor-data.js';
import { MAX_EVM_HEADER_BYTES, decodeEvmBlockHeader, type EvmBlockHeader } from './evm-block-header.js';
import { keccak256 } from './evm-rlp.js';
import { MAX_EVM_TX_BYTES, decodeEvmTransaction } from './evm-transaction.js';
import { MAX_EVM_PROOF_NODES, evmTxFromProof } from './evm-tx-proof.js';

/** The checks of verifyEvmAnchor, in the order they run. */
export const EVM_ANCHOR_CHECKS = ['header', 'tx-proof', 'data'] as const;
export type EvmAnchorCheckName = (typeof EVM_ANCHOR_CHECKS)[number];

/**
 * What proves an EVM anchor, all byte strings as hex (an optional `0x` prefix): the block header's
 * RLP, the transaction's index in the block, the trie proof of it (the RLP of each hashed node from
 * the transactions root down, as buildEvmTxProof or eth_getProof-style tools give it) and the raw
 * transaction as the block carries it.
 */
export interface EvmAnchorEvidence {
  readonly header: string;
  readonly tx_index: number;
  readonly proof: readonly string[];
  readonly tx: string;
}

/** What the anchor must carry: the epoch root, and whose epoch it is. */
export interface EvmAnchorExpectation {
  readonly root: Uint8Array;
  readonly federationId: string;
  readonly epoch: number;
}

export interface EvmAnchorCheck {
  readonly name: EvmAnchorCheckName;
  readonly ok: boolean;
  readonly detail: string;
}

export interface EvmAnchorVerification {
  readonly ok: boolean;
  /** The checks run, in order, up to and including the first that failed. */
  readonly checks: EvmAnchorCheck[];
}

const malformed = (message: string) => new RemembrancerError('EVM_MALFORMED', message);

function member(evidence: Record<string, unknown>, name: keyof EvmAnchorEvidence): unknown {
  return Object.prototype.hasOwnProperty.call(evidence, name) ? evidence[name] : undefined;
}

function hexOf(value: unknown, what: string, maxBytes: number): Uint8Array {
  if (typeof value !== 'string') throw malformed(`${what} must be a hex string`);
  const digits = value.startsWith('0x') ? value.slice(2) : value;
  if (digits.length > 2 * maxBytes) throw malformed(`${what} is over ${maxBytes} bytes`);
  try {
    return fromHex(digits);
  } catch {
    throw malformed(`${what} is not hex`);
  }
}

const hex0x = (bytes: Uint8Array) => `0x${toHex(bytes)}`;

/**
 * Verifies offline that an EVM transaction in the block whose header the evidence holds carries
 * the anchor data (encodeEvmAnchorData) of `expected`. Checks, stopping at the first that fails
 * (later ones are neither run nor listed):
 *
 * - `header`: the evidence is an object whose `header` decodes as a block header
 *   (decodeEvmBlockHeader); the detail gives the block number and hash (Keccak-256 of the RLP).
 * - `tx-proof`: `proof`, walked from the header's transactionsRoot along the key rlp(`tx_index`),
 *   yields exactly the bytes of `tx` (evmTxFromProof).
 * - `data`: `tx` decodes (decodeEvmTransaction), its data is anchor data (decodeEvmAnchorData), and
 *   it carries `expected.root`, the hash of `expected.federationId` and `expected.epoch`.
 *
 * What this does NOT check: that the block is part of any chain, canonical, or confirmed, nor who
 * sent the transaction or to which address. Any header that decodes passes `header`; a verifier
 * compares the block hash with a header it trusts, or asks an RPC node for the block at that
 * number (a later step).
 *
 * Never throws: malformed evidence (not an object, bad hex, wrong types) fails a check.
 */
export function verifyEvmAnchor(evidence: unknown, expected: EvmAnchorExpectation): EvmAnchorVerification {
  const { checks, run } = namedChecks<EvmAnchorCheckName>();
  const failed = (): EvmAnchorVerification => ({ ok: false, checks });

  const block = run('header', (): [{ members: Record<string, unknown>; header: EvmBlockHeader }, string] => {
    if (typeof evidence !== 'object' || evidence === null || Array.isArray(evidence)) {
      throw malformed('the evidence must be an object');
    }
    const members = evidence as Record<string, unknown>;
    const bytes = hexOf(member(members, 'header'), 'header', MAX_EVM_HEADER_BYTES);
    const header = decodeEvmBlockHeader(bytes);
    return [
      { members, header },
      `block ${header.number} hash ${hex0x(keccak256(bytes))} (${header.fieldCount} header fields; ` +
        'canonical chain and confirmations not checked here)',
    ];
  });
  if (block === undefined) return failed();

  const tx = run('tx-proof', (): [Uint8Array, string] => {
    const index = member(block.members, 'tx_index');
    if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) {
      throw malformed('tx_index must be a non-negative integer');
    }
    const proofValue = member(block.members, 'proof');
    if (!Array.isArray(proofValue)) throw malformed('proof must be an array of hex trie nodes');
    if (proofValue.length > MAX_EVM_PROOF_NODES) {
      throw new RemembrancerError(
        'EVM_PROOF_INVALID',
        `a proof has at most ${MAX_EVM_PROOF_NODES} nodes, got ${proofValue.length}`,
      );
    }
    const proof = proofValue.map((n: unknown, i) => hexOf(n, `proof[${i}]`, MAX_EVM_TX_BYTES + 1024));
    const raw = hexOf(member(block.members, 'tx'), 'tx', MAX_EVM_TX_BYTES);
    const proven = evmTxFromProof(block.header.transactionsRoot, index, proof);
    if (!bytesEqual(proven, raw)) {
      throw new RemembrancerError(
        'EVM_PROOF_INVALID',
        `the proof shows another transaction at index ${index} (${proven.length} bytes, keccak ${hex0x(keccak256(proven))})`,
      );
    }
    return [
      raw,
      `transaction ${index} (hash ${hex0x(keccak256(raw))}) is in the block: ${proof.length} proof nodes ` +
        `lead to transactionsRoot ${hex0x(block.header.transactionsRoot)}`,
    ];
  });
  if (tx === undefined) return failed();

  const carried = run('data', (): [true, string] => {
    if (typeof expected !== 'object' || expected === null) {
      throw new RemembrancerError('INVALID_ARGUMENT', 'the expectation must be an object');
    }
    const { root, federationId, epoch } = expected;
    if (!(root instanceof Uint8Array) || root.length !== 32) {
      throw new RemembrancerError('INVALID_ARGUMENT', 'the expected root must be 32 bytes');
    }
    if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0) {
      throw new RemembrancerError('INVALID_ARGUMENT', 'the expected epoch must be a non-negative integer');
    }
    const idHash = evmFederationIdHash(federationId);
    const decoded = decodeEvmTransaction(tx);
    const data = decodeEvmAnchorData(decoded.data);
    const mismatch = (what: string, got: string, want: string) =>
      new RemembrancerError('EVM_PROOF_INVALID', `the anchor data carries ${what} ${got}, expected ${want}`);
    if (!bytesEqual(data.root, root)) throw mismatch('root', hex0x(data.root), hex0x(root));
    if (!bytesEqual(data.federationIdHash, idHash)) {
      throw mismatch('federation id hash', hex0x(data.federationIdHash), `${hex0x(idHash)} (${federationId})`);
    }
    if (data.epoch !== epoch) throw mismatch('epoch', String(data.epoch), String(epoch));
    const to = decoded.to === undefined ? 'a contract creation' : `to ${hex0x(decoded.to)}`;
    return [
      true,
      `type-${decoded.type} transaction ${to} carries epoch ${epoch} root ${hex0x(root)} of ${federationId}`,
    ];
  });
  if (carried === undefined) return failed();

  return { ok: true, checks };
}
