/*
 * EIP-1559 fees of anchor transactions (https://eips.ethereum.org/EIPS/eip-1559): what a new
 * attempt offers, what a replacement of a stuck one must offer, and the gas its calldata needs.
 * Pure arithmetic on wei; the sender supplies the chain's current figures and the caps.
 */

export interface EvmFees {
  readonly maxFeePerGas: bigint;
  readonly maxPriorityFeePerGas: bigint;
}

export interface EvmFeeCaps {
  /** No attempt offers more per gas than this, whatever the chain asks. */
  readonly maxFeePerGas: bigint;
  readonly maxPriorityFeePerGas: bigint;
}

/**
 * What a replacement raises both fees by over the replaced attempt: 12.5%, the most the base fee
 * can rise in one block, so a replacement priced at the old base fee keeps up with one full block.
 */
const BUMP_NUMERATOR = 9n;
const BUMP_DENOMINATOR = 8n;
/**
 * What the node's pool demands of a replacement of the same nonce: geth's txpool.pricebump
 * default of 10% on both the fee cap and the tip (core/txpool/legacypool), each strictly higher.
 * A bump the caps clamp below this would be refused as underpriced, so none is offered.
 */
const POOL_BUMP_PERCENT = 110n;

const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;
const max = (a: bigint, b: bigint) => (a > b ? a : b);
const min = (a: bigint, b: bigint) => (a < b ? a : b);

/** `fees` within the caps, the tip never above the fee cap (EIP-1559 refuses that transaction). */
export function clampFees(fees: EvmFees, caps: EvmFeeCaps): EvmFees {
  const maxFeePerGas = min(fees.maxFeePerGas, caps.maxFeePerGas);
  const maxPriorityFeePerGas = min(min(fees.maxPriorityFeePerGas, caps.maxPriorityFeePerGas), maxFeePerGas);
  return { maxFeePerGas, maxPriorityFeePerGas };
}

/**
 * The fees of a new attempt: twice the latest base fee plus the tip, so the transaction stays
 * includable while the base fee doubles (six full blocks in a row), within the caps.
 */
export function initialFees(baseFeePerGas: bigint, tip: bigint, caps: EvmFeeCaps): EvmFees {
  return clampFees({ maxFeePerGas: 2n * baseFeePerGas + tip, maxPriorityFeePerGas: tip }, caps);
}

const meetsPoolBump = (next: bigint, old: bigint) => next > old && next * 100n >= old * POOL_BUMP_PERCENT;

/**
 * The fees of a replacement of an attempt that offered `old`: each at least 12.5% more (rounded
 * up) and at least what a new attempt would offer now (`current`), within the caps. Undefined
 * when the caps leave no replacement the pool would take (both fees 10% up).
 */
export function replacementFees(old: EvmFees, current: EvmFees, caps: EvmFeeCaps): EvmFees | undefined {
  const bumped = clampFees(
    {
      maxFeePerGas: max(ceilDiv(old.maxFeePerGas * BUMP_NUMERATOR, BUMP_DENOMINATOR), current.maxFeePerGas),
      maxPriorityFeePerGas: max(
        ceilDiv(old.maxPriorityFeePerGas * BUMP_NUMERATOR, BUMP_DENOMINATOR),
        current.maxPriorityFeePerGas,
      ),
    },
    caps,
  );
  const ok =
    meetsPoolBump(bumped.maxFeePerGas, old.maxFeePerGas) &&
    meetsPoolBump(bumped.maxPriorityFeePerGas, old.maxPriorityFeePerGas);
  return ok ? bumped : undefined;
}

/**
 * The least gas a transaction with this calldata and no contract code to run uses: 21000, plus 4
 * per zero byte and 16 per other byte (EIP-2028), or Prague's calldata floor if higher: 21000
 * plus 10 per token, a zero byte one token and another four (EIP-7623).
 */
export function intrinsicGas(data: Uint8Array): bigint {
  let zeros = 0n;
  for (const b of data) if (b === 0) zeros++;
  const others = BigInt(data.length) - zeros;
  const standard = 21_000n + 4n * zeros + 16n * others;
  const floor = 21_000n + 10n * (zeros + 4n * others);
  return max(standard, floor);
}

/**
 * The gas limit offered: the node's estimate (never below the intrinsic gas) plus 10%, as a
 * recipient that is a contract may need a little more by the time the transaction runs; gas not
 * used is not paid for.
 */
export function gasLimitFor(estimate: bigint, data: Uint8Array): bigint {
  const base = max(estimate, intrinsicGas(data));
  return base + ceilDiv(base, 10n);
}
