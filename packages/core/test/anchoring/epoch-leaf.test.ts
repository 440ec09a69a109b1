import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NoteSigner,
  RemembrancerError,
  addSignatures,
  base64Encode,
  canonicalBytes,
  compareEpochLeaves,
  epochLeafData,
  formatCheckpoint,
  formatNote,
  parseEpochLeaf,
  parseNote,
  utf8Decode,
  verifyEpochLeaf,
  type EpochLeaf,
} from '../../src/index.js';
import {
  alpha,
  beta,
  delta,
  epsilon,
  eta,
  federation,
  gamma,
  omega,
  refusedAt,
  registry,
  sealedLeaf,
  witnessSigner,
  zeta,
} from './federation.js';

/** Asserts that verifyEpochLeaf fails at `check` (the message names the check, then why). */
function failsAt(leaf: EpochLeaf, check: string, detail?: RegExp) {
  assert.throws(
    () => verifyEpochLeaf(leaf, registry),
    (e: unknown) => {
      assert.ok(e instanceof RemembrancerError && e.code === 'EPOCH_LEAF_INVALID', String(e));
      assert.match(e.message, new RegExp(`: ${check}: `));
      if (detail) assert.match(e.message, detail);
      return true;
    },
  );
}

test('a sealed leaf verifies and names its allowlisted cosigners, in allowlist order', () => {
  const leaf = sealedLeaf(alpha, 'dao:vaultmesh', 7, { cosigners: [gamma, beta], allowlist: [beta, gamma, delta] });
  assert.deepEqual(verifyEpochLeaf(leaf, registry), { cosigners: [beta.id, gamma.id] });
  // min_required 0 needs no cosignature; probation and role-less peers still witness.
  assert.deepEqual(verifyEpochLeaf(sealedLeaf(alpha, 'a:b', 1, { cosigners: [], allowlist: [], min: 0 }), registry), {
    cosigners: [],
  });
  assert.deepEqual(
    verifyEpochLeaf(sealedLeaf(beta, 'a:b', 1, { cosigners: [eta, zeta], allowlist: [zeta, eta] }), registry).cosigners,
    [zeta.id, eta.id],
  );
  // A probation owner's logs still count; only suspension stops them.
  assert.deepEqual(verifyEpochLeaf(sealedLeaf(eta, 'a:b', 2), registry).cosigners, [beta.id, gamma.id]);
});

test("the checkpoint must be a signed note of exactly the leaf's origin, size and root", () => {
  const leaf = sealedLeaf(alpha, 'dao:vaultmesh', 7);
  failsAt({ ...leaf, size: 8 }, 'checkpoint', /not the checkpoint/);
  failsAt({ ...leaf, root: base64Encode(new Uint8Array(32)) }, 'checkpoint', /not the checkpoint/);
  failsAt({ ...leaf, origin: `${alpha.id}/dao:other` }, 'checkpoint');
  failsAt({ ...leaf, checkpoint: 'not a note' }, 'checkpoint', /not a signed note/);
  // An extension line is not our checkpoint, even when the log signed it.
  const body = formatCheckpoint({ origin: leaf.origin, size: 7, root: Buffer.from(leaf.root, 'base64') }) + 'ext\n';
  const withExtension = formatNote({ text: body, signatures: [alpha.logSigner('dao:vaultmesh').sign(body)] });
  failsAt({ ...leaf, checkpoint: withExtension }, 'checkpoint');
});

test("the log signature is checked with the registry log key of the origin's owner", () => {
  const leaf = sealedLeaf(alpha, 'dao:vaultmesh', 7);
  // Signed under the origin's key name, but with beta's log key.
  const forged = sealedLeaf(
    { ...alpha, logSigner: (ns) => new NoteSigner(`${alpha.id}/${ns}`, beta.logSeed) },
    'dao:vaultmesh',
    7,
  );
  failsAt(forged, 'log signature', /not signed by the log key of alpha/);
  // The log signature removed: only cosignatures remain.
  const note = parseNote(leaf.checkpoint);
  failsAt(
    { ...leaf, checkpoint: formatNote({ text: note.text, signatures: note.signatures.slice(1) }) },
    'log signature',
  );
  // A corrupted log signature.
  const bad = { ...note.signatures[0]!, signature: note.signatures[0]!.signature.map((b, i) => (i === 9 ? b ^ 1 : b)) };
  failsAt(
    { ...leaf, checkpoint: formatNote({ text: note.text, signatures: [bad, ...note.signatures.slice(1)] }) },
    'log signature',
  );
  // A registry version that rotated alpha's log key no longer accepts it.
  const rotated = {
    ...registry,
    peers: registry.peers.map((p) =>
      p.id === alpha.id ? { ...p, log_vkey: new NoteSigner(alpha.id, new Uint8Array(32).fill(99)).vkey } : p,
    ),
  };
  assert.throws(() => verifyEpochLeaf(leaf, rotated), /log signature/);
});

