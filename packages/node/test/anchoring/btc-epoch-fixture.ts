// A finalized Bitcoin epoch built in memory (not a test file itself): a segwit transaction whose
// OP_RETURN carries the epoch root, in a block of `count` transactions under a synthetic header.
// The evidence passes verifyChainEvidence (which checks no proof of work), so the .ots export and
// its route can be tested without a chain node; epoch-ots.test.ts also uses a real bcoin anchor.
import {
  base64Encode,
  bitcoinMerkleBranch,
  bitcoinMerkleRoot,
  bitcoinTxid,
  crypto,
  parseTransaction,
  toHex,
  utf8Encode,
  type BitcoinChainEvidence,
  type EpochStatement,
} from '@vaultmesh/core';
import type { EpochFinalization } from '../../src/anchoring/epoch-finalization.js';

const concatBytes = (...parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts));
const le32 = (n: number) => Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
const filler = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 29 + seed * 13 + 5) & 0xff);

/**
 * BIP 144 serialization: marker and flag, one input (with a scriptSig of `scriptSigBytes`, 0 for
 * a plain segwit spend, at most 65,535), `6a20<root>` and a P2WPKH output, one witness.
 */
export function segwitAnchorTx(root: Uint8Array, scriptSigBytes = 0): Uint8Array {
  // CompactSize: one byte below 0xfd, else 0xfd and a little-endian 16-bit length.
  const scriptLength =
    scriptSigBytes < 0xfd
      ? Uint8Array.of(scriptSigBytes)
      : Uint8Array.of(0xfd, scriptSigBytes & 0xff, scriptSigBytes >>> 8);
  return concatBytes(
    le32(2),
    Uint8Array.of(0x00, 0x01),
    Uint8Array.of(1),
    filler(32, 1),
    le32(0),
    scriptLength,
    filler(scriptSigBytes, 7),
    le32(0xfffffffd),
    Uint8Array.of(2),
    new Uint8Array(8),
    Uint8Array.of(0x22, 0x6a, 0x20),
    root,
    Uint8Array.of(0x10, 0x27, 0, 0, 0, 0, 0, 0),
    Uint8Array.of(0x16, 0x00, 0x14),
    filler(20, 2),
    Uint8Array.of(2, 71),
    filler(71, 3),
    Uint8Array.of(33),
    filler(33, 4),
    le32(0),
  );
}

export interface SyntheticBtcEpoch {
  statement: EpochStatement;
  evidence: BitcoinChainEvidence;
  header: Uint8Array;
  /** The anchoring transaction as serialized with its witness. */
  tx: Uint8Array;
  root: Uint8Array;
  /** The header's merkle root, internal byte order. */
  merkleRoot: Uint8Array;
  finalization: EpochFinalization;
}

export function syntheticBtcEpoch(
  options: {
    epoch?: number;
    network?: string;
    index?: number;
    count?: number;
    height?: number;
    node?: string;
    scriptSigBytes?: number;
  } = {},
): SyntheticBtcEpoch {
  const epoch = options.epoch ?? 7;
  const network = options.network ?? 'regtest';
  const index = options.index ?? 3;
  const count = options.count ?? 6;
  const height = options.height ?? 321;
  const target = `btc:${network}`;
  const root = crypto.sha256(utf8Encode(`${target} epoch ${epoch} ${options.node ?? ''}`));
  const tx = segwitAnchorTx(root, options.scriptSigBytes);
  const txids = Array.from({ length: count }, (_, i) =>
    i === index ? bitcoinTxid(parseTransaction(tx)) : crypto.sha256(Uint8Array.of(i, epoch)),
  );
  const merkleRoot = bitcoinMerkleRoot(txids);
  const time = 1_796_000_000 + epoch;
  const header = concatBytes(le32(0x20000000), filler(32, 6), merkleRoot, le32(time), le32(0x207fffff), le32(epoch));
  const statement: EpochStatement = {
    format: 'vaultmesh.epoch@1',
    federation_id: 'ots-test',
    registry_version: 1,
    target,
    epoch,
    mode: options.node === undefined ? 'collaborative' : 'independent',
    node: options.node ?? null,
    tree_size: 1,
    root: base64Encode(root),
  };
  const evidence: BitcoinChainEvidence = {
    type: 'btc',
    network,
    header: toHex(header),
    tx: toHex(tx),
    index,
    branch: bitcoinMerkleBranch(txids, index).map((h) => toHex(h)),
    height,
  };
  const finalization: EpochFinalization = {
    statement,
    leaves: [],
    signatures: [],
    // Not checked by the export; spelled as the node would (display hex is not needed here).
    anchor: { batch_root: statement.root, target, tx_hash: '00'.repeat(32), block: '00'.repeat(32), timestamp: '' },
    evidence,
    finalized_at: new Date(time * 1000).toISOString(),
    leader: options.node ?? 'alpha.ots.test',
    attempt: 0,
  };
  return { statement, evidence, header, tx, root, merkleRoot, finalization };
}
