import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FederationStatus, PeerStatus } from '../src/api/types.ts';
import { peerRows, type Probe } from '../src/model/federation-view.ts';

// Shaped as GET /v1/federation/status answers (docs/api.md), trimmed to what the rows read.
function status(peers: PeerStatus[]): FederationStatus {
  return { node: 'alpha', federation_id: 'fed', registry_version: 3, peers };
}
const self: PeerStatus = {
  id: 'alpha',
  endpoint: 'http://127.0.0.1:1',
  status: 'active',
  self: true,
  evidence: 0,
  suspects: [],
};
const beta: PeerStatus = {
  id: 'beta',
  endpoint: 'http://127.0.0.1:2',
  status: 'active',
  reachable: true,
  last_latency_ms: 16.8,
  last_cosigned_at: '2026-12-06T00:07:04.746Z',
  gossip: {
    reachable: true,
    registry_version: 3,
    checkpoints: [
      { origin: 'beta/a:b', size: 10, witnessed_size: 8, lag: 2 },
      { origin: 'beta/c:d', size: 1, witnessed_size: 1, lag: 0 },
    ],
  },
  suspects: [],
  evidence: 0,
};
const up = (name: string): Probe => ({ ok: true, name });

test('a healthy federation: every row OK with its figures', () => {
  const rows = peerRows(
    status([self, beta]),
    new Map([
      ['alpha', up('alpha')],
      ['beta', up('beta')],
    ]),
  );
  assert.deepEqual(
    rows.map((r) => [r.id, r.health, r.reachable, r.registryVersion, r.witnessLag, r.cosignLatencyMs]),
    [
      ['alpha', 'ok', true, 3, undefined, undefined],
      ['beta', 'ok', true, 3, 2, 16.8],
    ],
  );
  assert.deepEqual(rows[1]!.reasons, [], 'a witness lag is shown, not judged');
});

test('not yet probed is unknown, not OK', () => {
  const rows = peerRows(status([self, beta]), new Map());
  assert.equal(rows[1]!.health, 'unknown');
  assert.equal(rows[1]!.reachable, undefined);
});

test('unreachable from the browser or from the node fails the row, with why', () => {
  const rows = peerRows(
    status([
      self,
      { ...beta, reachable: false, last_error: 'ECONNREFUSED', gossip: { ...beta.gossip, reachable: false } },
    ]),
    new Map([['beta', { ok: false, error: 'no answer' }]]),
  );
  assert.equal(rows[1]!.health, 'bad');
  assert.equal(rows[1]!.reachable, false);
  assert.equal(rows[1]!.reachableFromNode, false);
  assert.deepEqual(rows[1]!.reasons, [
    'unreachable from this browser: no answer',
    'unreachable from alpha: ECONNREFUSED',
  ]);
});

test('another name at the endpoint, an old registry, suspects and evidence each say so', () => {
  const odd = peerRows(
    status([{ ...beta, gossip: { ...beta.gossip, registry_version: 2 } }]),
    new Map([['beta', up('mallory')]]),
  );
  assert.equal(odd[0]!.health, 'bad');
  assert.deepEqual(odd[0]!.reasons, ['the node at http://127.0.0.1:2 says it is mallory', 'registry version 2, not 3']);
  const suspect = peerRows(status([{ ...beta, suspects: ['gamma'] }]), new Map([['beta', up('beta')]]));
  assert.equal(suspect[0]!.health, 'warn');
  const evidence = peerRows(status([{ ...beta, evidence: 2 }]), new Map([['beta', up('beta')]]));
  assert.equal(evidence[0]!.health, 'bad');
  assert.deepEqual(evidence[0]!.reasons, ['2 equivocation evidence documents']);
});

test("a peer's witness lag is the node's own measure when it reports one", () => {
  const rows = peerRows(
    status([{ ...beta, witness_lag: { namespaces: 4, behind: 1, entries: 7 } }]),
    new Map([['beta', up('beta')]]),
  );
  assert.equal(rows[0]!.witnessLag, 7);
});
