import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RemembrancerError, canonicalize } from '../../src/index.js';
import { MESSAGE_ACTIONS, type MessageAction, type MessageEndpoint } from '../../src/message/message.js';
import {
  MAX_MESSAGING_OPERATIONS,
  MAX_MESSAGING_SOURCES,
  MAX_MESSAGING_WITNESSES,
  acceptsSource,
  checkMessageAccepted,
  defaultMessagingRules,
  parseMessagingRules,
  type MessagingRules,
} from '../../src/namespace/messaging-rules.js';

const P = '/messaging';

function refused(value: unknown, pointer: string): void {
  assert.throws(
    () => parseMessagingRules(value, P),
    (e: unknown) => {
      assert.ok(e instanceof RemembrancerError, String(e));
      assert.equal(e.code, 'POLICY_INVALID', e.message);
      assert.equal(e.pointer, pointer, `${e.message} (input ${JSON.stringify(value)?.slice(0, 160)})`);
      assert.ok(e.message.startsWith(`${pointer}: `), e.message);
      return true;
    },
    `accepted ${JSON.stringify(value)?.slice(0, 160)}`,
  );
}

const rules = (r: Partial<MessagingRules>): MessagingRules => ({ ...defaultMessagingRules(), ...r });
const from = (node: string, namespace: string): MessageEndpoint => ({ node, namespace });
const message = (source: MessageEndpoint, action: MessageAction = 'notify', operation = 'ping') => ({
  source,
  action,
  payload: { operation },
});

/** The MESSAGE_NOT_ACCEPTED refusal, with the message member it names. */
function notAccepted(run: () => void, pointer: string, words: RegExp): void {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof RemembrancerError, String(e));
    assert.equal(e.code, 'MESSAGE_NOT_ACCEPTED');
    assert.equal(e.pointer, pointer);
    assert.match(e.message, words);
    return true;
  });
}

test('the default accepts no messages, and defaults are fresh objects', () => {
  assert.deepEqual(defaultMessagingRules(), {
    accept_from: [],
    actions: ['invoke', 'query', 'notify'],
    operations: ['*'],
    min_witnesses: 0,
  });
  const d = defaultMessagingRules();
  d.accept_from.push('*/*');
  d.actions.pop();
  assert.deepEqual(defaultMessagingRules().accept_from, []);
  assert.equal(defaultMessagingRules().actions.length, 3);
  assert.equal(acceptsSource(defaultMessagingRules(), from('alpha', 'a:b')), false);
});

test('absent members take their defaults; actions are normalized to MESSAGE_ACTIONS order', () => {
  assert.deepEqual(parseMessagingRules({}, P), defaultMessagingRules());
  assert.deepEqual(
    parseMessagingRules({ accept_from: undefined, min_witnesses: undefined }, P),
    defaultMessagingRules(),
  );
  const full = {
    accept_from: ['beta.vaultmesh.local/dao:x', '*/fin:clearing', 'gamma/*', '*/*'],
    actions: ['notify', 'query'],
    operations: ['settle.v2', 'record', '*'],
    min_witnesses: MAX_MESSAGING_WITNESSES,
  };
  const parsed = parseMessagingRules(full, P);
  assert.deepEqual(parsed, { ...full, actions: ['query', 'notify'] });
  // Normalization is a fixpoint and shares nothing with its input.
  assert.deepEqual(parseMessagingRules(JSON.parse(JSON.stringify(parsed)), P), parsed);
  full.accept_from.pop();
  full.operations.pop();
  assert.equal(parsed.accept_from.length, 4);
  assert.equal(parsed.operations.length, 3);
  // The bounds themselves are accepted.
  const many = Array.from({ length: MAX_MESSAGING_SOURCES }, (_, i) => `n${i}/*`);
  assert.equal(parseMessagingRules({ accept_from: many }, P).accept_from.length, MAX_MESSAGING_SOURCES);
  const ops = Array.from({ length: MAX_MESSAGING_OPERATIONS }, (_, i) => `op${i}`);
  assert.equal(parseMessagingRules({ operations: ops }, P).operations.length, MAX_MESSAGING_OPERATIONS);
  assert.equal(parseMessagingRules({ operations: ['o'.repeat(64)] }, P).operations[0]!.length, 64);
});

