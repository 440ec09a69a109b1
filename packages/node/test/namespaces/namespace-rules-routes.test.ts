import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import {
  buildNamespacePolicySet,
  buildSchemaRegister,
  crypto,
  publicKeyBase64,
  signDocument,
  signGovernanceDocument,
  type GovernanceDocument,
} from '@vaultmesh/core';
import { startTestServer, type TestServer } from '../http/test-server.js';
import { tokenSha256 } from '../../src/namespaces/writer-authorization.js';

// Every rule of a namespace and every refusal, through the node's real HTTP routes (app.inject):
// schema policies, writers, private reads, limits, and governance documents submitted directly.

let s: TestServer;
const admin = () => ({ authorization: `Bearer ${s.token}` });
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const operator = () => ({ id: s.identity.operatorId, seed: s.identity.operatorSeed });

const SETTLEMENT = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['amount', 'currency'],
  properties: {
    amount: { type: 'integer', minimum: 0 },
    currency: { type: 'string', pattern: '^[A-Z]{3}$' },
    memo: { type: 'string' },
  },
  additionalProperties: false,
};
const writerSeed = new Uint8Array(32).fill(5);
const BOT = 'fin-bot-token-abcdefghijklmnop';
const AUDITOR = 'fin-auditor-token-abcdefghijkl';
const DAO_BOT = 'dao-bot-token-abcdefghijklmnop';

function expectError(r: LightMyRequestResponse, status: number, code: string, pointer?: string): void {
  assert.equal(r.statusCode, status, r.body);
  const body = r.json() as { code: string; message: string; pointer?: string };
  assert.equal(body.code, code, r.body);
  if (pointer !== undefined) assert.equal(body.pointer, pointer, r.body);
}

async function put(ns: string, spec: unknown, headers: Record<string, string> = {}) {
  return s.app.inject({
    method: 'PUT',
    url: `/v1/ns/${ns}`,
    headers: { ...admin(), ...headers },
    payload: spec as object,
  });
}
const post = (ns: string, entry: unknown, headers: Record<string, string> = {}) =>
  s.app.inject({ method: 'POST', url: `/v1/ns/${ns}/entries`, headers, payload: entry as object });
const size = (ns: string) => s.engine.sequencedSize(ns);

async function register(id: string, definition: object) {
  const doc = signGovernanceDocument(
    buildSchemaRegister({ schema_id: id, definition: definition as Record<string, unknown> }),
    operator().id,
    operator().seed,
  );
  const r = await s.app.inject({ method: 'POST', url: '/v1/governance', payload: doc });
  assert.equal(r.statusCode, 201, r.body);
}

before(async () => {
  s = await startTestServer();
  await register('settlement@1.2.0', SETTLEMENT);
  await register('settlement@1.3.0', SETTLEMENT);
  await register('settlement@2.0.0', { ...SETTLEMENT, required: ['amount'] });
  assert.equal(
    (
      await put(
        'fin:clearing',
        {
          description: 'clearing house',
          visibility: 'private',
          schema_policy: { allow: ['settlement@~1.2.0'] },
          writers: [
            { id: 'treasurer', ed25519: publicKeyBase64(writerSeed) },
            { id: 'bot', token_sha256: tokenSha256(BOT), scopes: ['write'] },
            { id: 'auditor', token_sha256: tokenSha256(AUDITOR), scopes: ['read'] },
          ],
          limits: { max_entry_bytes: 256, quota_entries: 6 },
        },
        { 'if-none-match': '*' },
      )
    ).statusCode,
    201,
  );
  assert.equal(
    (
      await put('dao:vaultmesh', {
        writers: [{ id: 'dao-bot', token_sha256: tokenSha256(DAO_BOT), scopes: ['write', 'read'] }],
        limits: { rate_per_second: 0.001, burst: 2 },
      })
    ).statusCode,
    201,
  );
  assert.equal((await put('demo:open', {})).statusCode, 201);
});
after(async () => s.close());

