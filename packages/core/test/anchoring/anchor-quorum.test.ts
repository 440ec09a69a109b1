import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  RemembrancerError,
  anchorQuorum,
  anchorSigners,
  createGenesis,
  crypto,
  epochLeader,
  utf8Encode,
} from '../../src/index.js';
import { makePeer } from '../federation/peers.js';
import { ANCHOR_SIGNERS, TARGET, alpha, registry, zeta } from './federation.js';

const SEED = Number(process.env['FC_SEED'] ?? 20250311);
const ids = (ps: readonly { id: string }[]) => ps.map((p) => p.id);

test('anchor signers: active peers with the anchor role, sorted by id', () => {
  // gamma is listed first, epsilon is suspended, eta on probation, zeta has no anchor role.
  assert.deepEqual(ids(anchorSigners(registry)), ids(ANCHOR_SIGNERS));
  assert.deepEqual(ids(ANCHOR_SIGNERS), [...ids(ANCHOR_SIGNERS)].sort());
  assert.equal(anchorQuorum(registry), 3);
});

test('the quorum is a strict majority: floor(n/2) + 1', () => {
  for (let n = 1; n <= 9; n++) {
    const peers = Array.from({ length: n }, (_, i) => makePeer(`p${i}`, 20 + i).peer);
    const reg = createGenesis({
      federation_id: 'q',
      peers,
      quorum: { witness: 1, registry: 1 },
      anchor_strategy: 'collaborative',
      effective_after: '2025-01-01T00:00:00Z',
    });
    assert.equal(anchorQuorum(reg), Math.floor(n / 2) + 1);
    // Two quorums always share a signer.
    assert.ok(2 * anchorQuorum(reg) > n);
  }
});

test('no anchor signers: ANCHOR_NO_SIGNERS', () => {
  const reg = createGenesis({
    federation_id: 'q',
    peers: [zeta.peer, { ...alpha.peer, roles: ['log'] }],
    quorum: { witness: 1, registry: 1 },
    anchor_strategy: 'collaborative',
    effective_after: '2025-01-01T00:00:00Z',
  });
  assert.deepEqual(anchorSigners(reg), []);
  const noSigners = (e: unknown) => e instanceof RemembrancerError && e.code === 'ANCHOR_NO_SIGNERS';
  assert.throws(() => anchorQuorum(reg), noSigners);
  assert.throws(() => epochLeader(reg, TARGET, 1, 0), noSigners);
});

test('the leader is signers[(h + attempt) mod n], h = first 4 bytes of SHA-256("target\\nepoch")', () => {
  const signers = anchorSigners(registry);
  for (const [target, epoch] of [
    [TARGET, 0],
    [TARGET, 480_000],
    ['eip155:1', 17],
  ] as const) {
    const d = crypto.sha256(utf8Encode(`${target}\n${epoch}`));
    const h = new DataView(d.buffer, d.byteOffset, 4).getUint32(0);
    for (let attempt = 0; attempt < 6; attempt++) {
      assert.equal(epochLeader(registry, target, epoch, attempt).id, signers[(h + attempt) % signers.length]!.id);
    }
  }
});

test('leaders are deterministic, and consecutive attempts cover every signer (fast-check)', () => {
  const n = anchorSigners(registry).length;
  fc.assert(
    fc.property(
      fc.constantFrom(TARGET, 'rfc3161:other', 'eip155:11155111', 'btc:regtest'),
      fc.nat(),
      fc.nat({ max: 1_000_000 }),
      (target, epoch, first) => {
        const round = Array.from({ length: n }, (_, i) => epochLeader(registry, target, epoch, first + i).id);
        assert.deepEqual(new Set(round), new Set(ids(ANCHOR_SIGNERS)));
        assert.equal(epochLeader(registry, target, epoch, first).id, round[0]);
        assert.equal(epochLeader(registry, target, epoch, first + n).id, round[0]);
      },
    ),
    { numRuns: 300, seed: SEED },
  );
  // Huge attempt numbers stay exact.
  const big = Number.MAX_SAFE_INTEGER;
  assert.equal(
    epochLeader(registry, TARGET, 5, big).id,
    epochLeader(registry, TARGET, 5, Number(BigInt(big) % BigInt(n))).id,
  );
});

test('leadership spreads over the signers across epochs', () => {
  const counts = new Map<string, number>();
  for (let e = 0; e < 400; e++) {
    const id = epochLeader(registry, TARGET, e, 0).id;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  assert.equal(counts.size, 4);
  for (const c of counts.values()) assert.ok(c > 50, `uneven: ${[...counts.entries()].join(' ')}`);
});

test('bad leader arguments are INVALID_ARGUMENT', () => {
  const invalid = (e: unknown) => e instanceof RemembrancerError && e.code === 'INVALID_ARGUMENT';
  assert.throws(() => epochLeader(registry, '', 1, 0), invalid);
  assert.throws(() => epochLeader(registry, TARGET, -1, 0), invalid);
  assert.throws(() => epochLeader(registry, TARGET, 1, 0.5), invalid);
  assert.throws(() => epochLeader(registry, TARGET, 1, -1), invalid);
});