test('every malformed member is refused with its pointer', () => {
  const cases: [unknown, string][] = [
    [null, P],
    [[], P],
    ['*/*', P],
    [{ extra: 1 }, `${P}/extra`],
    [{ 'a/b': 1 }, `${P}/a~1b`],
    // accept_from
    [{ accept_from: null }, `${P}/accept_from`],
    [{ accept_from: '*/*' }, `${P}/accept_from`],
    [{ accept_from: Array.from({ length: MAX_MESSAGING_SOURCES + 1 }, (_, i) => `n${i}/*`) }, `${P}/accept_from`],
    [{ accept_from: ['*'] }, `${P}/accept_from/0`],
    [{ accept_from: ['beta.vaultmesh.local'] }, `${P}/accept_from/0`],
    [{ accept_from: ['dao:x'] }, `${P}/accept_from/0`],
    [{ accept_from: ['*/*', 'Beta/*'] }, `${P}/accept_from/1`],
    [{ accept_from: ['beta/dao'] }, `${P}/accept_from/0`],
    [{ accept_from: ['beta/dao:x/y'] }, `${P}/accept_from/0`],
    [{ accept_from: ['beta/dao:*'] }, `${P}/accept_from/0`],
    [{ accept_from: ['be*/dao:x'] }, `${P}/accept_from/0`],
    [{ accept_from: ['/dao:x'] }, `${P}/accept_from/0`],
    [{ accept_from: ['beta/'] }, `${P}/accept_from/0`],
    [{ accept_from: [' */*'] }, `${P}/accept_from/0`],
    [{ accept_from: ['*/*\n'] }, `${P}/accept_from/0`],
    [{ accept_from: [7] }, `${P}/accept_from/0`],
    [{ accept_from: ['a/b:c', '*/*', 'a/b:c'] }, `${P}/accept_from/2`],
    // actions
    [{ actions: null }, `${P}/actions`],
    [{ actions: 'notify' }, `${P}/actions`],
    [{ actions: [] }, `${P}/actions`],
    [{ actions: ['reply'] }, `${P}/actions/0`],
    [{ actions: ['Notify'] }, `${P}/actions/0`],
    [{ actions: ['notify', 'notify'] }, `${P}/actions/1`],
    [{ actions: ['invoke', 'query', 'notify', 'notify'] }, `${P}/actions`],
    // operations
    [{ operations: null }, `${P}/operations`],
    [{ operations: [] }, `${P}/operations`],
    [{ operations: ['Record'] }, `${P}/operations/0`],
    [{ operations: ['record', '1st'] }, `${P}/operations/1`],
    [{ operations: ['o'.repeat(65)] }, `${P}/operations/0`],
    [{ operations: ['a/b'] }, `${P}/operations/0`],
    [{ operations: ['**'] }, `${P}/operations/0`],
    [{ operations: ['*', '*'] }, `${P}/operations/1`],
    [{ operations: Array.from({ length: MAX_MESSAGING_OPERATIONS + 1 }, (_, i) => `op${i}`) }, `${P}/operations`],
    // min_witnesses
    [{ min_witnesses: null }, `${P}/min_witnesses`],
    [{ min_witnesses: -1 }, `${P}/min_witnesses`],
    [{ min_witnesses: 1.5 }, `${P}/min_witnesses`],
    [{ min_witnesses: '1' }, `${P}/min_witnesses`],
    [{ min_witnesses: MAX_MESSAGING_WITNESSES + 1 }, `${P}/min_witnesses`],
  ];
  for (const [value, pointer] of cases) refused(value, pointer);
});

test('acceptsSource: either part of a pattern may be *; otherwise both parts match exactly', () => {
  const r = rules({ accept_from: ['beta.vaultmesh.local/dao:x', '*/fin:clearing', 'gamma/*'] });
  assert.equal(acceptsSource(r, from('beta.vaultmesh.local', 'dao:x')), true);
  assert.equal(acceptsSource(r, from('beta.vaultmesh.local', 'dao:y')), false);
  assert.equal(acceptsSource(r, from('beta', 'dao:x')), false);
  assert.equal(acceptsSource(r, from('alpha', 'fin:clearing')), true);
  assert.equal(acceptsSource(r, from('alpha', 'fin:clearing2')), false);
  assert.equal(acceptsSource(r, from('gamma', 'any:thing')), true);
  assert.equal(acceptsSource(r, from('gamma.vaultmesh.local', 'any:thing')), false);
  assert.equal(acceptsSource(rules({ accept_from: ['*/*'] }), from('x', 'y:z')), true);
  assert.equal(acceptsSource(rules({ accept_from: [] }), from('x', 'y:z')), false);
});

test('checkMessageAccepted refuses by source, then action, then operation, naming the rule', () => {
  const r = rules({ accept_from: ['beta/*'], actions: ['invoke', 'notify'], operations: ['record', 'settle'] });
  checkMessageAccepted(r, message(from('beta', 'a:b'), 'invoke', 'record'));
  checkMessageAccepted(r, message(from('beta', 'a:b'), 'notify', 'settle'));
  notAccepted(() => checkMessageAccepted(r, message(from('alpha', 'a:b'), 'query', 'x')), '/source', /accept_from/);
  notAccepted(() => checkMessageAccepted(r, message(from('beta', 'a:b'), 'query', 'x')), '/action', /actions/);
  notAccepted(
    () => checkMessageAccepted(r, message(from('beta', 'a:b'), 'notify', 'x')),
    '/payload/operation',
    /operations allows record, settle/,
  );
  // The default rules refuse everyone, and say so.
  notAccepted(
    () => checkMessageAccepted(defaultMessagingRules(), message(from('beta', 'a:b'))),
    '/source',
    /accepts no messages/,
  );
  // * takes any operation, whatever else is listed.
  checkMessageAccepted(rules({ accept_from: ['*/*'], operations: ['record', '*'] }), message(from('z', 'y:x')));
});