test('logs of unknown or suspended owners are refused', () => {
  failsAt(sealedLeaf(omega, 'dao:vaultmesh', 7), 'log owner', /lists no peer/);
  failsAt(sealedLeaf(epsilon, 'dao:vaultmesh', 7), 'log owner', /suspended/);
});

test('only allowlisted, registered, unsuspended witnesses count, each once', () => {
  // alpha cosigned but is not allowlisted: one of two.
  failsAt(
    sealedLeaf(gamma, 'dao:x', 3, { cosigners: [alpha, beta], allowlist: [beta, delta] }),
    'cosignatures',
    /1 of 2 required \(allowlisted cosigners: beta\.vaultmesh\.local\)/,
  );
  // epsilon is suspended, omega not in the registry: neither counts even when allowlisted.
  failsAt(
    sealedLeaf(gamma, 'dao:x', 3, { cosigners: [epsilon, omega, beta], allowlist: [epsilon, omega, beta] }),
    'cosignatures',
    /1 of 2 required/,
  );
  // Not enough.
  failsAt(sealedLeaf(alpha, 'dao:x', 3, { cosigners: [beta, gamma], min: 3 }), 'cosignatures', /2 of 3 required/);
  failsAt(
    sealedLeaf(alpha, 'dao:x', 3, { cosigners: [], allowlist: [beta], min: 1 }),
    'cosignatures',
    /0 of 1 required \(allowlisted cosigners: none\)/,
  );
  // The same cosignature twice counts once (addSignatures would replace it; a hand-made note may not).
  const once = sealedLeaf(alpha, 'dao:x', 3, { cosigners: [beta], allowlist: [beta, gamma] });
  const n = parseNote(once.checkpoint);
  failsAt(
    { ...once, checkpoint: formatNote({ text: n.text, signatures: [...n.signatures, n.signatures[1]!] }) },
    'cosignatures',
    /1 of 2 required/,
  );
});

test('a forged or replayed cosignature of an allowlisted witness rejects the leaf', () => {
  const leaf = sealedLeaf(alpha, 'dao:vaultmesh', 7, { cosigners: [beta, gamma, delta], min: 2 });
  const note = parseNote(leaf.checkpoint);
  const corrupt = note.signatures.map((s, i) =>
    i === 2 ? { ...s, signature: s.signature.map((b, j) => (j === 20 ? b ^ 0x40 : b)) } : s,
  );
  failsAt(
    { ...leaf, checkpoint: formatNote({ text: note.text, signatures: corrupt }) },
    'cosignatures',
    /forged or corrupted/,
  );
  // gamma's cosignature of another checkpoint of the same log.
  const other = sealedLeaf(alpha, 'dao:vaultmesh', 8, { cosigners: [gamma] });
  const replayed = parseNote(other.checkpoint).signatures[1]!;
  failsAt(
    {
      ...leaf,
      checkpoint: formatNote({ text: note.text, signatures: [note.signatures[0]!, note.signatures[1]!, replayed] }),
    },
    'cosignatures',
    /forged or corrupted/,
  );
  // Cosignatures by keys the registry does not hold are ignored (https://c2sp.org/signed-note#signatures).
  const stranger = witnessSigner({ ...omega, id: beta.id, witnessSeed: new Uint8Array(32).fill(77) });
  const body = note.text;
  assert.deepEqual(
    verifyEpochLeaf(
      { ...leaf, checkpoint: addSignatures(leaf.checkpoint, [{ ...stranger.cosign(body, 1), keyId: 0x01020304 }]) },
      registry,
    ).cosigners,
    [beta.id, gamma.id, delta.id],
  );
});

test('the witness policy must be well-formed: node names, none twice', () => {
  const leaf = sealedLeaf(alpha, 'dao:vaultmesh', 7);
  const code = (e: unknown) => e instanceof RemembrancerError && e.code === 'EPOCH_LEAF_INVALID';
  for (const allowlist of [[beta.id, beta.id], ['Beta'], [''], [7]] as unknown[][]) {
    assert.throws(
      () => verifyEpochLeaf({ ...leaf, witness_policy: { min_required: 1, allowlist } as never }, registry),
      code,
    );
  }
});

