import { RemembrancerError } from '../errors.js';

const OP_RETURN = 0x6a;
const OP_PUSHDATA1 = 0x4c;
// Opcodes 0x01–0x4b push that many following bytes.
const MAX_DIRECT_PUSH = 0x4b;

/**
 * The data of an OP_RETURN output script of exactly one shape: OP_RETURN then a single push,
 * direct (opcode 0x01–0x4b and that many bytes) or OP_PUSHDATA1 (0x4c, a length byte, the bytes),
 * and nothing after it. Anything else — several pushes, OP_PUSHDATA2/4, OP_0, a short or long
 * push — is undefined: an anchor reads one unambiguous payload, not a reading of arbitrary script.
 */
export function opReturnPayload(script: Uint8Array): Uint8Array | undefined {
  if (!(script instanceof Uint8Array) || script.length < 2 || script[0] !== OP_RETURN) return undefined;
  const op = script[1]!;
  let start: number;
  let length: number;
  if (op >= 0x01 && op <= MAX_DIRECT_PUSH) {
    start = 2;
    length = op;
  } else if (op === OP_PUSHDATA1 && script.length >= 3) {
    start = 3;
    length = script[2]!;
  } else {
    return undefined;
  }
  return script.length === start + length ? script.slice(start) : undefined;
}

/** `6a20<payload>`: OP_RETURN with a direct push of a 32-byte payload such as an epoch root. */
export function opReturnScript(payload32: Uint8Array): Uint8Array {
  if (!(payload32 instanceof Uint8Array) || payload32.length !== 32) {
    throw new RemembrancerError('INVALID_ARGUMENT', 'an anchor payload is 32 bytes');
  }
  const script = new Uint8Array(34);
  script[0] = OP_RETURN;
  script[1] = 32;
  script.set(payload32, 2);
  return script;
}