test('a reply to the namespace’s own query skips accept_from, and only accept_from', () => {
  const closed = defaultMessagingRules();
  checkMessageAccepted(closed, message(from('beta', 'a:b'), 'notify', 'answer'), { replyToOwnQuery: true });
  notAccepted(
    () => checkMessageAccepted(closed, message(from('beta', 'a:b')), { replyToOwnQuery: false }),
    '/source',
    /accept_from/,
  );
  const narrow = rules({ actions: ['invoke'], operations: ['record'] });
  notAccepted(
    () => checkMessageAccepted(narrow, message(from('beta', 'a:b'), 'notify', 'record'), { replyToOwnQuery: true }),
    '/action',
    /actions/,
  );
  notAccepted(
    () => checkMessageAccepted(narrow, message(from('beta', 'a:b'), 'invoke', 'answer'), { replyToOwnQuery: true }),
    '/payload/operation',
    /operations/,
  );
});

const parts = fc.constantFrom('*', 'beta', 'beta.vaultmesh.local', 'dao:x', 'a:b', '', 'B', 'a/b', 'x*');
const validPattern = fc
  .tuple(fc.constantFrom('*', 'beta', 'beta.vaultmesh.local', 'n1'), fc.constantFrom('*', 'dao:x', 'a:b', 'c-1:d'))
  .map(([a, b]) => `${a}/${b}`);
const pattern = fc.oneof(
  { arbitrary: validPattern, weight: 8 },
  { arbitrary: fc.tuple(parts, parts).map(([a, b]) => `${a}/${b}`), weight: 1 },
);
/** Rules-shaped objects: each member mostly of the right shape, sometimes anything, sometimes absent or extra. */
const rulesLike = fc
  .tuple(
    fc.record(
      {
        accept_from: fc.oneof(
          { arbitrary: fc.uniqueArray(pattern, { maxLength: 4 }), weight: 4 },
          { arbitrary: fc.array(pattern, { maxLength: 4 }), weight: 1 },
          { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 },
        ),
        actions: fc.oneof(
          { arbitrary: fc.shuffledSubarray([...MESSAGE_ACTIONS]), weight: 4 },
          { arbitrary: fc.array(fc.constantFrom(...MESSAGE_ACTIONS, 'reply', 1), { maxLength: 4 }), weight: 1 },
          { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 },
        ),
        operations: fc.oneof(
          {
            arbitrary: fc.uniqueArray(fc.constantFrom('*', 'record', 'settle.v2', 'a_b-c'), { maxLength: 4 }),
            weight: 4,
          },
          { arbitrary: fc.array(fc.constantFrom('*', 'record', 'Record', '', '**'), { maxLength: 4 }), weight: 1 },
          { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 },
        ),
        min_witnesses: fc.oneof(
          { arbitrary: fc.integer({ min: -2, max: MAX_MESSAGING_WITNESSES + 2 }), weight: 4 },
          { arbitrary: fc.jsonValue({ maxDepth: 1 }), weight: 1 },
        ),
      },
      { requiredKeys: [] },
    ),
    fc.oneof({ arbitrary: fc.constant(undefined), weight: 9 }, { arbitrary: fc.jsonValue({ maxDepth: 1 }), weight: 1 }),
  )
  .map(([o, extra]) => (extra === undefined ? o : { ...o, other: extra }));

test('fast-check: arbitrary JSON gives POLICY_INVALID or rules that parse to themselves', () => {
  fc.assert(
    fc.property(fc.oneof(fc.jsonValue({ maxDepth: 4 }), rulesLike, rulesLike), (v) => {
      let parsed: MessagingRules;
      try {
        parsed = parseMessagingRules(v, P);
      } catch (e) {
        assert.ok(e instanceof RemembrancerError && e.code === 'POLICY_INVALID', String(e));
        assert.ok(e.pointer?.startsWith(P), e.pointer);
        return;
      }
      const again = parseMessagingRules(JSON.parse(canonicalize(parsed)), P);
      assert.deepEqual(again, parsed);
      assert.equal(canonicalize(again), canonicalize(parsed));
      // Whatever parsed is something checkMessageAccepted can decide on without throwing anything else.
      try {
        checkMessageAccepted(parsed, message(from('beta', 'dao:x'), 'query', 'record'));
      } catch (e) {
        assert.ok(e instanceof RemembrancerError && e.code === 'MESSAGE_NOT_ACCEPTED', String(e));
      }
    }),
    { numRuns: 1000 },
  );
});
