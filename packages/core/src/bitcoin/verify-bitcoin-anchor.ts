import { RemembrancerError } from '../errors.js';
import { namedChecks } from '../checks/named-checks.js';
import { bytesEqual, fromHex, toHex } from '../encoding/index.js';
import { toDisplayHex } from './bitcoin-hash.js';
import { BLOCK_HEADER_BYTES, bitcoinBlockHash, parseBlockHeader, type BlockHeader } from './block-header.js';
import { MAX_BITCOIN_BRANCH_LENGTH, bitcoinRootFromBranch } from './merkle-branch.js';
import { opReturnPayload } from './op-return.js';
import { parseTransaction, bitcoinTxid, type BitcoinTransaction } from './transaction.js';

/** The checks of verifyBitcoinAnchor, in the order they run. */
export const BITCOIN_ANCHOR_CHECKS = ['header', 'transaction', 'op-return', 'merkle-branch'] as const;
export type BitcoinAnchorCheckName = (typeof BITCOIN_ANCHOR_CHECKS)[number];

/**
 * What proves a Bitcoin anchor: the block header, the transaction and its Merkle branch, all hex.
 * `branch` holds the sibling hashes from the transaction's level up, in internal byte order;
 * `height` is where the block is claimed to be, for the verifier that checks it against the chain.
 */
export interface BitcoinAnchorEvidence {
  readonly header: string;
  readonly tx: string;
  readonly index: number;
  readonly branch: readonly string[];
  readonly height: number;
}

export interface BitcoinAnchorCheck {
  readonly name: BitcoinAnchorCheckName;
  readonly ok: boolean;
  readonly detail: string;
}

export interface BitcoinAnchorVerification {
  readonly ok: boolean;
  /** The checks run, in order, up to and including the first that failed. */
  readonly checks: BitcoinAnchorCheck[];
}

// A transaction cannot outweigh a block: 4,000,000 weight units, at least one per byte.
const MAX_TX_BYTES = 4_000_000;

const malformed = (message: string) => new RemembrancerError('BITCOIN_MALFORMED', message);

function member(evidence: Record<string, unknown>, name: keyof BitcoinAnchorEvidence): unknown {
  return Object.prototype.hasOwnProperty.call(evidence, name) ? evidence[name] : undefined;
}

function hexOf(value: unknown, what: string, maxBytes: number): Uint8Array {
  if (typeof value !== 'string') throw malformed(`${what} must be a hex string`);
  if (value.length > 2 * maxBytes) throw malformed(`${what} is over ${maxBytes} bytes`);
  try {
    return fromHex(value);
  } catch {
    throw malformed(`${what} is not hex`);
  }
}

function naturalOf(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw malformed(`${what} must be a non-negative integer`);
  }
  return value;
}

/**
 * Verifies offline that `expectedRoot` (32 bytes, an epoch root) is committed by a Bitcoin
 * transaction in the block whose header the evidence holds. Checks, stopping at the first that
 * fails (later ones are neither run nor listed):
 *
 * - `header`: the evidence is an object with a non-negative integer `height`, and `header` is 80
 *   bytes of hex; the detail gives the block hash (display hex).
 * - `transaction`: `tx` is one whole transaction, legacy or segwit (parseTransaction).
 * - `op-return`: some output's script is OP_RETURN with a single push (opReturnPayload) whose
 *   data is exactly `expectedRoot`.
 * - `merkle-branch`: the bitcoinTxid (which ignores witnesses), its `index` and `branch` lead
 *   (rootFromBranch) to the header's merkle root.
 *
 * What this does NOT check: proof of work, the header's place in the best chain, `height`, or
 * confirmations. Any 80 bytes pass `header`; a later verifier must compare the block hash with a
 * header it trusts at that height. Bitcoin's Merkle tree has no leaf/node domain separation, so a
 * 64-byte "transaction" could be two interior hashes passed off as a leaf; the transaction here
 * must parse and carry a 32-byte OP_RETURN, which makes it longer, and 64 bytes are refused anyway.
 *
 * Never throws: malformed evidence (not an object, bad hex, wrong types) fails a check.
 */
