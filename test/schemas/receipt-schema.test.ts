import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { MemoryTree, NoteSigner, buildReceipt, canonicalBytes, crypto, signCheckpoint } from '@vaultmesh/core';

const schema = JSON.parse(
  readFileSync(new URL('../../schemas/vaultmesh.receipt@1.0.0.json', import.meta.url), 'utf8'),
) as object;
const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);

function realReceipt() {
  const origin = 'alpha.vaultmesh.local/dao:vaultmesh';
  const signer = new NoteSigner(origin, crypto.randomBytes(32));
  const tree = new MemoryTree();
  const entries = Array.from({ length: 11 }, (_, i) => ({ i, text: `memory ${i}` }));
  for (const e of entries) tree.append(canonicalBytes(e));
  const note = signCheckpoint({ origin, size: tree.size, root: tree.root() }, signer);
  return buildReceipt({
    namespace: 'dao:vaultmesh',
    origin,
    index: 7,
    entry: entries[7],
    proof: tree.inclusionProof(7, tree.size),
    checkpointNote: note,
  });
}

test('a real receipt matches vaultmesh.receipt@1.0.0', () => {
  const receipt = realReceipt();
  assert.ok(validate(receipt), JSON.stringify(validate.errors));
  assert.ok(validate({ ...receipt, sealed: true }), 'later fields are allowed');
});

test('the schema rejects malformed receipts', () => {
  const receipt = realReceipt();
  for (const bad of [
    { ...receipt, format: 'vaultmesh.receipt@2' },
    { ...receipt, namespace: 'Not A Namespace' },
    { ...receipt, index: -1 },
    { ...receipt, entry: [1, 2] },
    { ...receipt, leaf_hash: 'short' },
    { ...receipt, proof: ['not base64!'] },
    { ...receipt, tlog_proof: 'something else' },
    Object.fromEntries(Object.entries(receipt).filter(([k]) => k !== 'checkpoint')),
  ]) {
    assert.equal(validate(bad), false, JSON.stringify(bad).slice(0, 80));
  }
});
