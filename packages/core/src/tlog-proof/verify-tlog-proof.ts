import { RemembrancerError } from '../errors.js';
import type { ParsedCheckpoint } from '../checkpoint/checkpoint.js';
import { openCheckpointNote } from '../checkpoint/open-checkpoint.js';
import type { CosignatureVerifier } from '../cosignature/cosignature-verifier.js';
import { collectNoteCosignatures, type Cosigner } from '../cosignature/verify-cosignature.js';
import { leafHash as rfc6962LeafHash, verifyInclusion } from '../merkle/index.js';
import type { NoteVerifier } from '../note/note-verifier.js';
import { parseTlogProof } from './tlog-proof.js';

/** What the proof must show is in the log: its RFC 6962 leaf hash, or the leaf data to hash. */
export type TlogProofLeaf = { readonly leafHash: Uint8Array } | { readonly data: Uint8Array };

export interface TlogProofVerification {
  readonly index: number;
  readonly leafHash: Uint8Array;
  readonly checkpoint: ParsedCheckpoint;
  /** The given witnesses that validly cosigned, in note order; a quorum is the caller's policy. */
  readonly cosigners: Cosigner[];
  /** Unauthenticated (https://c2sp.org/tlog-proof#format): never trust it implicitly. */
  readonly extraData?: Uint8Array;
}

export interface VerifyTlogProofOptions {
  readonly witnessVerifiers?: readonly CosignatureVerifier[];
}

/**
 * Verifies a tlog-proof in the order of https://c2sp.org/tlog-proof#verifying-a-tlog-proof:
 * (1) the leaf hash, (2) the checkpoint's origin has a trusted log key and it signed,
 * (3) cosignatures of known witnesses, (4) the inclusion proof binds the leaf to the signed root.
 * Throws a RemembrancerError on the first failure. `text` is attacker-controlled.
 */
export function verifyTlogProof(
  text: string,
  leaf: TlogProofLeaf,
  logVerifiers: NoteVerifier | readonly NoteVerifier[],
  options: VerifyTlogProofOptions = {},
): TlogProofVerification {
  const parsed = parseTlogProof(text);
  const hash = 'leafHash' in leaf ? leaf.leafHash : rfc6962LeafHash(leaf.data);
  if (!(hash instanceof Uint8Array) || hash.length !== 32) {
    throw new RemembrancerError('INVALID_ARGUMENT', 'leaf hash must be 32 bytes');
  }
  const { checkpoint } = openCheckpointNote(parsed.note, logVerifiers);
  const cosigners = options.witnessVerifiers ? collectNoteCosignatures(parsed.note, options.witnessVerifiers) : [];
  verifyInclusion(parsed.index, checkpoint.size, hash, parsed.proof, checkpoint.root);
  const result = { index: parsed.index, leafHash: hash, checkpoint, cosigners };
  return parsed.extraData === undefined ? result : { ...result, extraData: parsed.extraData };
}
