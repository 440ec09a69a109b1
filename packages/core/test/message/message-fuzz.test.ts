import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MESSAGE_PROOF_CHECKS,
  RemembrancerError,
  buildMessageDelivery,
  bytesEqual,
  messageEntryBytes,
  parseMessage,
  parseMessageDelivery,
  verifyMessageProof,
  withProof,
  type ErrorCode,
} from '../../src/index.js';
import { mutate } from '../../../../test/schemas/mutate.js';
import { mutated } from '../note/arbitraries.js';
import { json, receiverOptions, sourceLog } from './fixtures.js';

// Messages arrive from any relay and delivery records from other nodes: their parsers may only
// ever refuse with their own code, and the verifier never throws, whatever the input.

const SEED = Number(process.env['FC_SEED'] ?? 20250412);
console.log(`message fuzz seed ${SEED} (FC_SEED overrides)`);

const log = sourceLog();
const travelling = json(log.travelling);
const delivery = json(buildMessageDelivery({ message: log.message, index: log.index, acceptedAt: new Date(0) }));
const entryBytes = messageEntryBytes(log.message);

function onlyCode(code: ErrorCode, fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof RemembrancerError, `threw a non-RemembrancerError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(typeof e.pointer, 'string', `${e.message} has no pointer`);
  }
}

/** Values that stress the members: near-misses of real ones, and anything JSON. */
const values = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  mutated(fc.constant(log.proofText)),
  mutated(fc.constantFrom(travelling.sent_at, travelling.expires_at, delivery.message_id, delivery.leaf_hash)),
  fc.constantFrom(
    travelling.source,
    travelling.target,
    travelling.payload,
    delivery.source_origin,
    'c2sp.org/tlog-proof@v1\n',
    2 ** 53,
    -0,
    0,
    1,
  ),
);

/** Mutations of a valid document at any depth (a member replaced, or one added). */
function documents(valid: unknown): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.jsonValue(),
    fc
      .tuple(fc.array(fc.nat(), { maxLength: 5 }), values, fc.boolean())
      .map(([path, v, add]) => mutate(valid, path, v, add)),
  );
}

test('parseMessage only ever throws MESSAGE_MALFORMED with a pointer (fast-check)', () => {
  fc.assert(
    fc.property(documents(travelling), (doc) => onlyCode('MESSAGE_MALFORMED', () => parseMessage(doc))),
    { numRuns: 3000, seed: SEED },
  );
});

test('parseMessageDelivery only ever throws MESSAGE_DELIVERY_MALFORMED with a pointer (fast-check)', () => {
  fc.assert(
    fc.property(documents(delivery), (doc) => onlyCode('MESSAGE_DELIVERY_MALFORMED', () => parseMessageDelivery(doc))),
    { numRuns: 3000, seed: SEED },
  );
});

test('verifyMessageProof never throws; it accepts only the entry the log holds (fast-check)', () => {
  const options = receiverOptions();
  const candidates = fc.oneof(
    documents(travelling),
    // A well-formed message whose proof text is damaged.
    mutated(fc.constant(log.proofText)).map((p) => ({ ...travelling, payload: { ...travelling.payload, proof: p } })),
  );
  fc.assert(
    fc.property(candidates, (candidate) => {
      const v = verifyMessageProof(candidate, options);
      assert.deepEqual(
        v.checks.map((c) => c.name),
        [...MESSAGE_PROOF_CHECKS],
      );
      const failed = v.checks.filter((c) => !c.ok);
      assert.equal(v.ok, failed.length === 0);
      if (!v.ok) assert.ok(typeof failed[0]!.code === 'string', JSON.stringify(failed[0]));
      assert.ok(failed.slice(1).every((c) => c.code === undefined));
      // Soundness: whatever else changed, an accepted message is the entry at index 6 of the log.
      if (v.ok) {
        assert.ok(bytesEqual(messageEntryBytes(v.message!), entryBytes));
        assert.equal(v.index, log.index);
      }
    }),
    { numRuns: 1500, seed: SEED },
  );
});

test('verifyMessageProof never throws on a valid message with a mutated proof anywhere (fast-check)', () => {
  // Proofs of other shapes through withProof too, as a node would attach them.
  fc.assert(
    fc.property(mutated(fc.constant(log.proofText)), (p) => {
      let m;
      try {
        m = withProof(log.message, p);
      } catch (e) {
        assert.ok(e instanceof RemembrancerError && e.code === 'MESSAGE_MALFORMED');
        return;
      }
      const v = verifyMessageProof(m, receiverOptions());
      if (v.ok) assert.ok(bytesEqual(messageEntryBytes(v.message!), entryBytes));
    }),
    { numRuns: 1000, seed: SEED },
  );
});
