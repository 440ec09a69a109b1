import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildEpochTree } from '@vaultmesh/core';
import { AnchorStore } from '../../src/anchoring/anchor-store.js';
import type { EpochFinalization } from '../../src/anchoring/epoch-finalization.js';
import { TARGET, alpha, beta, gamma, sealedLeaf, statementFor } from '../../../core/test/anchoring/federation.js';

// The anchoring store's promises: one signed root per (target, epoch, mode), a finalized epoch is
// never replaced (a second anchor of its root is a duplicate, a different root a conflict), what
// it anchors clears what it satisfies, and everything is still there after a reopen.
let dir: string;
before(() => (dir = mkdtempSync(join(tmpdir(), 'remembrancer-anchor-store-'))));
after(() => rmSync(dir, { recursive: true, force: true }));

function finalization(epoch: number, size = 7, token = 'AAAA'): EpochFinalization {
  const tree = buildEpochTree([
    sealedLeaf(alpha, 'dao:one', size),
    sealedLeaf(beta, 'dao:two', 3, { cosigners: [alpha, gamma], allowlist: [alpha, gamma] }),
  ]);
  const statement = statementFor(tree, { epoch });
  return {
    statement,
    leaves: tree.leaves,
    signatures: [],
    anchor: {
      batch_root: statement.root,
      target: TARGET,
      tx_hash: 'ab',
      block: '1',
      timestamp: '2026-12-04T00:00:00Z',
    },
    evidence: { type: 'rfc3161', policy: 'any', tokens: [token] },
    finalized_at: '2026-12-04T00:00:01Z',
    leader: alpha.id,
    attempt: 0,
  };
}

describe('AnchorStore', () => {
  test('the first signed root of an epoch stays; later ones get it back; it survives a reopen', () => {
    const path = join(dir, 'signed.sqlite');
    const store = new AnchorStore(path);
    const a = finalization(10, 7);
    const b = finalization(10, 8);
    const first = store.recordSignedRoot({ statement: a.statement, leaves: a.leaves, sig: 'S1', signedAt: 't1' });
    assert.equal(first.sig, 'S1');
    const second = store.recordSignedRoot({ statement: b.statement, leaves: b.leaves, sig: 'S2', signedAt: 't2' });
    assert.equal(second.statement.root, a.statement.root);
    store.close();
    const reopened = new AnchorStore(path);
    try {
      assert.equal(reopened.signedRoot(TARGET, 10, 'collaborative')?.sig, 'S1');
      assert.equal(reopened.signedRoot(TARGET, 10, 'independent'), undefined);
    } finally {
      reopened.close();
    }
  });

  test('a finalized epoch clears the dues it satisfies and advances what is anchored', () => {
    const store = new AnchorStore(join(dir, 'due.sqlite'));
    try {
      const own = new Map([[`${alpha.id}/dao:one`, 'dao:one']]);
      store.markDue(TARGET, 'dao:one', 1000, 7);
      store.markDue(TARGET, 'dao:other', 1000, 2);
      assert.equal(store.dueCount(TARGET), 2);
      assert.equal(store.recordFinalized(finalization(11), own, 5), 'new');
      assert.deepEqual(
        store.due(TARGET).map((d) => d.namespace),
        ['dao:other'],
      );
      assert.equal(store.anchoredSize(TARGET, `${alpha.id}/dao:one`), 7);
      assert.equal(store.anchoredSize(TARGET, `${beta.id}/dao:two`), 3);
      // An entry below size 7 is covered by epoch 11.
      assert.deepEqual(
        store.anchorsCovering(`${alpha.id}/dao:one`, 6).map((a) => a.epoch),
        [11],
      );
      assert.deepEqual(store.anchorsCovering(`${alpha.id}/dao:one`, 7), []);
    } finally {
      store.close();
    }
  });

  test('a due whose sealed size is past the anchored leaf stays queued', () => {
    const store = new AnchorStore(join(dir, 'due2.sqlite'));
    try {
      store.markDue(TARGET, 'dao:one', 1000, 9);
      store.recordFinalized(finalization(12, 7), new Map([[`${alpha.id}/dao:one`, 'dao:one']]), 5);
      assert.equal(store.dueCount(TARGET), 1);
    } finally {
      store.close();
    }
  });

  test('the same epoch again is "same", other evidence for its root a duplicate, another root a conflict', () => {
    const store = new AnchorStore(join(dir, 'dup.sqlite'));
    try {
      assert.equal(store.recordFinalized(finalization(13), new Map(), 1), 'new');
      assert.equal(store.recordFinalized(finalization(13), new Map(), 2), 'same');
      assert.equal(store.recordFinalized(finalization(13, 7, 'BBBB'), new Map(), 3), 'duplicate');
      assert.equal(store.recordFinalized(finalization(13, 7, 'BBBB'), new Map(), 4), 'same');
      assert.throws(() => store.recordFinalized(finalization(13, 8), new Map(), 5), { code: 'EPOCH_CONFLICT' });
      // An abandoned mark never undoes a finalization.
      store.markEpoch(TARGET, 13, 'collaborative', '', 'abandoned', 6);
      assert.equal(store.epoch(TARGET, 13, 'collaborative', '')?.status, 'finalized');
    } finally {
      store.close();
    }
  });

  test('failures are kept per target, newest first, at most 100; the counter keeps the total', () => {
    const store = new AnchorStore(join(dir, 'fail.sqlite'));
    try {
      for (let i = 0; i < 130; i++) store.recordFailure(TARGET, i, `reason ${i}`, i);
      const recent = store.failures(TARGET, 1000);
      assert.equal(recent.length, 100);
      assert.equal(recent[0]!.reason, 'reason 129');
      assert.equal(store.counters().get('failures')?.get(TARGET), 130);
    } finally {
      store.close();
    }
  });

  test('leaves in flight: signed roots of other epochs in range, before and after, without a known outcome', () => {
    const store = new AnchorStore(join(dir, 'in-flight.sqlite'));
    try {
      for (const [epoch, size] of [
        [5, 7],
        [7, 8],
        [9, 9],
        [11, 10],
      ] as const) {
        const f = finalization(epoch, size);
        store.recordSignedRoot({ statement: f.statement, leaves: f.leaves, sig: `S${epoch}`, signedAt: 't' });
      }
      store.recordFinalized(finalization(7, 8), new Map(), 1);
      const origin = finalization(5).leaves.find((l) => l.origin.endsWith('/dao:one'))!.origin;
      // Gathering epoch 9: 5 is in flight before it, 11 after it (a leader running ahead), 7 is
      // finalized, and 9 itself is the epoch being gathered.
      assert.equal(store.inFlightSizes(TARGET, 4, 12, 9).get(origin), 10);
      assert.equal(store.inFlightSizes(TARGET, 4, 10, 9).get(origin), 7);
      assert.equal(store.inFlightSizes(TARGET, 6, 10, 9).get(origin), undefined);
      assert.equal(store.inFlightSizes(TARGET, 0, 20, 11).get(origin), 9);
    } finally {
      store.close();
    }
  });
});
