import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NoteSigner } from '@vaultmesh/core';
import { logKeyFromVkeys } from '../../src/commands/message-trust.js';
import {
  verificationLines,
  verifyDelivered,
  verifyMessage,
  verifySent,
  type ProofVerification,
} from '../../src/commands/message-verify.js';
import { alpha, alphaVkey, betaVkey, deliveredMessage, source, trustBoth, witness } from './message-fixture.js';

function names(p: ProofVerification): string[] {
  return p.checks.map((c) => c.name);
}

function failed(p: ProofVerification): { name: string; code?: string } | undefined {
  const c = p.checks.find((x) => !x.ok);
  return c && { name: c.name, ...(c.code === undefined ? {} : { code: c.code }) };
}

describe('message status --verify: both proofs of a delivered message', () => {
  test('a genuine delivered message verifies: every check of the sent proof and of the delivery receipt passes', () => {
    const d = deliveredMessage();
    const v = verifyMessage(d.view, d.entry, d.receipt, trustBoth());
    assert.equal(v.ok, true, verificationLines(v).join('\n'));
    assert.deepEqual(names(v.sent), [
      'format',
      'proof',
      'log-signature',
      'witnesses',
      'inclusion',
      'target',
      'expiry',
      'message',
    ]);
    assert.deepEqual(names(v.delivered), [
      'record',
      'shape',
      'leaf_hash',
      'checkpoint',
      'inclusion',
      'tlog_proof',
      'receipt-entry',
    ]);
    assert.equal(v.sent.key, 'test keys');
    assert.match(verificationLines(v).at(-1)!, /^message verified/);
  });

  test('witness keys: the quorum counts the cosigners; more than cosigned fails POLICY_NOT_MET on both proofs', () => {
    const d = deliveredMessage();
    const one = trustBoth({ witnessVerifiers: [witness.verifier()], minWitnesses: 1 });
    assert.equal(verifyMessage(d.view, d.entry, d.receipt, one).ok, true);
    const two = trustBoth({ witnessVerifiers: [witness.verifier()], minWitnesses: 2 });
    const v = verifyMessage(d.view, d.entry, d.receipt, two);
    assert.deepEqual(failed(v.sent), { name: 'witnesses', code: 'POLICY_NOT_MET' });
    assert.equal(failed(v.delivered)?.name, 'witnesses');
  });

  test('another log key fails the log signature of both proofs; later checks are listed as not run', () => {
    const d = deliveredMessage();
    const stranger = new NoteSigner(alpha, new Uint8Array(32).fill(7)).vkey;
    const trust = trustBoth({ logKey: (origin) => logKeyFromVkeys([stranger], origin, 'wrong') });
    const v = verifyMessage(d.view, d.entry, d.receipt, trust);
    assert.equal(v.ok, false);
    assert.equal(failed(v.sent)?.name, 'log-signature');
    assert.ok(v.sent.checks.filter((c) => c.name !== 'format' && c.name !== 'proof' && !c.ok).length >= 4);
    assert.equal(failed(v.delivered)?.name, 'checkpoint');
    assert.match(verificationLines(v).join('\n'), /skip inclusion/);
    assert.match(verificationLines(v).at(-1)!, /NOT verified/);
  });

  test('an entry that is not the one the proof proves fails inclusion', () => {
    const d = deliveredMessage();
    const tampered = { ...d.entry, payload: { operation: 'record', parameters: { invoice: 'INV-8', amount: 1250 } } };
    const v = verifySent(d.view, tampered, trustBoth());
    assert.equal(failed(v)?.name, 'inclusion');
  });

  test('a status naming another id or index than the proven entry fails the message check', () => {
    const d = deliveredMessage();
    const otherId = verifySent({ ...d.view, id: '0'.repeat(64) }, d.entry, trustBoth());
    assert.deepEqual(failed(otherId), { name: 'message', code: 'PROOF_MISMATCH' });
    const otherIndex = verifySent({ ...d.view, index: 5 }, d.entry, trustBoth());
    assert.deepEqual(failed(otherIndex), { name: 'message', code: 'PROOF_MISMATCH' });
  });

  test('a message sent to another target fails the target check', () => {
    const d = deliveredMessage();
    const v = verifySent({ ...d.view, target: { ...d.view.target, namespace: 'app:other' } }, d.entry, trustBoth());
    assert.deepEqual(failed(v), { name: 'target', code: 'MESSAGE_WRONG_TARGET' });
  });

  test('a delivery record of another message fails the record check', () => {
    const d = deliveredMessage();
    const delivery = { ...d.view.delivery!, entry: { ...d.view.delivery!.entry, seq: 2 } };
    const v = verifyDelivered({ ...d.view, delivery }, d.entry, d.receipt, trustBoth());
    assert.deepEqual(failed(v), { name: 'record', code: 'PROOF_MISMATCH' });
  });

  test('a genuine receipt of another target entry fails receipt-entry', () => {
    const d = deliveredMessage();
    const v = verifyDelivered(d.view, d.entry, d.otherReceipt, trustBoth());
    assert.deepEqual(failed(v), { name: 'receipt-entry', code: 'PROOF_MISMATCH' });
  });

  test('a receipt signed for the source origin (the wrong log) fails its checkpoint check', () => {
    const d = deliveredMessage();
    const trust = trustBoth({ logKey: (origin) => logKeyFromVkeys([alphaVkey], origin, 'alpha only') });
    assert.equal(failed(verifyDelivered(d.view, d.entry, d.receipt, trust))?.name, 'checkpoint');
  });

  test('what is not there yet fails with its own code: no sent proof, no delivery, no receipt', () => {
    const d = deliveredMessage();
    const queued = { ...d.view, state: 'queued' as const, sent_proof: undefined, delivery: undefined };
    const v = verifyMessage(queued, d.entry, undefined, trustBoth());
    assert.deepEqual(failed(v.sent), { name: 'proof', code: 'NOT_YET_SEALED' });
    assert.deepEqual(failed(v.delivered), { name: 'delivery', code: 'NOT_FOUND' });
    const sealed = { ...d.view, state: 'sealed' as const, delivery: undefined };
    const s = verifyMessage(sealed, d.entry, undefined, trustBoth());
    assert.equal(s.sent.ok, true);
    assert.match(verificationLines(s).at(-1)!, /NOT verified \(sent proof ok\)/);
    const noReceipt = verifyDelivered(d.view, d.entry, undefined, trustBoth());
    assert.deepEqual(failed(noReceipt), { name: 'receipt', code: 'NOT_YET_IN_CHECKPOINT' });
  });
});

describe('message trust: log keys for an origin', () => {
  test('a key named as the node signs its origins; one named as the origin too; others and garbage are skipped', () => {
    const origin = `${source.node}/${source.namespace}`;
    assert.equal(logKeyFromVkeys([alphaVkey, betaVkey, 'not a vkey'], origin, 's').verifiers.length, 1);
    assert.equal(logKeyFromVkeys([alphaVkey], origin, 's').verifiers[0]!.name, origin);
    const named = new NoteSigner(origin, new Uint8Array(32).fill(1)).vkey;
    assert.equal(logKeyFromVkeys([named], origin, 's').verifiers[0]!.name, origin);
    assert.equal(logKeyFromVkeys([betaVkey], origin, 's').verifiers.length, 0);
    assert.equal(logKeyFromVkeys([alphaVkey], `${alpha}x/${source.namespace}`, 's').verifiers.length, 0);
  });
});
