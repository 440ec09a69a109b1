import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { opReturnPayload, opReturnScript, toHex } from '../../src/index.js';
import { concatBytes } from '../../src/encoding/index.js';
import { SEED, codeOf, hashOf, hex } from './fixtures.js';

const root = hashOf('epoch root');

test('opReturnScript builds 6a20<root>, and opReturnPayload reads the root back', () => {
  const script = opReturnScript(root);
  assert.equal(toHex(script), '6a20' + toHex(root));
  assert.deepEqual(opReturnPayload(script), root);
  for (const n of [0, 31, 33, 64])
    assert.equal(
      codeOf(() => opReturnScript(new Uint8Array(n))),
      'INVALID_ARGUMENT',
    );
});

test('one direct push or one OP_PUSHDATA1 after OP_RETURN is read', () => {
  assert.deepEqual(opReturnPayload(hex('6a01ff')), hex('ff'));
  assert.deepEqual(opReturnPayload(concatBytes(hex('6a4b'), new Uint8Array(75).fill(7))), new Uint8Array(75).fill(7));
  assert.deepEqual(opReturnPayload(concatBytes(hex('6a4c20'), root)), root);
  assert.deepEqual(opReturnPayload(concatBytes(hex('6a4c50'), new Uint8Array(80).fill(9))), new Uint8Array(80).fill(9));
  assert.deepEqual(opReturnPayload(hex('6a4c00')), new Uint8Array(0));
});

test('every other script has no payload', () => {
  const scripts = [
    '',
    '6a', // bare OP_RETURN
    '6a00', // OP_0
    '6a4f', // OP_1NEGATE
    '6a51', // OP_1
    '6a4c', // OP_PUSHDATA1 without a length
    '6a4c02ff', // OP_PUSHDATA1 short of its length
    '6a4d2000' + toHex(root), // OP_PUSHDATA2
    '6a4e20000000' + toHex(root), // OP_PUSHDATA4
    '6a20' + toHex(root).slice(2), // 31 bytes for 32
    '6a20' + toHex(root) + '00', // a byte after the push
    '6a01aa01bb', // two pushes
    '6a6a20' + toHex(root), // OP_RETURN twice
    '0020' + toHex(root), // P2WSH: a push, not OP_RETURN
    '51' + '6a20' + toHex(root), // OP_RETURN not first
  ];
  for (const s of scripts) assert.equal(opReturnPayload(hex(s)), undefined, s);
});

test('the payload is a copy', () => {
  const script = opReturnScript(root);
  const payload = opReturnPayload(script)!;
  script.fill(0);
  assert.deepEqual(payload, root);
});

test('random scripts give a payload exactly when they are OP_RETURN and one whole push (property)', () => {
  const scripts = fc.oneof(
    fc.uint8Array({ maxLength: 90 }),
    fc.uint8Array({ maxLength: 88 }).map((b) => concatBytes(Uint8Array.of(0x6a, b.length), b)),
    fc.uint8Array({ maxLength: 300 }).map((b) => concatBytes(Uint8Array.of(0x6a, 0x4c, b.length & 0xff), b)),
  );
  fc.assert(
    fc.property(scripts, (script) => {
      const payload = opReturnPayload(script);
      const op = script[1] ?? -1;
      const direct = script[0] === 0x6a && op >= 1 && op <= 0x4b && script.length === 2 + op;
      const pushdata1 = script[0] === 0x6a && op === 0x4c && script.length >= 3 && script.length === 3 + script[2]!;
      assert.equal(payload !== undefined, direct || pushdata1);
      if (payload !== undefined) assert.deepEqual(payload, script.subarray(direct ? 2 : 3));
    }),
    { seed: SEED, numRuns: 1000 },
  );
});
