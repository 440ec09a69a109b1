import { RemembrancerError } from '../errors.js';
import { parseCheckpoint } from '../checkpoint/checkpoint.js';
import { parseNote, type Note, type NoteSignature } from '../note/signed-note.js';
import type { CosignatureVerifier } from './cosignature-verifier.js';
import { splitTimestampedSignature } from './cosigned-message.js';

/** A witness that validly cosigned a checkpoint. */
export interface Cosigner {
  readonly name: string;
  readonly keyId: number;
  /** POSIX seconds at which the witness cosigned. */
  readonly timestamp: number;
}

/**
 * Verifies one cosignature/v1 signature line on a checkpoint body and returns its timestamp.
 * SIGNATURE_INVALID if the line is not from this witness key or does not verify;
 * COSIGNATURE_MALFORMED if the payload is not a timestamped_signature or its timestamp lies beyond
 * 2^53 - 1 seconds (the spec lets verifiers reject future timestamps, and such a value cannot be
 * represented exactly here). `signature` is attacker-controlled.
 */
export function verifyCosignature(
  checkpointBody: string,
  signature: NoteSignature,
  verifier: CosignatureVerifier,
): number {
  if (signature.name !== verifier.name || signature.keyId !== verifier.keyId) {
    throw new RemembrancerError(
      'SIGNATURE_INVALID',
      `signature by ${JSON.stringify(signature.name)} is not from witness key ${JSON.stringify(verifier.name)}`,
    );
  }
  const { timestamp } = splitTimestampedSignature(signature.signature);
  if (!verifier.verify(checkpointBody, signature.signature)) {
    throw new RemembrancerError(
      'SIGNATURE_INVALID',
      `cosignature by trusted witness ${JSON.stringify(verifier.name)} does not verify`,
    );
  }
  if (timestamp > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RemembrancerError(
      'COSIGNATURE_MALFORMED',
      `cosignature by ${JSON.stringify(verifier.name)} has a timestamp in the far future`,
    );
  }
  return Number(timestamp);
}

/** collectCosignatures on an already parsed note whose text is a checkpoint. */
export function collectNoteCosignatures(note: Note, witnessVerifiers: readonly CosignatureVerifier[]): Cosigner[] {
  const out: Cosigner[] = [];
  for (const sig of note.signatures) {
    const matching = witnessVerifiers.filter((v) => v.name === sig.name && v.keyId === sig.keyId);
    if (matching.length === 0) continue; // https://c2sp.org/signed-note#signatures: unknown keys are ignored
    let timestamp: number | undefined;
    let failure: unknown;
    for (const v of matching) {
      try {
        timestamp = verifyCosignature(note.text, sig, v);
        break;
      } catch (e) {
        failure = e;
      }
    }
    // A failing signature from a trusted witness means forgery or corruption: reject the note
    // (https://c2sp.org/signed-note#signatures, "clients SHOULD reject the whole note").
    if (timestamp === undefined) throw failure;
    if (!out.some((c) => c.name === sig.name && c.keyId === sig.keyId)) {
      out.push({ name: sig.name, keyId: sig.keyId, timestamp });
    }
  }
  return out;
}

/**
 * Which of the given witnesses validly cosigned the checkpoint in `noteText`, in note order.
 * The log's own signature is not checked here (see openCheckpoint). `noteText` is
 * attacker-controlled.
 */
export function collectCosignatures(noteText: string, witnessVerifiers: readonly CosignatureVerifier[]): Cosigner[] {
  const note = parseNote(noteText);
  parseCheckpoint(note.text);
  return collectNoteCosignatures(note, witnessVerifiers);
}
