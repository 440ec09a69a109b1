import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RemembrancerError,
  defaultNamespaceSpec,
  publicKeyBase64,
  signDocument,
  type NamespaceSpec,
} from '@vaultmesh/core';
import {
  WriterAuthorization,
  WriterIndex,
  bearerToken,
  tokenSha256,
  type NamespaceRulesView,
} from '../../src/namespaces/writer-authorization.js';

const ADMIN = 'admin-token-0123456789';
const aliceSeed = new Uint8Array(32).fill(7);
const malletSeed = new Uint8Array(32).fill(9);

function spec(overrides: Partial<NamespaceSpec>): NamespaceSpec {
  return { ...defaultNamespaceSpec(), ...overrides };
}

const fin: NamespaceRulesView = {
  id: 'fin:clearing',
  spec: spec({
    visibility: 'private',
    writers: [
      { id: 'alice', ed25519: publicKeyBase64(aliceSeed) },
      { id: 'bot', token_sha256: tokenSha256('fin-bot-token'), scopes: ['write'] },
      { id: 'auditor', token_sha256: tokenSha256('fin-read-token'), scopes: ['read'] },
    ],
  }),
};
const dao: NamespaceRulesView = {
  id: 'dao:vaultmesh',
  spec: spec({ writers: [{ id: 'dao-bot', token_sha256: tokenSha256('dao-bot-token'), scopes: ['write', 'read'] }] }),
};
const open: NamespaceRulesView = { id: 'demo:open', spec: spec({}) };
const auth = new WriterAuthorization(ADMIN, () => new WriterIndex([fin, dao, open]));

function refusal(fn: () => void, code: string, status?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RemembrancerError, String(e));
    assert.equal(e.code, code, e.message);
    if (status) assert.match(e.message, status);
    return true;
  });
}

test('bearer header parsing', () => {
  assert.equal(bearerToken(undefined), undefined);
  assert.equal(bearerToken('Bearer abc'), 'abc');
  assert.equal(bearerToken('bearer abc'), 'abc');
  refusal(() => bearerToken('Basic abc'), 'UNAUTHORIZED');
  refusal(() => bearerToken('Bearer a b'), 'UNAUTHORIZED');
});

test('token writers write their own namespace only', () => {
  auth.authorizeWrite(fin, 'fin-bot-token', [{ n: 1 }]);
  auth.authorizeWrite(dao, 'dao-bot-token', [{ n: 1 }, { n: 2 }]);
  refusal(() => auth.authorizeWrite(dao, 'fin-bot-token', [{ n: 1 }]), 'FORBIDDEN', /not a writer of dao:vaultmesh/);
  refusal(() => auth.authorizeWrite(fin, 'fin-read-token', [{ n: 1 }]), 'FORBIDDEN', /may not write/);
  refusal(() => auth.authorizeWrite(fin, 'no-such-token', [{ n: 1 }]), 'UNAUTHORIZED');
  refusal(() => auth.authorizeWrite(fin, undefined, [{ n: 1 }]), 'UNAUTHORIZED', /bearer token or an entry signed/);
});

test('the admin token writes only where no writers are named', () => {
  auth.authorizeWrite(open, ADMIN, [{ n: 1 }]);
  refusal(() => auth.authorizeWrite(fin, ADMIN, [{ n: 1 }]), 'FORBIDDEN', /admin token does not write/);
  refusal(() => auth.authorizeWrite(open, undefined, [{ n: 1 }]), 'UNAUTHORIZED');
  refusal(() => auth.authorizeWrite(open, 'fin-bot-token', [{ n: 1 }]), 'FORBIDDEN');
});

test('key writers sign entries; signatures are checked whatever the token', () => {
  const entry = signDocument({ amount: 12, memo: 'settlement' }, 'alice', aliceSeed);
  auth.authorizeWrite(fin, undefined, [entry]);
  auth.authorizeWrite(fin, 'fin-bot-token', [entry]);
  // Altered after signing: the signature no longer covers the bytes.
  refusal(() => auth.authorizeWrite(fin, undefined, [{ ...entry, amount: 13 }]), 'SIGNATURE_INVALID');
  refusal(() => auth.authorizeWrite(fin, 'fin-bot-token', [{ ...entry, amount: 13 }]), 'SIGNATURE_INVALID');
  // Signed by a key that is not alice's, under alice's name.
  refusal(
    () => auth.authorizeWrite(fin, undefined, [signDocument({ amount: 1 }, 'alice', malletSeed)]),
    'SIGNATURE_INVALID',
  );
  // A signer this namespace does not know.
  refusal(
    () => auth.authorizeWrite(fin, undefined, [signDocument({ amount: 1 }, 'mallet', malletSeed)]),
    'FORBIDDEN',
    /not a key writer/,
  );
  // alice is no writer of dao.
  refusal(() => auth.authorizeWrite(dao, undefined, [entry]), 'FORBIDDEN');
  // In a batch every entry needs its own signature.
  refusal(() => auth.authorizeWrite(fin, undefined, [entry, { amount: 2 }]), 'UNAUTHORIZED', /entry 1/);
  refusal(() => auth.authorizeWrite(fin, undefined, [{ amount: 1, signatures: [] }]), 'SIGNATURE_INVALID');
  refusal(
    () => auth.authorizeWrite(fin, undefined, [{ amount: 1, signatures: [{ signer: 'alice', sig: 'AAAA' }] }]),
    'SIGNATURE_INVALID',
  );
});

test('private namespaces need a read token', () => {
  auth.authorizeRead(open, undefined);
  auth.authorizeRead(dao, undefined);
  auth.authorizeRead(fin, ADMIN);
  auth.authorizeRead(fin, 'fin-read-token');
  refusal(() => auth.authorizeRead(fin, undefined), 'UNAUTHORIZED', /private/);
  auth.authorizeRead(fin, 'fin-bot-token'); // a writer reads back what it wrote
  refusal(() => auth.authorizeRead(fin, 'dao-bot-token'), 'FORBIDDEN', /does not read fin:clearing/);
  refusal(() => auth.authorizeRead(fin, 'dao-bot-token'), 'FORBIDDEN');
  refusal(() => auth.authorizeRead(fin, 'nope'), 'UNAUTHORIZED');
  assert.equal(auth.mayList(fin, undefined), false);
  assert.equal(auth.mayList(fin, 'fin-read-token'), true);
  assert.equal(auth.mayList(fin, ADMIN), true);
  assert.equal(auth.mayList(dao, undefined), true);
});