export function verifyBitcoinAnchor(evidence: unknown, expectedRoot: Uint8Array): BitcoinAnchorVerification {
  const { checks, run } = namedChecks<BitcoinAnchorCheckName>();
  const failed = (): BitcoinAnchorVerification => ({ ok: false, checks });

  const block = run('header', (): [{ members: Record<string, unknown>; header: BlockHeader }, string] => {
    if (typeof evidence !== 'object' || evidence === null || Array.isArray(evidence)) {
      throw malformed('the evidence must be an object');
    }
    const members = evidence as Record<string, unknown>;
    const height = naturalOf(member(members, 'height'), 'height');
    const bytes = hexOf(member(members, 'header'), 'header', BLOCK_HEADER_BYTES);
    const header = parseBlockHeader(bytes);
    const hash = toDisplayHex(bitcoinBlockHash(bytes));
    return [
      { members, header },
      `block ${hash}, claimed height ${height} (proof of work and chain position not checked here)`,
    ];
  });
  if (block === undefined) return failed();

  const tx = run('transaction', (): [BitcoinTransaction, string] => {
    const parsed = parseTransaction(hexOf(member(block.members, 'tx'), 'tx', MAX_TX_BYTES));
    if (parsed.stripped.length === 64) throw malformed('a 64-byte transaction is indistinguishable from a tree node');
    const form = parsed.hasWitness ? 'segwit' : 'legacy';
    const shape = `${parsed.inputs.length} inputs, ${parsed.outputs.length} outputs`;
    return [parsed, `txid ${toDisplayHex(bitcoinTxid(parsed))} (${form}, ${shape})`];
  });
  if (tx === undefined) return failed();

  const committed = run('op-return', (): [true, string] => {
    if (!(expectedRoot instanceof Uint8Array) || expectedRoot.length !== 32) {
      throw new RemembrancerError('INVALID_ARGUMENT', 'the expected root must be 32 bytes');
    }
    let others = 0;
    for (const [i, output] of tx.outputs.entries()) {
      const payload = opReturnPayload(output.script);
      if (payload === undefined) continue;
      if (bytesEqual(payload, expectedRoot)) return [true, `output ${i} is OP_RETURN ${toHex(payload)}`];
      others++;
    }
    throw new RemembrancerError(
      'BITCOIN_PROOF_INVALID',
      `no output is OP_RETURN ${toHex(expectedRoot)} (${others} OP_RETURN outputs carry other data)`,
    );
  });
  if (committed === undefined) return failed();

  const included = run('merkle-branch', (): [true, string] => {
    const index = naturalOf(member(block.members, 'index'), 'index');
    const branchValue = member(block.members, 'branch');
    if (!Array.isArray(branchValue)) throw malformed('branch must be an array of hex hashes');
    if (branchValue.length > MAX_BITCOIN_BRANCH_LENGTH) {
      throw new RemembrancerError(
        'BITCOIN_PROOF_INVALID',
        `a branch has at most ${MAX_BITCOIN_BRANCH_LENGTH} hashes, got ${branchValue.length}`,
      );
    }
    const branch = branchValue.map((h: unknown, i) => {
      const bytes = hexOf(h, `branch[${i}]`, 32);
      if (bytes.length !== 32) throw malformed(`branch[${i}] is not 32 bytes`);
      return bytes;
    });
    const root = bitcoinRootFromBranch(bitcoinTxid(tx), index, branch);
    const want = block.header.merkleRoot;
    if (!bytesEqual(root, want)) {
      throw new RemembrancerError(
        'BITCOIN_PROOF_INVALID',
        `the branch leads to ${toDisplayHex(root)}, the header's merkle root is ${toDisplayHex(want)}`,
      );
    }
    return [true, `index ${index} and ${branch.length} branch hashes lead to the merkle root ${toDisplayHex(want)}`];
  });
  if (included === undefined) return failed();

  return { ok: true, checks };
}