describe('schema policies', () => {
  const ok = { schema: 'settlement@1.2.0', amount: 12, currency: 'EUR' };

  test('an entry matching an allowed schema is stored', async () => {
    const r = await post('fin:clearing', ok, bearer(BOT));
    assert.equal(r.statusCode, 201, r.body);
  });

  test('every schema refusal is 422 with the JSON pointer, and stores nothing', async () => {
    const before = size('fin:clearing');
    expectError(
      await post('fin:clearing', { ...ok, amount: 'twelve' }, bearer(BOT)),
      422,
      'SCHEMA_VALIDATION_FAILED',
      '/amount',
    );
    expectError(
      await post('fin:clearing', { ...ok, currency: 'euro' }, bearer(BOT)),
      422,
      'SCHEMA_VALIDATION_FAILED',
      '/currency',
    );
    expectError(
      await post('fin:clearing', { schema: 'settlement@1.2.0', amount: 1 }, bearer(BOT)),
      422,
      'SCHEMA_VALIDATION_FAILED',
      '/currency',
    );
    expectError(
      await post('fin:clearing', { ...ok, extra: true }, bearer(BOT)),
      422,
      'SCHEMA_VALIDATION_FAILED',
      '/extra',
    );
    expectError(
      await post('fin:clearing', { amount: 1, currency: 'EUR' }, bearer(BOT)),
      422,
      'SCHEMA_REQUIRED',
      '/schema',
    );
    // ~1.2.0 admits 1.2.x only: 1.3.0 and 2.0.0 are registered but not allowed.
    expectError(
      await post('fin:clearing', { ...ok, schema: 'settlement@1.3.0' }, bearer(BOT)),
      422,
      'SCHEMA_NOT_ALLOWED',
      '/schema',
    );
    expectError(
      await post('fin:clearing', { ...ok, schema: 'settlement@2.0.0' }, bearer(BOT)),
      422,
      'SCHEMA_NOT_ALLOWED',
      '/schema',
    );
    expectError(
      await post('fin:clearing', { ...ok, schema: 'settlement@1.2.9' }, bearer(BOT)),
      422,
      'SCHEMA_UNKNOWN',
      '/schema',
    );
    expectError(
      await post('fin:clearing', { ...ok, schema: 'settlement@1.02.0' }, bearer(BOT)),
      422,
      'SCHEMA_NOT_ALLOWED',
      '/schema',
    );
    // A batch with one bad entry stores none of it; the pointer names the entry.
    const r = await s.app.inject({
      method: 'POST',
      url: '/v1/ns/fin:clearing/batch',
      headers: bearer(BOT),
      payload: { entries: [ok, ok, { ...ok, amount: -1 }] },
    });
    expectError(r, 422, 'SCHEMA_VALIDATION_FAILED', '/entries/2/amount');
    assert.equal(size('fin:clearing'), before);
  });

  test('schemas registered through governance are checked before they are recorded', async () => {
    const bad = signGovernanceDocument(
      buildSchemaRegister({ schema_id: 'broken@1.0.0', definition: { type: 'object', propertiez: {} } }),
      operator().id,
      operator().seed,
    );
    const r = await s.app.inject({ method: 'POST', url: '/v1/governance', payload: bad });
    assert.equal(r.statusCode >= 400 && r.statusCode < 500, true, r.body);
    const changed = signGovernanceDocument(
      buildSchemaRegister({ schema_id: 'settlement@1.2.0', definition: { ...SETTLEMENT, required: [] } }),
      operator().id,
      operator().seed,
    );
    expectError(
      await s.app.inject({ method: 'POST', url: '/v1/governance', payload: changed }),
      409,
      'GOVERNANCE_CONFLICT',
    );
  });
});

