import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  RemembrancerError,
  buildTimestampRequest,
  crypto,
  verifyTimestampResponse,
  verifyTimestampToken,
  type TimestampExpectation,
} from '@vaultmesh/core';
import {
  TEST_POLICY,
  fixtureDir,
  makeCa,
  makeTsaCert,
  openssl,
  tsReply,
  writeTsaConfig,
} from './fixtures/openssl-tsa.js';
import { parseTokenStructure } from '../../src/timestamp/token-structure.js';

// Responses and tokens cross a trust boundary (a TSA over HTTP, a receipt from anyone): whatever
// the bytes, verification resolves or fails with a TIMESTAMP_* RemembrancerError, nothing else.
const SEED = Number(process.env['FC_SEED'] ?? 20261204);
const RUNS = 300;

const fixture = fixtureDir();
after(fixture.cleanup);

const digest = crypto.sha256(new TextEncoder().encode('fuzzed statement'));
const nonce = 42n;
let response: Uint8Array;
let token: Uint8Array;
let expect: TimestampExpectation;

before(async () => {
  const dir = fixture.dir;
  const ca = await makeCa(dir, 'ca', 'Fuzz CA');
  const tsa = await makeTsaCert(dir, 'tsa', ca, { name: 'Fuzz TSA' });
  response = await tsReply(dir, writeTsaConfig(dir, 'tsa', tsa), buildTimestampRequest({ digest, nonce }), 'fuzz');
  await openssl(['ts', '-reply', '-in', `${dir}/fuzz.tsr`, '-token_out', '-out', `${dir}/fuzz.tst`], dir);
  token = new Uint8Array(readFileSync(`${dir}/fuzz.tst`));
  expect = { digest, nonce, trustAnchorsPem: [ca.pem], policyOid: TEST_POLICY };
  await verifyTimestampResponse(response, expect);
});

async function onlyTimestampErrors(run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (e) {
    assert.ok(e instanceof RemembrancerError, `threw a non-RemembrancerError: ${String(e)}`);
    assert.match(e.code, /^TIMESTAMP_/, e.message);
  }
}

/** Mutations of valid bytes: flip, set, cut, insert, truncate — several at once. */
function mutations(valid: () => Uint8Array): fc.Arbitrary<Uint8Array> {
  const edit = fc.tuple(
    fc.constantFrom('flip', 'set', 'cut', 'insert', 'truncate'),
    fc.nat(),
    fc.integer({ min: 0, max: 255 }),
  );
  return fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) => {
    let b = valid().slice();
    for (const [op, pos, value] of edits) {
      const i = b.length === 0 ? 0 : pos % b.length;
      if (op === 'flip') b[i]! ^= 1 << (value & 7);
      else if (op === 'set') b[i] = value;
      else if (op === 'cut') b = Uint8Array.from([...b.subarray(0, i), ...b.subarray(i + 1 + (value % 8))]);
      else if (op === 'insert') b = Uint8Array.from([...b.subarray(0, i), value, ...b.subarray(i)]);
      else b = b.subarray(0, i);
    }
    return b;
  });
}

const randomBytes = fc.uint8Array({ maxLength: 2048 }).map((b) => new Uint8Array(b));
/** Random bytes that start like DER SEQUENCEs, so they get past the first tag. */
const sequenceLike = fc
  .uint8Array({ minLength: 2, maxLength: 512 })
  .map((b) => Uint8Array.from([0x30, 0x82, (b.length >> 8) & 0xff, b.length & 0xff, ...b]));

test('verifyTimestampResponse: random and mutated bytes only ever give TIMESTAMP_* errors', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        randomBytes,
        sequenceLike,
        mutations(() => response),
      ),
      (bytes) => onlyTimestampErrors(() => verifyTimestampResponse(bytes, expect)),
    ),
    { numRuns: RUNS, seed: SEED },
  );
});

test('verifyTimestampToken: random and mutated bytes only ever give TIMESTAMP_* errors', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        randomBytes,
        sequenceLike,
        mutations(() => token),
      ),
      (bytes) => onlyTimestampErrors(() => verifyTimestampToken(bytes, expect)),
    ),
    { numRuns: RUNS, seed: SEED },
  );
});

test('a single flipped bit in the TSTInfo or the signed attributes never verifies', async () => {
  // Both are covered by the signature (the TSTInfo through the message-digest attribute). Other
  // parts of a CMS SignedData are not signed (digestAlgorithms, unsigned attributes), so a flip
  // there may leave a token that verifies: it is the same time-stamp.
  const { tstInfoBytes, signerInfo } = parseTokenStructure(token);
  const signedAttrs = new Uint8Array(signerInfo.signedAttrs!.encodedValue);
  const regions = [
    { at: indexOf(token, tstInfoBytes), length: tstInfoBytes.length },
    // Encoded as [0] IMPLICIT in the token; encodedValue has the SET tag the signature covers.
    { at: indexOf(token, signedAttrs.subarray(1)) - 1, length: signedAttrs.length },
  ];
  assert.ok(regions.every((r) => r.at > 0));
  const bits = fc.oneof(...regions.map((r) => fc.integer({ min: r.at * 8, max: (r.at + r.length) * 8 - 1 })));
  await fc.assert(
    fc.asyncProperty(bits, async (bit) => {
      const b = token.slice();
      b[bit >> 3]! ^= 1 << (bit & 7);
      await assert.rejects(
        verifyTimestampToken(b, expect),
        (e) => e instanceof RemembrancerError && e.code.startsWith('TIMESTAMP_'),
      );
    }),
    { numRuns: RUNS, seed: SEED },
  );
});

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
