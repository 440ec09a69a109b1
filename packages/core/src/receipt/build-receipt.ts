import { RemembrancerError } from '../errors.js';
import { base64Encode } from '../encoding/index.js';
import { parseCheckpoint } from '../checkpoint/checkpoint.js';
import { leafHash, verifyInclusion } from '../merkle/index.js';
import { parseNote } from '../note/signed-note.js';
import { formatTlogProof } from '../tlog-proof/tlog-proof.js';
import { NAMESPACE_ID_PATTERN } from '../namespace/index.js';
import { MAX_RECEIPT_ENTRY_DEPTH, entryLeafData } from '../entry/index.js';
import { RECEIPT_FORMAT, type Receipt } from './receipt.js';

export interface BuildReceiptInput {
  readonly namespace: string;
  readonly origin: string;
  readonly index: number;
  /** The stored entry object. */
  readonly entry: unknown;
  readonly proof: readonly Uint8Array[];
  /** The signed checkpoint note, with whatever cosignatures the node holds. */
  readonly checkpointNote: string;
}

/**
 * Assembles the receipt of one entry. The proof is checked against the checkpoint before anything
 * is handed out, so a node bug (wrong index, stale proof, wrong namespace) fails here instead of
 * in a user's verifier. The checkpoint signature is the signer's business and is not re-verified.
 */
export function buildReceipt(input: BuildReceiptInput): Receipt {
  const { namespace, origin, index, entry, proof, checkpointNote } = input;
  if (!NAMESPACE_ID_PATTERN.test(namespace))
    throw new RemembrancerError('INVALID_NAMESPACE_ID', `invalid namespace id ${JSON.stringify(namespace)}`);
  if (!origin.endsWith('/' + namespace)) {
    throw new RemembrancerError(
      'ORIGIN_MISMATCH',
      `origin ${JSON.stringify(origin)} is not of namespace ${JSON.stringify(namespace)}`,
    );
  }
  const hash = leafHash(entryLeafData(entry, MAX_RECEIPT_ENTRY_DEPTH));
  const checkpoint = parseCheckpoint(parseNote(checkpointNote).text);
  if (checkpoint.origin !== origin) {
    throw new RemembrancerError(
      'ORIGIN_MISMATCH',
      `checkpoint origin ${JSON.stringify(checkpoint.origin)} is not ${JSON.stringify(origin)}`,
    );
  }
  verifyInclusion(index, checkpoint.size, hash, proof, checkpoint.root);
  return {
    format: RECEIPT_FORMAT,
    namespace,
    origin,
    index,
    entry,
    leaf_hash: base64Encode(hash),
    checkpoint: checkpointNote,
    proof: proof.map(base64Encode),
    tlog_proof: formatTlogProof({ index, proof, checkpoint: checkpointNote }),
  };
}
