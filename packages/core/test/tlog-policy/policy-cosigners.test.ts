import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CosignatureSigner,
  NoteSigner,
  addSignatures,
  formatCheckpoint,
  parseNote,
  parseTlogPolicy,
  signCheckpoint,
  verifyCheckpointPolicy,
} from '../../src/index.js';
import { compileTlogPolicy, policyCosigners } from '../../src/tlog-policy/index.js';

const origin = 'alpha.vaultmesh.local/dao:vaultmesh';
const log = new NoteSigner(origin, new Uint8Array(32).fill(1));
const a = new CosignatureSigner('a.example/witness', new Uint8Array(32).fill(2));
const b = new CosignatureSigner('b.example/witness', new Uint8Array(32).fill(3));
const c = new CosignatureSigner('c.example/witness', new Uint8Array(32).fill(4));
const cp = { origin, size: 3, root: new Uint8Array(32).fill(7) };
const body = formatCheckpoint(cp);
const signed = signCheckpoint(cp, log);
const policy = parseTlogPolicy(
  `log ${log.vkey}\nwitness A ${a.vkey}\nwitness B ${b.vkey}\ngroup both all A B\nquorum both\n`,
);

test('policyCosigners: policy names in policy order, each once; strangers ignored', () => {
  const note = parseNote(
    addSignatures(signed, [b.cosign(body, 2), c.cosign(body, 3), a.cosign(body, 1), b.cosign(body, 4)]),
  );
  assert.deepEqual(policyCosigners(policy, note), ['A', 'B']);
  assert.deepEqual(policyCosigners(compileTlogPolicy(policy), parseNote(signed)), []);
  assert.equal(compileTlogPolicy(policy), compileTlogPolicy(policy), 'compiled once per policy object');
  const forged = parseNote(addSignatures(signed, [{ ...a.cosign(body, 1), signature: new Uint8Array(72) }]));
  assert.throws(() => policyCosigners(policy, forged), { code: 'SIGNATURE_INVALID' });
});

test('verifyCheckpointPolicy: log signature, then quorum', () => {
  const ok = verifyCheckpointPolicy(addSignatures(signed, [a.cosign(body, 1), b.cosign(body, 2)]), policy);
  assert.deepEqual(ok.cosigners, ['A', 'B']);
  assert.equal(ok.checkpoint.size, 3);
  assert.deepEqual(ok.evaluation.witnessed, ['A', 'B', 'both']);
  assert.throws(
    () => verifyCheckpointPolicy(addSignatures(signed, [a.cosign(body, 1)]), policy),
    (e: Error & { code?: string }) =>
      e.code === 'POLICY_NOT_MET' && /cosigned by A; quorum both = all of \(A, B\)/.test(e.message),
  );
  const impostor = new NoteSigner(origin, new Uint8Array(32).fill(9));
  assert.throws(
    () =>
      verifyCheckpointPolicy(
        addSignatures(signCheckpoint(cp, impostor), [a.cosign(body, 1), b.cosign(body, 2)]),
        policy,
      ),
    { code: 'SIGNATURE_MISSING' },
  );
  // Without log lines, the keys from other context decide.
  const logless = parseTlogPolicy(`witness A ${a.vkey}\nquorum A\n`);
  assert.throws(() => verifyCheckpointPolicy(addSignatures(signed, [a.cosign(body, 1)]), logless), {
    code: 'ORIGIN_MISMATCH',
  });
  assert.deepEqual(
    verifyCheckpointPolicy(addSignatures(signed, [a.cosign(body, 1)]), logless, [log.verifier()]).cosigners,
    ['A'],
  );
});
