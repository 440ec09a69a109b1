// Issue 11, item 4: the Bitcoin anchor exported as a standard OpenTimestamps proof, "binary format
// as in the python-opentimestamps reference: file digest = the epoch root, the ops to the
// transaction and up the block's merkle tree, a Bitcoin block-header attestation at the height",
// checked with Debian's python3-opentimestamps against the block header.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RemembrancerError, bitcoinOtsProof, crypto, toHex } from '../../src/index.js';
import { concatBytes } from '../../src/encoding/index.js';
import { bitcoinMerkleBranch, bitcoinMerkleRoot, doubleSha256 } from '../../src/bitcoin/index.js';

// Debian's interpreter: the reference library is a Debian package, not on a pyenv python's path.
const PYTHON = '/usr/bin/python3';
const hasReference = spawnSync(PYTHON, ['-c', 'import opentimestamps, bitcoin'], { stdio: 'ignore' }).status === 0;

const le32 = (n: number) => Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + 1) & 0xff);

/** A legacy transaction: one input, a payment and a `6a20<root>` OP_RETURN output. */
function anchoringTx(root: Uint8Array): Uint8Array {
  const payment = concatBytes(
    Uint8Array.of(0x10, 0x27, 0, 0, 0, 0, 0, 0), // 10,000 sats
    Uint8Array.of(0x16, 0x00, 0x14),
    bytes(20, 9),
  );
  const opReturn = concatBytes(new Uint8Array(8), Uint8Array.of(0x22, 0x6a, 0x20), root);
  return concatBytes(
    le32(2),
    Uint8Array.of(1),
    bytes(32, 3),
    le32(1),
    Uint8Array.of(0),
    le32(0xfffffffd),
    Uint8Array.of(2),
    payment,
    opReturn,
    le32(0),
  );
}

/** A block of `count` transactions with the anchoring one at `index`, and its 80-byte header. */
function block(root: Uint8Array, index: number, count: number) {
  const tx = anchoringTx(root);
  const txids = Array.from({ length: count }, (_, i) => (i === index ? doubleSha256(tx) : crypto.sha256(bytes(8, i))));
  const header = concatBytes(
    le32(0x20000000),
    bytes(32, 5),
    bitcoinMerkleRoot(txids),
    le32(1_796_000_000),
    le32(0x207fffff),
    le32(7),
  );
  return { tx, header, branch: bitcoinMerkleBranch(txids, index), merkle: bitcoinMerkleRoot(txids) };
}

const REFERENCE_CHECK = `
import json, sys
from bitcoin.core import CBlockHeader
from opentimestamps.core.notary import BitcoinBlockHeaderAttestation
from opentimestamps.core.serialize import BytesDeserializationContext
from opentimestamps.core.timestamp import DetachedTimestampFile
ots = open(sys.argv[1], 'rb').read()
header = CBlockHeader.deserialize(open(sys.argv[2], 'rb').read())
f = DetachedTimestampFile.deserialize(BytesDeserializationContext(ots))
out = {'digest': f.file_digest.hex(), 'attestations': []}
for msg, att in f.timestamp.all_attestations():
    entry = {'type': type(att).__name__}
    if isinstance(att, BitcoinBlockHeaderAttestation):
        entry['height'] = att.height
        try:
            entry['time'] = att.verify_against_blockheader(msg, header)
        except Exception as e:
            entry['error'] = str(e)
    out['attestations'].append(entry)
print(json.dumps(out))
`;

function referenceCheck(
  ots: Uint8Array,
  header: Uint8Array,
): { digest: string; attestations: Record<string, unknown>[] } {
  const dir = mkdtempSync(join(tmpdir(), 'remembrancer-ots-'));
  try {
    writeFileSync(join(dir, 'anchor.ots'), ots);
    writeFileSync(join(dir, 'header.bin'), header);
    const out = execFileSync(PYTHON, ['-c', REFERENCE_CHECK, join(dir, 'anchor.ots'), join(dir, 'header.bin')], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    return JSON.parse(out) as { digest: string; attestations: Record<string, unknown>[] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the operations take the root through the transaction and the branch to the merkle root', () => {
  const root = crypto.sha256(Uint8Array.of(1, 2, 3));
  for (const [index, count] of [
    [0, 1],
    [2, 5],
    [4, 5],
    [6, 7],
  ] as const) {
    const b = block(root, index, count);
    const proof = bitcoinOtsProof({ root, txStripped: b.tx, index, branch: b.branch, height: 120 });
    assert.deepEqual(proof.commitment, b.merkle, `index ${index} of ${count}`);
  }
});

test('bad input is refused with INVALID_ARGUMENT', () => {
  const root = crypto.sha256(Uint8Array.of(4));
  const b = block(root, 1, 3);
  const ok = { root, txStripped: b.tx, index: 1, branch: b.branch, height: 5 };
  const refused = (input: Partial<typeof ok>) =>
    assert.throws(
      () => bitcoinOtsProof({ ...ok, ...input }),
      (e: unknown) => e instanceof RemembrancerError && e.code === 'INVALID_ARGUMENT',
    );
  refused({ root: crypto.sha256(Uint8Array.of(5)) }); // not in the transaction
  refused({ root: root.subarray(0, 20) });
  refused({ index: 4 }); // does not fit a two-level branch
  refused({ height: -1 });
  refused({ branch: [b.branch[0]!.subarray(1), b.branch[1]!] });
  refused({ txStripped: concatBytes(b.tx, new Uint8Array(5000)) });
});

test(
  'python-opentimestamps reads the proof: file digest = the root, a Bitcoin attestation at the height that verifies against the header',
  {
    skip: hasReference
      ? false
      : `${PYTHON} has no opentimestamps module (Debian package python3-opentimestamps; .ci/run installs it)`,
  },
  () => {
    const root = crypto.sha256(Uint8Array.of(9, 9));
    const b = block(root, 5, 11);
    const proof = bitcoinOtsProof({ root, txStripped: b.tx, index: 5, branch: b.branch, height: 4242 });
    const seen = referenceCheck(proof.ots, b.header);
    assert.equal(seen.digest, toHex(root));
    // "verify_against_blockheader": the digest must equal the header's hashMerkleRoot; it returns nTime.
    assert.deepEqual(seen.attestations, [{ type: 'BitcoinBlockHeaderAttestation', height: 4242, time: 1_796_000_000 }]);

    // One byte of a sibling hash changed: the reference still reads it, and the header check fails.
    const tampered = proof.ots.slice();
    const sibling = b.branch[1]!;
    const at = tampered.findIndex((_, i) => sibling.every((x, j) => tampered[i + j] === x));
    assert.ok(at > 0);
    tampered[at + 3] = tampered[at + 3]! ^ 0x01;
    const bad = referenceCheck(tampered, b.header);
    assert.equal(bad.attestations.length, 1);
    assert.match(String(bad.attestations[0]!.error), /merkleroot/i);
  },
);