describe('writers', () => {
  const entry = { schema: 'settlement@1.2.1', amount: 1, currency: 'USD' };

  test('a key writer signs entries; the signature is stored with the entry', async () => {
    await register('settlement@1.2.1', SETTLEMENT);
    const signed = signDocument({ schema: 'settlement@1.2.0', amount: 7, currency: 'CHF' }, 'treasurer', writerSeed);
    const r = await post('fin:clearing', signed);
    assert.equal(r.statusCode, 201, r.body);
    const got = await s.app.inject({
      method: 'GET',
      url: `/v1/ns/fin:clearing/entries/${(r.json() as { index: number }).index}`,
      headers: bearer(AUDITOR),
    });
    assert.deepEqual((got.json() as { entry: unknown }).entry, signed);
    expectError(await post('fin:clearing', { ...signed, amount: 8 }), 401, 'SIGNATURE_INVALID');
    expectError(
      await post(
        'fin:clearing',
        signDocument({ schema: 'settlement@1.2.0', amount: 7, currency: 'CHF' }, 'treasurer', crypto.randomBytes(32)),
      ),
      401,
      'SIGNATURE_INVALID',
    );
    expectError(
      await post(
        'fin:clearing',
        signDocument({ schema: 'settlement@1.2.0', amount: 7, currency: 'CHF' }, 'stranger', writerSeed),
      ),
      403,
      'FORBIDDEN',
    );
    // In a batch, the pointer names the entry whose signature failed; nothing of the batch is stored.
    const before = size('fin:clearing');
    const batch = await s.app.inject({
      method: 'POST',
      url: '/v1/ns/fin:clearing/batch',
      payload: { entries: [signed, { ...signed, amount: 9 }] },
    });
    expectError(batch, 401, 'SIGNATURE_INVALID', '/entries/1/signatures/0/sig');
    assert.equal(size('fin:clearing'), before);
  });

  test('tokens write only their namespace; the admin token is separate', async () => {
    assert.equal((await post('fin:clearing', entry, bearer(BOT))).statusCode, 201);
    expectError(await post('dao:vaultmesh', { x: 1 }, bearer(BOT)), 403, 'FORBIDDEN');
    expectError(await post('fin:clearing', entry, bearer(DAO_BOT)), 403, 'FORBIDDEN');
    expectError(await post('fin:clearing', entry, bearer(AUDITOR)), 403, 'FORBIDDEN');
    expectError(await post('fin:clearing', entry, admin()), 403, 'FORBIDDEN');
    expectError(await post('fin:clearing', entry, bearer('not-a-token')), 401, 'UNAUTHORIZED');
    expectError(await post('fin:clearing', entry), 401, 'UNAUTHORIZED');
    // A namespace that names no writers is written with the admin token only.
    assert.equal((await post('demo:open', { x: 1 }, admin())).statusCode, 201);
    expectError(await post('demo:open', { x: 1 }, bearer(DAO_BOT)), 403, 'FORBIDDEN');
    // Writer tokens do not administer.
    expectError(await put('demo:open', {}, bearer(DAO_BOT)), 401, 'UNAUTHORIZED');
    expectError(await post('sys:governance', { x: 1 }, admin()), 403, 'FORBIDDEN');
  });

  test('a private namespace needs a read token for every read', async () => {
    for (const path of [
      '',
      '/checkpoint',
      '/entries/0',
      '/proof/inclusion?index=0&size=1',
      '/policy',
      '/tile/0/000.p/1',
    ]) {
      expectError(await s.app.inject({ method: 'GET', url: `/v1/ns/fin:clearing${path}` }), 401, 'UNAUTHORIZED');
      expectError(
        await s.app.inject({ method: 'GET', url: `/v1/ns/fin:clearing${path}`, headers: bearer(DAO_BOT) }),
        403,
        'FORBIDDEN',
      );
    }
    assert.equal(
      (await s.app.inject({ method: 'GET', url: '/v1/ns/fin:clearing', headers: bearer(AUDITOR) })).statusCode,
      200,
    );
    // A writer reads back what it wrote.
    assert.equal(
      (await s.app.inject({ method: 'GET', url: '/v1/ns/fin:clearing/entries/0', headers: bearer(BOT) })).statusCode,
      200,
    );
    assert.equal(
      (await s.app.inject({ method: 'GET', url: '/v1/ns/fin:clearing/entries/0', headers: admin() })).statusCode,
      200,
    );
    const ids = (r: LightMyRequestResponse) =>
      (r.json() as { namespaces: { id: string }[] }).namespaces.map((n) => n.id);
    assert.ok(!ids(await s.app.inject({ method: 'GET', url: '/v1/ns' })).includes('fin:clearing'));
    assert.ok(
      ids(await s.app.inject({ method: 'GET', url: '/v1/ns', headers: bearer(AUDITOR) })).includes('fin:clearing'),
    );
    assert.ok(
      !(
        (await s.app.inject({ method: 'GET', url: '/v1/node' })).json() as { namespaces: string[] }
      ).namespaces.includes('fin:clearing'),
    );
    // Public namespaces stay open.
    assert.equal((await s.app.inject({ method: 'GET', url: '/v1/ns/demo:open/entries/0' })).statusCode, 200);
  });
});

describe('limits', () => {
  test('entry size limit: 413', async () => {
    expectError(
      await post(
        'fin:clearing',
        { schema: 'settlement@1.2.0', amount: 1, currency: 'EUR', memo: 'x'.repeat(300) },
        bearer(BOT),
      ),
      413,
      'ENTRY_TOO_LARGE',
    );
  });

  test('rate limit: 429 with Retry-After, and a refusal spends nothing', async () => {
    assert.equal((await post('dao:vaultmesh', { n: 1 }, bearer(DAO_BOT))).statusCode, 201);
    assert.equal((await post('dao:vaultmesh', { n: 2 }, bearer(DAO_BOT))).statusCode, 201);
    const r = await post('dao:vaultmesh', { n: 3 }, bearer(DAO_BOT));
    expectError(r, 429, 'RATE_LIMITED');
    assert.ok(Number(r.headers['retry-after']) >= 1, String(r.headers['retry-after']));
    // Another tenant is not affected.
    assert.equal((await post('demo:open', { n: 3 }, admin())).statusCode, 201);
  });

  test('storage quota: 507 once the namespace holds quota_entries', async () => {
    while (size('fin:clearing') < 6)
      assert.equal(
        (await post('fin:clearing', { schema: 'settlement@1.2.0', amount: 1, currency: 'EUR' }, bearer(BOT)))
          .statusCode,
        201,
      );
    expectError(
      await post('fin:clearing', { schema: 'settlement@1.2.0', amount: 1, currency: 'EUR' }, bearer(BOT)),
      507,
      'QUOTA_EXCEEDED',
    );
    // Raising the quota through governance lets writes through again.
    const r = await put('fin:clearing', { limits: { quota_entries: 7 } }, { 'if-match': '*' });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(
      (r.json() as { limits: { max_entry_bytes: number } }).limits.max_entry_bytes,
      256,
      'members not given keep their values',
    );
    assert.equal(
      (await post('fin:clearing', { schema: 'settlement@1.2.0', amount: 1, currency: 'EUR' }, bearer(BOT))).statusCode,
      201,
    );
  });
});

