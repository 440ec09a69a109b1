// The public names of EVM anchoring; the RLP helpers and the trie internals stay in their files.
export {
  EVM_ANCHOR_DATA_BYTES,
  decodeEvmAnchorData,
  encodeEvmAnchorData,
  type EvmAnchorData,
  type EvmAnchorDataInput,
} from './evm-anchor-data.js';
export { MAX_EVM_HEADER_BYTES, decodeEvmBlockHeader, evmBlockHash, type EvmBlockHeader } from './evm-block-header.js';
export { MAX_EVM_TX_BYTES, decodeEvmTransaction, type EvmTransaction } from './evm-transaction.js';
export { MAX_EVM_PROOF_NODES, buildEvmTxProof, evmTxFromProof, type EvmTxProof } from './evm-tx-proof.js';
export {
  EVM_ANCHOR_CHECKS,
  verifyEvmAnchor,
  type EvmAnchorCheck,
  type EvmAnchorCheckName,
  type EvmAnchorEvidence,
  type EvmAnchorExpectation,
  type EvmAnchorVerification,
} from './verify-evm-anchor.js';
