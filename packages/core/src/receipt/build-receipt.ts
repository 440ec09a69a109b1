import { RemembrancerError } from '../errors.js';
import { base64Encode } from '../encoding/index.js';
import { parseCheckpoint } from '../checkpoint/checkpoint.js';
import { leafHash, verifyInclusion } from '../merkle/index.js';
import { parseNote } from '../note/signed-note.js';
import { TLOG_PROOF_HEADER, formatTlogProof } from '../tlog-proof/tlog-proof.js';
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
  checkReceiptLog(namespace, origin);
  const data = entryLeafData(entry, MAX_RECEIPT_ENTRY_DEPTH);
  return receiptBuilder({ namespace, origin, checkpointNote })(index, data, entry, proof);
}

/** Builds the receipt of one entry from its stored leaf data (see receiptBuilder). */
export type ReceiptBuilder = (
  index: number,
  leafData: Uint8Array,
  entry: unknown,
  proof: readonly Uint8Array[],
) => Receipt;

/**
 * buildReceipt for many entries of one log under one checkpoint (a batch of deliveries, a page):
 * the note is parsed and checked once, not once per entry, and each entry's leaf hash is taken
 * from its leaf data — the bytes the log stores — instead of canonicalizing `entry` again. Each
 * proof is checked against the checkpoint as buildReceipt checks it. `entry` must be the entry
 * object of `leafData` (JSON.parse of those canonical bytes); the receipt carries it as it is.
 */
export function receiptBuilder(input: Omit<BuildReceiptInput, 'index' | 'entry' | 'proof'>): ReceiptBuilder {
  const { namespace, origin, checkpointNote } = input;
  checkReceiptLog(namespace, origin);
  const checkpoint = parseCheckpoint(parseNote(checkpointNote).text);
  if (checkpoint.origin !== origin) {
    throw new RemembrancerError(
      'ORIGIN_MISMATCH',
      `checkpoint origin ${JSON.stringify(checkpoint.origin)} is not ${JSON.stringify(origin)}`,
    );
  }
  // The note is checked as a tlog-proof's checkpoint once, here: formatTlogProof would parse it
  // again for every entry. Each entry's text is then the same format, written out below.
  formatTlogProof({ index: 0, proof: [], checkpoint: checkpointNote });
  return (index, leafData, entry, proof) => {
    const hash = leafHash(leafData);
    verifyInclusion(index, checkpoint.size, hash, proof, checkpoint.root);
    const hashes = proof.map(base64Encode);
    return {
      format: RECEIPT_FORMAT,
      namespace,
      origin,
      index,
      entry,
      leaf_hash: base64Encode(hash),
      checkpoint: checkpointNote,
      proof: hashes,
      tlog_proof: tlogProofText(index, hashes, checkpointNote),
    };
  };
}

/** formatTlogProof's text (no extra data) of hashes already checked and base64-encoded. */
function tlogProofText(index: number, hashes: readonly string[], checkpointNote: string): string {
  let out = `${TLOG_PROOF_HEADER}\nindex ${index}\n`;
  for (const h of hashes) out += h + '\n';
  return out + '\n' + checkpointNote;
}

function checkReceiptLog(namespace: string, origin: string): void {
  if (!NAMESPACE_ID_PATTERN.test(namespace))
    throw new RemembrancerError('INVALID_NAMESPACE_ID', `invalid namespace id ${JSON.stringify(namespace)}`);
  if (!origin.endsWith('/' + namespace)) {
    throw new RemembrancerError(
      'ORIGIN_MISMATCH',
      `origin ${JSON.stringify(origin)} is not of namespace ${JSON.stringify(namespace)}`,
    );
  }
}
