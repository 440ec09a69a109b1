import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { InboxResult } from '../../../src/messaging/messaging-wire.js';
import { ALPHA, BETA, SourceLog, TargetNode, tempRoot, type Sent } from './inbox-fixture.js';

// Whatever arrives — any JSON, a real message with any member replaced, a real proof with any
// characters changed — receive() answers (never throws), one result per message, and anything it
// does not apply is a refusal with a stable code, never an internal fault; nothing is appended.

const NS = 'app:fuzz';
const dirs = tempRoot();
let node: TargetNode;
let src: SourceLog;
let real: Sent;

before(async () => {
  node = await TargetNode.open(dirs.make());
  await node.createNamespace(NS, { messaging: { accept_from: ['*/*'] } });
  await node.openInbox();
  src = await SourceLog.open(BETA, 'app:src', dirs.make(), { node: ALPHA.id, namespace: NS });
  // Seq 2: were it ever taken, it would be held, not applied, so the log stays as it is.
  real = (await src.send([{ seq: 2 }]))[0]!;
});

after(async () => {
  await node.close();
  await src.close();
  dirs.cleanup();
});

function checkRefusal(r: InboxResult | undefined): void {
  assert.ok(r, 'one result per message');
  if (r.status !== 'refused') {
    assert.ok(['held', 'duplicate'].includes(r.status), JSON.stringify(r));
    return;
  }
  assert.match(r.error!.code, /^[A-Z][A-Z_]+$/);
  assert.ok(!['INTERNAL', 'STORAGE_FAILURE'].includes(r.error!.code), JSON.stringify(r));
  assert.equal(typeof r.error!.message, 'string');
}

test('arbitrary JSON bodies are refused with a stable code', async () => {
  const size = node.engine.sequencedSize(NS);
  await fc.assert(
    fc.asyncProperty(fc.array(fc.jsonValue({ maxDepth: 4 }), { minLength: 1, maxLength: 4 }), async (values) => {
      const results = await node.inbox.receive(NS, values, { kind: 'public' });
      assert.equal(results.length, values.length);
      for (const r of results) {
        checkRefusal(r);
        assert.equal(r.status, 'refused');
      }
    }),
    { numRuns: 200 },
  );
  assert.equal(node.engine.sequencedSize(NS), size);
});

/** JSON pointers of every member of a value (objects and arrays), the root excluded. */
function paths(value: unknown, at: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null) return [];
  const out: string[][] = [];
  for (const [k, v] of Object.entries(value)) {
    out.push([...at, k]);
    out.push(...paths(v, [...at, k]));
  }
  return out;
}

function replaced(value: unknown, path: readonly string[], by: unknown): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  let o = copy;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string, unknown>;
  if (by === undefined) delete o[path.at(-1)!];
  else o[path.at(-1)!] = by;
  return copy;
}

test('a real message with one member replaced or removed is refused (or is the same message)', async () => {
  const all = paths(real.message);
  const size = node.engine.sequencedSize(NS);
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...all),
      fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }),
      async (path, by) => {
        const [r] = await node.inbox.receive(NS, [replaced(real.message, path, by)], { kind: 'public' });
        checkRefusal(r);
      },
    ),
    { numRuns: 200 },
  );
  assert.equal(node.engine.sequencedSize(NS), size);
});

test('a real proof with characters changed, cut or added is refused', async () => {
  const proof = real.message.payload.proof!;
  const size = node.engine.sequencedSize(NS);
  await fc.assert(
    fc.asyncProperty(
      fc.nat({ max: proof.length - 1 }),
      fc.nat({ max: 8 }),
      fc.string({ maxLength: 8 }),
      async (at, cut, insert) => {
        const changed = proof.slice(0, at) + insert + proof.slice(at + cut);
        fc.pre(changed !== proof);
        const message = { ...real.message, payload: { ...real.message.payload, proof: changed } };
        const [r] = await node.inbox.receive(NS, [message], { kind: 'public' });
        checkRefusal(r);
      },
    ),
    { numRuns: 200 },
  );
  assert.equal(node.engine.sequencedSize(NS), size);
});