describe('governance documents', () => {
  test('operator signatures are required up to the threshold; stale versions are refused', async () => {
    const rules = s.namespaces.directory.projectedRules('demo:open')!;
    const doc = buildNamespacePolicySet({
      namespace: 'demo:open',
      version: rules.version + 1,
      spec: { description: 'v2' },
      base: rules.spec,
    });
    expectError(
      await s.app.inject({ method: 'POST', url: '/v1/governance', payload: doc }),
      403,
      'GOVERNANCE_NOT_AUTHORIZED',
    );
    const byStranger = signGovernanceDocument(doc, 'stranger/operator', crypto.randomBytes(32));
    expectError(
      await s.app.inject({ method: 'POST', url: '/v1/governance', payload: byStranger }),
      403,
      'GOVERNANCE_NOT_AUTHORIZED',
    );
    const forged = { ...signGovernanceDocument(doc, operator().id, crypto.randomBytes(32)) } as GovernanceDocument;
    expectError(
      await s.app.inject({ method: 'POST', url: '/v1/governance', payload: forged }),
      403,
      'GOVERNANCE_NOT_AUTHORIZED',
    );
    const signed = signGovernanceDocument(doc, operator().id, operator().seed);
    assert.equal((await s.app.inject({ method: 'POST', url: '/v1/governance', payload: signed })).statusCode, 201);
    // The same signed document again (a replay) no longer applies.
    expectError(
      await s.app.inject({ method: 'POST', url: '/v1/governance', payload: signed }),
      409,
      'GOVERNANCE_CONFLICT',
    );
    const view = (await s.app.inject({ method: 'GET', url: '/v1/ns/demo:open' })).json() as {
      description: string;
      version: number;
    };
    assert.equal(view.description, 'v2');
    assert.equal(view.version, rules.version + 1);
    expectError(
      await s.app.inject({ method: 'POST', url: '/v1/governance', payload: { schema: 'namespace.create@1.0.0' } }),
      400,
      'GOVERNANCE_INVALID',
    );
  });

  test('every refused governance document leaves the log unchanged', async () => {
    const before = size('sys:governance');
    const bad = [
      { schema: 'nope@1.0.0' },
      signGovernanceDocument(
        buildSchemaRegister({ schema_id: 'settlement@1.2.0', definition: { type: 'string' } }),
        operator().id,
        operator().seed,
      ),
    ];
    for (const payload of bad)
      assert.ok((await s.app.inject({ method: 'POST', url: '/v1/governance', payload })).statusCode >= 400);
    assert.equal(size('sys:governance'), before);
  });
});

test('oversized governance submissions are refused before parsing', async () => {
  const r = await s.app.inject({
    method: 'POST',
    url: '/v1/governance',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ pad: 'x'.repeat(300 * 1024) }),
  });
  expectError(r, 413, 'PAYLOAD_TOO_LARGE');
});

test('verifying a large signed batch leaves the event loop to other work', async () => {
  // 320 signed entries, the last one altered: the batch is refused only after every signature was
  // checked. Work queued on the event loop after admission started runs before it ends.
  const entries = Array.from({ length: 320 }, (_, n) =>
    signDocument({ schema: 'settlement@1.2.0', amount: n, currency: 'EUR' }, 'treasurer', writerSeed),
  );
  entries[319] = { ...entries[319]!, amount: -5 };
  let done = false;
  const admission = s.namespaces.admission.admitYielding('fin:clearing', undefined, entries, true).finally(() => {
    done = true;
  });
  const doneWhenOtherWorkRan = await new Promise<boolean>((resolve) => setImmediate(() => resolve(done)));
  await assert.rejects(
    admission,
    (e: unknown) =>
      (e as { code?: string; pointer?: string }).code === 'SIGNATURE_INVALID' &&
      (e as { pointer?: string }).pointer === '/entries/319/signatures/0/sig',
  );
  assert.equal(doneWhenOtherWorkRan, false, 'other work ran while the signatures were being verified');
  // The synchronous path (in-process callers) gives the same verdict.
  assert.throws(
    () => s.namespaces.admission.admit('fin:clearing', undefined, entries, true),
    (e: unknown) => (e as { code?: string }).code === 'SIGNATURE_INVALID',
  );
});
