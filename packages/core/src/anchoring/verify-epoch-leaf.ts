import { RemembrancerError, errorMessage } from '../errors.js';
import { base64Decode } from '../encoding/index.js';
import { formatCheckpoint } from '../checkpoint/checkpoint.js';
import { openCheckpointNote } from '../checkpoint/open-checkpoint.js';
import { CosignatureVerifier } from '../cosignature/cosignature-verifier.js';
import { collectNoteCosignatures } from '../cosignature/verify-cosignature.js';
import { logVerifierForOrigin, peerById, peerForOrigin } from '../federation/registry-peers.js';
import { peerWitnessKeyName, type RegistrySet } from '../federation/registry-set.js';
import { parseNote, type Note } from '../note/signed-note.js';
import { parseEpochLeaf, type EpochLeaf } from './epoch-leaf.js';

function invalid(leaf: EpochLeaf, check: string, why: string, cause?: unknown): never {
  throw new RemembrancerError(
    'EPOCH_LEAF_INVALID',
    `epoch leaf of ${JSON.stringify(leaf.origin)}: ${check}: ${why}`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Which allowlisted peers validly cosigned `note`: each allowlisted peer that the registry lists
 * and has not suspended counts once, with the cosignature/v1 key the registry holds for it
 * (https://c2sp.org/tlog-cosignature). The same rule as the node's sealing, so a leaf sealed on
 * its node verifies here. Throws (SIGNATURE_INVALID, COSIGNATURE_MALFORMED) when an allowlisted
 * witness's cosignature is forged or corrupted: https://c2sp.org/signed-note#signatures says a
 * failing signature from a trusted key SHOULD reject the whole note.
 */
function allowlistedCosigners(note: Note, allowlist: readonly string[], registry: RegistrySet): string[] {
  const verifiers = new Map<string, CosignatureVerifier>();
  for (const id of allowlist) {
    const peer = peerById(registry, id);
    if (peer === undefined || peer.status === 'suspended') continue;
    verifiers.set(peerWitnessKeyName(id), CosignatureVerifier.fromVkey(peer.witness_vkey));
  }
  const found = new Set(collectNoteCosignatures(note, [...verifiers.values()]).map((c) => c.name));
  return allowlist.filter((id) => found.has(peerWitnessKeyName(id)));
}

/**
 * What every signer checks about a leaf before it signs an epoch root, and what a receipt's
 * verifier checks again (https://c2sp.org/tlog-checkpoint, https://c2sp.org/tlog-cosignature):
 * - form: parseEpochLeaf (allowlist entries are node names, none twice);
 * - checkpoint: the note parses and its body is exactly the C2SP checkpoint of the leaf's origin,
 *   size and root (no extension lines);
 * - log owner: the registry lists the peer whose node name the origin starts with, not suspended;
 * - log signature: that peer's `log_vkey`, under the origin's key name, signed the note;
 * - cosignatures: at least `witness_policy.min_required` allowlisted peers that the registry lists
 *   and has not suspended cosigned it with their registry `witness_vkey`, each counting once.
 * Returns those cosigners in allowlist order. Throws EPOCH_LEAF_INVALID naming the failed check.
 * `leaf` is attacker-controlled; `registry` is the version the epoch statement names.
 */
export function verifyEpochLeaf(leaf: EpochLeaf, registry: RegistrySet): { cosigners: string[] } {
  const l = parseEpochLeaf(leaf);
  let note: Note;
  try {
    note = parseNote(l.checkpoint);
  } catch (e) {
    invalid(l, 'checkpoint', `not a signed note: ${errorMessage(e)}`, e);
  }
  let body: string;
  try {
    body = formatCheckpoint({ origin: l.origin, size: l.size, root: base64Decode(l.root) });
  } catch (e) {
    invalid(l, 'checkpoint', errorMessage(e), e);
  }
  // Comparing text is exact: the checkpoint format has one spelling per (origin, size, root).
  if (note.text !== body)
    invalid(l, 'checkpoint', "the note body is not the checkpoint of the leaf's origin, size and root");

  const owner = peerForOrigin(registry, l.origin);
  if (owner === undefined)
    invalid(l, 'log owner', `registry version ${registry.version} lists no peer owning this origin`);
  if (owner.status === 'suspended') invalid(l, 'log owner', `peer ${owner.id} is suspended`);
  try {
    openCheckpointNote(note, logVerifierForOrigin(owner, l.origin));
  } catch (e) {
    invalid(l, 'log signature', `not signed by the log key of ${owner.id}: ${errorMessage(e)}`, e);
  }

  let cosigners: string[];
  try {
    cosigners = allowlistedCosigners(note, l.witness_policy.allowlist, registry);
  } catch (e) {
    invalid(l, 'cosignatures', `an allowlisted witness's cosignature is forged or corrupted: ${errorMessage(e)}`, e);
  }
  const k = l.witness_policy.min_required;
  if (cosigners.length < k) {
    invalid(
      l,
      'cosignatures',
      `${cosigners.length} of ${k} required (allowlisted cosigners: ${cosigners.join(', ') || 'none'})`,
    );
  }
  return { cosigners };
}