test('parseEpochLeaf: exactly the members, with their JSON pointer on failure', () => {
  const leaf = sealedLeaf(alpha, 'dao:vaultmesh', 7);
  assert.deepEqual(parseEpochLeaf(JSON.parse(JSON.stringify(leaf))), leaf);
  const pointerOf = (v: unknown) => refusedAt(parseEpochLeaf, 'EPOCH_LEAF_INVALID', v);
  const { checkpoint: _c, ...noCheckpoint } = leaf;
  assert.equal(pointerOf(null), '');
  assert.equal(pointerOf([leaf]), '');
  assert.equal(pointerOf({ ...leaf, extra: 1 }), '/extra');
  assert.equal(pointerOf(noCheckpoint), '/checkpoint');
  assert.equal(pointerOf({ ...leaf, origin: 'alpha.vaultmesh.local' }), '/origin');
  assert.equal(pointerOf({ ...leaf, origin: 'Alpha/dao:x' }), '/origin');
  assert.equal(pointerOf({ ...leaf, size: 0 }), '/size');
  assert.equal(pointerOf({ ...leaf, size: 1.5 }), '/size');
  assert.equal(pointerOf({ ...leaf, size: '7' }), '/size');
  assert.equal(pointerOf({ ...leaf, size: 2 ** 53 }), '/size');
  assert.equal(pointerOf({ ...leaf, root: 'AAAA' }), '/root');
  // Non-zero trailing bits: a second spelling of the same bytes is refused.
  assert.equal(pointerOf({ ...leaf, root: leaf.root.slice(0, 42) + 'B=' }), '/root');
  assert.equal(pointerOf({ ...leaf, checkpoint: '' }), '/checkpoint');
  assert.equal(pointerOf({ ...leaf, checkpoint: 'x'.repeat(65_537) }), '/checkpoint');
  assert.equal(pointerOf({ ...leaf, witness_policy: { min_required: 1 } }), '/witness_policy/allowlist');
  assert.equal(pointerOf({ ...leaf, witness_policy: { ...leaf.witness_policy, x: 1 } }), '/witness_policy/x');
  assert.equal(
    pointerOf({ ...leaf, witness_policy: { ...leaf.witness_policy, min_required: -1 } }),
    '/witness_policy/min_required',
  );
  assert.equal(
    pointerOf({ ...leaf, witness_policy: { ...leaf.witness_policy, min_required: 257 } }),
    '/witness_policy/min_required',
  );
  assert.equal(
    pointerOf({ ...leaf, witness_policy: { min_required: 0, allowlist: [beta.id, beta.id] } }),
    '/witness_policy/allowlist/1',
  );
  assert.equal(
    pointerOf({ ...leaf, witness_policy: { min_required: 0, allowlist: Array(257).fill('a') } }),
    '/witness_policy/allowlist',
  );
  // 65,536 code points is the bound, whatever their UTF-16 length.
  assert.equal(parseEpochLeaf({ ...leaf, checkpoint: '😀'.repeat(65_536) }).checkpoint.length, 131_072);
});

test('leaf data is the canonical JSON of exactly the leaf; leaves order by origin bytes, then size', () => {
  const leaf = sealedLeaf(alpha, 'dao:vaultmesh', 7);
  const data = epochLeafData(leaf);
  assert.deepEqual(data, canonicalBytes(leaf));
  assert.ok(utf8Decode(data).startsWith('{"checkpoint":'));
  assert.throws(() => epochLeafData({ ...leaf, extra: 1 } as EpochLeaf), RemembrancerError);
  const a = { ...leaf, origin: 'a.b/x:y' };
  const b = { ...leaf, origin: 'a.b/x:z' };
  const c = { ...leaf, origin: 'a/x:y' };
  assert.ok(compareEpochLeaves(a, b) < 0);
  assert.ok(compareEpochLeaves(b, a) > 0);
  assert.ok(compareEpochLeaves(c, a) > 0, "'/' (0x2f) sorts after '.' (0x2e)");
  assert.ok(compareEpochLeaves({ ...a, size: 2 }, { ...a, size: 10 }) < 0);
  assert.equal(compareEpochLeaves(a, { ...a }), 0);
  // Beyond the ASCII of origins: UTF-8 byte order, not UTF-16 code unit order.
  assert.ok(compareEpochLeaves({ ...a, origin: '\uffff' }, { ...a, origin: '😀' }) < 0);
});

test('verification uses the registry version it is given', () => {
  const leaf = sealedLeaf(alpha, 'dao:vaultmesh', 7);
  const v2 = federation('hybrid', 2);
  assert.deepEqual(verifyEpochLeaf(leaf, v2).cosigners, [beta.id, gamma.id]);
  const betaSuspended = {
    ...v2,
    peers: v2.peers.map((p) => (p.id === beta.id ? { ...p, status: 'suspended' as const } : p)),
  };
  assert.throws(() => verifyEpochLeaf(leaf, betaSuspended), /cosignatures: 1 of 2 required/);
});
