import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MemoryTree,
  NoteSigner,
  buildReceipt,
  canonicalBytes,
  formatCheckpoint,
  receiptBuilder,
  signCheckpoint,
  verifyReceipt,
} from '../../src/index.js';

const namespace = 'dao:batch';
const origin = `alpha.vaultmesh.local/${namespace}`;
const log = new NoteSigner(origin, new Uint8Array(32).fill(7));
const entries = Array.from({ length: 37 }, (_, i) => ({ kind: 'memo', n: i, text: `entry ${i} é` }));
const tree = new MemoryTree();
for (const e of entries) tree.append(canonicalBytes(e));
const cp = { origin, size: tree.size, root: tree.root() };
const checkpointNote = signCheckpoint(cp, log);

test('receiptBuilder builds, from the leaf data, exactly the receipt buildReceipt builds', () => {
  const build = receiptBuilder({ namespace, origin, checkpointNote });
  for (let i = 0; i < entries.length; i++) {
    const proof = tree.inclusionProof(i, tree.size);
    const one = buildReceipt({ namespace, origin, index: i, entry: entries[i], proof, checkpointNote });
    const many = build(i, canonicalBytes(entries[i]), entries[i], proof);
    assert.deepEqual(many, one);
    assert.ok(verifyReceipt(JSON.parse(JSON.stringify(many)), { logVkeys: [log.vkey] }).ok);
  }
});

test('receiptBuilder checks every proof against the checkpoint, and the log once', () => {
  const build = receiptBuilder({ namespace, origin, checkpointNote });
  const proof = tree.inclusionProof(4, tree.size);
  assert.throws(() => build(5, canonicalBytes(entries[4]), entries[4], proof), { code: 'PROOF_MISMATCH' });
  assert.throws(() => build(4, canonicalBytes(entries[5]), entries[5], proof), { code: 'PROOF_MISMATCH' });
  assert.throws(() => build(4, canonicalBytes(entries[4]), entries[4], proof.slice(1)), { code: 'PROOF_MALFORMED' });
  assert.throws(() => receiptBuilder({ namespace, origin: 'x/dao:batch', checkpointNote }), {
    code: 'ORIGIN_MISMATCH',
  });
  assert.throws(() => receiptBuilder({ namespace: 'dao:other', origin, checkpointNote }), { code: 'ORIGIN_MISMATCH' });
  assert.throws(() => receiptBuilder({ namespace: 'BAD', origin, checkpointNote }), { code: 'INVALID_NAMESPACE_ID' });
  assert.throws(() => receiptBuilder({ namespace, origin, checkpointNote: formatCheckpoint(cp) }), {
    code: 'NOTE_MALFORMED',
  });
});
