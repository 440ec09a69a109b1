import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  RemembrancerError,
  evaluateTlogPolicy,
  formatTlogPolicy,
  parseTlogPolicy,
  parseTlogPolicyBytes,
  type TlogPolicy,
  type TlogPolicyGroup,
} from '../../src/index.js';
import {
  MAX_TLOG_POLICY_GROUPS,
  MAX_TLOG_POLICY_LOGS,
  MAX_TLOG_POLICY_WITNESSES,
  describeTlogQuorum,
} from '../../src/tlog-policy/index.js';
import { formatVkey } from '../../src/note/index.js';
import { mutated, nastyString } from '../note/arbitraries.js';

// Any 32 bytes make a well-formed vkey (the point is not validated), which keeps key pools cheap.
function key(type: number, name: string, seed: number): string {
  const pk = new Uint8Array(32);
  new DataView(pk.buffer).setUint32(0, seed);
  pk[31] = type;
  return formatVkey(name, type, pk);
}
const logKey = (n: number, name = `log${n}.example/ns`) => key(0x01, name, n);
const witnessKey = (n: number, name = `w${n}.example/witness`) => key(0x04, name, n);

/** The example of https://c2sp.org/tlog-policy#example-policy with real keys in place of <vkey>. */
const EXAMPLE = `log ${logKey(1)}

witness X1 ${witnessKey(1)}
witness X2 ${witnessKey(2)}
witness X3 ${witnessKey(3)}
group X-witnesses 2 X1 X2 X3

witness Y1 ${witnessKey(4)}
witness Y2 ${witnessKey(5)}
witness Y3 ${witnessKey(6)}
group Y-witnesses any Y1 Y2 Y3

group X-and-Y all X-witnesses Y-witnesses
quorum X-and-Y
`;

/** Asserts POLICY_INVALID whose message starts with `line N:` (or mentions `what`). */
function refused(text: string, line: number | undefined, what?: RegExp): void {
  assert.throws(
    () => parseTlogPolicy(text),
    (e: unknown) => {
      assert.ok(e instanceof RemembrancerError, String(e));
      assert.equal(e.code, 'POLICY_INVALID');
      if (line !== undefined) assert.match(e.message, new RegExp(`^line ${line}: `), e.message);
      if (what) assert.match(e.message, what);
      return true;
    },
    JSON.stringify(text.slice(0, 200)),
  );
}

const W1 = `witness a ${witnessKey(1)}\n`;
const W2 = `witness b ${witnessKey(2)}\n`;

test('the spec example: two levels of groups', () => {
  const p = parseTlogPolicy(EXAMPLE);
  assert.deepEqual(p.logs, [{ vkey: logKey(1) }]);
  assert.deepEqual(
    p.witnesses.map((w) => w.name),
    ['X1', 'X2', 'X3', 'Y1', 'Y2', 'Y3'],
  );
  assert.deepEqual(p.groups, [
    { name: 'X-witnesses', threshold: 2, members: ['X1', 'X2', 'X3'] },
    { name: 'Y-witnesses', threshold: 1, members: ['Y1', 'Y2', 'Y3'] },
    { name: 'X-and-Y', threshold: 2, members: ['X-witnesses', 'Y-witnesses'] },
  ]);
  assert.equal(p.quorum, 'X-and-Y');
  // "valid cosignatures from at least two of the X-witnesses, and from at least one of the Y-witnesses"
  assert.equal(evaluateTlogPolicy(p, ['X1', 'X3', 'Y2']).met, true);
  assert.deepEqual(evaluateTlogPolicy(p, ['Y2', 'X3', 'X1']).witnessed, [
    'X1',
    'X3',
    'Y2',
    'X-witnesses',
    'Y-witnesses',
    'X-and-Y',
  ]);
  assert.equal(evaluateTlogPolicy(p, ['X1', 'Y1', 'Y2', 'Y3']).met, false);
  assert.equal(evaluateTlogPolicy(p, ['X1', 'X2', 'X3']).met, false);
  assert.equal(evaluateTlogPolicy(p, []).met, false);
  assert.match(
    describeTlogQuorum(p),
    /^X-and-Y = all of \(X-witnesses = 2 of \(X1, X2, X3\), Y-witnesses = any of \(Y1, Y2, Y3\)\)$/,
  );
});

test('evaluation: a predicate or names; unknown names and repeats count for nothing', () => {
  const p = parseTlogPolicy(`${W1}${W2}group g 2 a b\nquorum g\n`);
  assert.equal(evaluateTlogPolicy(p, ['a', 'a', 'a']).met, false, 'one witness counts once');
  assert.equal(evaluateTlogPolicy(p, ['a', 'g', 'x']).met, false, 'a group name is not a cosigner');
  assert.equal(evaluateTlogPolicy(p, ['b', 'a']).met, true);
  assert.equal(evaluateTlogPolicy(p, (n) => n === 'a' || n === 'b').met, true);
  assert.equal(evaluateTlogPolicy(p, new Set(['a'])).met, false);
  const single = parseTlogPolicy(`${W1}${W2}quorum b\n`);
  assert.equal(evaluateTlogPolicy(single, ['a']).met, false);
  assert.equal(evaluateTlogPolicy(single, ['b']).met, true);
  assert.equal(evaluateTlogPolicy(single, 'b').met, true, 'a lone string is one name');
  const none = parseTlogPolicy(`${W1}quorum none\n`);
  assert.deepEqual(evaluateTlogPolicy(none, []), { met: true, witnessed: [] });
  assert.match(describeTlogQuorum(none), /^none/);
});

test('structure: comments, blank lines, spaces and tabs', () => {
  const text = `# a policy\n\t# indented comment\n   \n\t\nlog\t${logKey(1)}  https://log.example/  \n  witness \t a ${witnessKey(1)}\t\nquorum a\n#trailing comment\n`;
  const p = parseTlogPolicy(text);
  assert.deepEqual(p, {
    logs: [{ vkey: logKey(1), url: 'https://log.example/' }],
    witnesses: [{ name: 'a', vkey: witnessKey(1) }],
    groups: [],
    quorum: 'a',
  });
  // Logs and witnesses in any order; definitions after the quorum line are fine.
  assert.equal(parseTlogPolicy(`${W1}quorum a\nlog ${logKey(1)}\n${W2}`).witnesses.length, 2);
  // No logs at all is allowed ("known from other context").
  assert.deepEqual(parseTlogPolicy('quorum none\n'), { logs: [], witnesses: [], groups: [], quorum: 'none' });
  // Witness URLs are kept.
  assert.equal(
    parseTlogPolicy(`witness a ${witnessKey(1)} https://w.example/prefix\nquorum a\n`).witnesses[0]!.url,
    'https://w.example/prefix',
  );
});

test('only space and tab separate items; only tab and newline among controls; lines end in newline', () => {
  refused(`quorum none\r\n`, 1, /U\+000D/);
  refused(`# ok\n${W1}quorum\u000ba\n`, 3, /U\+000B/);
  refused(`${W1}quorum a\n#\u007f\n`, 3, /U\+007F/);
  refused(`${W1}quorum a\n# \u0000\n`, 3);
  refused(`${W1}quorum a\n# \ud800\n`, 3, /surrogate/);
  refused(`quorum\u00a0none\n`, 1, /unknown line type/);
  refused(`quorum\u3000none\n`, 1);
  refused('quorum none', 1, /not terminated by a newline/);
  refused(`${W1}quorum a\n# no newline`, 3, /not terminated/);
  refused('', undefined, /no quorum line/);
  refused('# only a comment\n\n', undefined, /no quorum line/);
  refused(`Quorum none\n`, 1, /unknown line type/);
  refused(`witnesses a ${witnessKey(1)}\nquorum a\n`, 1, /unknown line type/);
});

test('names are opaque octet strings: no case or Unicode folding', () => {
  // https://c2sp.org/tlog-policy#character-set: "K" differs from the Kelvin sign U+212A.
  const p = parseTlogPolicy(
    `witness K ${witnessKey(1)}\nwitness \u212a ${witnessKey(2)}\nwitness k ${witnessKey(3)}\ngroup ☃ 2 K \u212a k\nquorum ☃\n`,
  );
  assert.deepEqual(
    p.witnesses.map((w) => w.name),
    ['K', '\u212a', 'k'],
  );
  assert.equal(evaluateTlogPolicy(p, ['K', 'k']).met, true);
  refused(`witness K ${witnessKey(1)}\nquorum \u212a\n`, 2, /not a witness or group/);
  // Names may hold any non-whitespace octets, "#" included (only a line starting with "#" is a comment).
  assert.equal(parseTlogPolicy(`witness a#b ${witnessKey(1)}\nquorum a#b\n`).quorum, 'a#b');
});

test('log lines: Ed25519 keys, at most one URL, no duplicate public keys', () => {
  refused(`log\nquorum none\n`, 1, /expected "log <vkey> \[<url>\]"/);
  refused(`log ${logKey(1)} https://a https://b\nquorum none\n`, 1);
  refused(`log nonsense\nquorum none\n`, 1, /not a valid vkey/);
  refused(`log ${witnessKey(1)}\nquorum none\n`, 1, /type 0x04.*type 0x01/);
  refused(`log ${key(0x02, 'ecdsa.example', 1)}\nquorum none\n`, 1, /type 0x02/);
  // Same public key under another name and key ID is still the same log.
  refused(`log ${logKey(1)}\n\nlog ${logKey(1, 'other.example/ns')}\nquorum none\n`, 3, /duplicate log.*line 1/);
  assert.equal(parseTlogPolicy(`log ${logKey(1)}\nlog ${logKey(2)}\nquorum none\n`).logs.length, 2);
  // A corrupted key ID is caught by the vkey parser.
  const [name, , b64] = logKey(1).split('+');
  refused(`log ${name}+00000000+${b64}\nquorum none\n`, 1, /key ID/);
});

test('witness lines: cosignature/v1 keys, unique names and public keys, "none" reserved', () => {
  refused(`witness a\nquorum none\n`, 1, /expected "witness <name> <vkey> \[<url>\]"/);
  refused(`witness a ${witnessKey(1)} u1 u2\nquorum none\n`, 1);
  refused(`witness a ${logKey(1)}\nquorum none\n`, 1, /type 0x01.*0x04/);
  refused(`${W1}witness a ${witnessKey(2)}\nquorum none\n`, 2, /already defined on line 1/);
  refused(`${W1}witness c ${witnessKey(1, 'renamed.example/witness')}\nquorum none\n`, 2, /duplicate witness.*line 1/);
  refused(`witness none ${witnessKey(1)}\nquorum none\n`, 1, /predefined/);
  // A log and a witness may not be confused, but the spec forbids duplicates only within each kind.
  assert.equal(parseTlogPolicy(`log ${logKey(7)}\nwitness a ${witnessKey(7)}\nquorum a\n`).witnesses.length, 1);
});

test('group lines: members defined earlier, each once, 1 ≤ k ≤ n', () => {
  const ok = (line: string): TlogPolicyGroup => parseTlogPolicy(`${W1}${W2}${line}\nquorum g\n`).groups[0]!;
  assert.deepEqual(ok('group g all a b'), { name: 'g', threshold: 2, members: ['a', 'b'] });
  assert.deepEqual(ok('group g any a b'), { name: 'g', threshold: 1, members: ['a', 'b'] });
  assert.deepEqual(ok('group g 2 b a'), { name: 'g', threshold: 2, members: ['b', 'a'] });
  assert.deepEqual(ok('group g 1 a'), { name: 'g', threshold: 1, members: ['a'] });
  assert.equal(ok('group g 02 a b').threshold, 2, 'decimal, leading zeros included');
  const bad = (line: string, what: RegExp) => refused(`${W1}${W2}${line}\nquorum none\n`, 3, what);
  bad('group g all', /at least one member/);
  bad('group g', /at least one member/);
  bad('group g 0 a b', /between 1 and the number of members \(2\)/);
  bad('group g 3 a b', /between 1 and/);
  bad('group g 99999999999999999999 a b', /between 1 and/);
  bad('group g -1 a b', /"all", "any" or a decimal/);
  bad('group g +1 a b', /"all", "any" or a decimal/);
  bad('group g 1.0 a b', /"all", "any" or a decimal/);
  bad('group g ALL a b', /"all", "any" or a decimal/);
  bad('group g any a c', /"c" is not a witness or group defined/);
  bad('group g any a a', /listed more than once/);
  bad('group g any a none', /"none" cannot be a group member/);
  bad('group g any a g', /"g" is not a witness or group defined/);
  bad('group a any b', /already defined on line 1/);
  bad('group none any a', /predefined/);
  // A member defined on a later line does not count, even if the quorum comes after both.
  refused(`${W1}group g any a b\n${W2}quorum g\n`, 2, /"b" is not a witness or group defined on an earlier line/);
  // Groups of groups; a name may sit in several groups, once in each.
  const p = parseTlogPolicy(`${W1}${W2}group g1 any a b\ngroup g2 all a g1\ngroup g3 any g1 g2\nquorum g3\n`);
  assert.equal(evaluateTlogPolicy(p, ['b']).met, true);
  assert.deepEqual(evaluateTlogPolicy(p, ['b']).witnessed, ['b', 'g1', 'g3']);
});

test('quorum line: exactly one, naming an earlier witness or group or none', () => {
  refused(`${W1}quorum a\nquorum a\n`, 3, /exactly one quorum line/);
  refused(`${W1}quorum none\nquorum none\n`, 3, /exactly one quorum line/);
  refused(`quorum\n`, 1, /expected "quorum <name>"/);
  refused(`${W1}quorum a b\n`, 2, /expected "quorum <name>"/);
  refused(`quorum a\n${W1}`, 1, /not a witness or group defined on an earlier line/);
  refused(`quorum nobody\n`, 1);
  assert.equal(parseTlogPolicy(`${W1}quorum a\n`).quorum, 'a');
});

test('limits: at least the recommended 32 of each, at most 256', () => {
  const witnesses = (n: number) => Array.from({ length: n }, (_, i) => `witness w${i} ${witnessKey(i)}\n`).join('');
  const logs = (n: number) => Array.from({ length: n }, (_, i) => `log ${logKey(i)}\n`).join('');
  const groups = (n: number) => Array.from({ length: n }, (_, i) => `group g${i} any w0\n`).join('');
  const p = parseTlogPolicy(`${logs(32)}${witnesses(32)}${groups(32)}quorum g31\n`);
  assert.deepEqual([p.logs.length, p.witnesses.length, p.groups.length], [32, 32, 32]);
  const max = parseTlogPolicy(
    `${logs(MAX_TLOG_POLICY_LOGS)}${witnesses(MAX_TLOG_POLICY_WITNESSES)}${groups(MAX_TLOG_POLICY_GROUPS)}quorum g0\n`,
  );
  assert.equal(max.witnesses.length, 256);
  refused(`${logs(MAX_TLOG_POLICY_LOGS + 1)}quorum none\n`, MAX_TLOG_POLICY_LOGS + 1, /more than 256 logs/);
  refused(
    `${witnesses(MAX_TLOG_POLICY_WITNESSES + 1)}quorum none\n`,
    MAX_TLOG_POLICY_WITNESSES + 1,
    /more than 256 witnesses/,
  );
  refused(
    `${witnesses(1)}${groups(MAX_TLOG_POLICY_GROUPS + 1)}quorum none\n`,
    MAX_TLOG_POLICY_GROUPS + 2,
    /more than 256 groups/,
  );
  refused('#'.repeat(1024 * 1024 + 1) + '\nquorum none\n', undefined, /longer than/);
});

test('bytes: UTF-8 required, the failing line named', () => {
  const enc = new TextEncoder();
  assert.deepEqual(parseTlogPolicyBytes(enc.encode(`witness ☃ ${witnessKey(1)}\nquorum ☃\n`)).quorum, '☃');
  const bytes = new Uint8Array([...enc.encode(`${W1}# ok\n# caf`), 0xe9, ...enc.encode('\nquorum a\n')]);
  assert.throws(
    () => parseTlogPolicyBytes(bytes),
    (e: RemembrancerError) => e.code === 'POLICY_INVALID' && /^line 3: not valid UTF-8/.test(e.message),
  );
  assert.throws(() => parseTlogPolicyBytes(enc.encode('quorum none\r\n')), { code: 'POLICY_INVALID' });
});

test('format: canonical text that parses back to the same policy', () => {
  const p = parseTlogPolicy(EXAMPLE);
  const text = formatTlogPolicy(p, { comments: ['the spec example', ''] });
  assert.equal(
    text,
    [
      '# the spec example',
      '#',
      `log ${logKey(1)}`,
      ...p.witnesses.map((w) => `witness ${w.name} ${w.vkey}`),
      'group X-witnesses 2 X1 X2 X3',
      'group Y-witnesses any Y1 Y2 Y3',
      'group X-and-Y all X-witnesses Y-witnesses',
      'quorum X-and-Y',
      '',
    ].join('\n'),
  );
  assert.deepEqual(parseTlogPolicy(text), p);
  assert.equal(formatTlogPolicy(parseTlogPolicy(text)), formatTlogPolicy(p));
  assert.equal(formatTlogPolicy({ logs: [], witnesses: [], groups: [], quorum: 'none' }), 'quorum none\n');
  const withUrls = parseTlogPolicy(
    `log ${logKey(1)} https://l.example\nwitness a ${witnessKey(1)} https://w.example/x\nquorum a\n`,
  );
  assert.equal(
    formatTlogPolicy(withUrls),
    `log ${logKey(1)} https://l.example\nwitness a ${witnessKey(1)} https://w.example/x\nquorum a\n`,
  );
});

test('format refuses what could not be parsed back identically', () => {
  const base: TlogPolicy = { logs: [], witnesses: [{ name: 'a', vkey: witnessKey(1) }], groups: [], quorum: 'a' };
  const bad: TlogPolicy[] = [
    { ...base, witnesses: [{ name: 'a b', vkey: witnessKey(1) }] },
    { ...base, witnesses: [{ name: '', vkey: witnessKey(1) }] },
    { ...base, witnesses: [{ name: 'a', vkey: witnessKey(1), url: 'has space' }] },
    { ...base, witnesses: [{ name: 'a', vkey: logKey(1) }] },
    { ...base, quorum: 'b' },
    { ...base, groups: [{ name: 'g', threshold: 2, members: ['a'] }] },
    { ...base, groups: [{ name: 'g', threshold: 0, members: ['a'] }] },
    { ...base, groups: [{ name: 'g', threshold: 1, members: [] }] },
    { ...base, groups: [{ name: 'g', threshold: 1.5, members: ['a'] }] },
    { ...base, logs: [{ vkey: 'x' }] },
  ];
  for (const p of bad) assert.throws(() => formatTlogPolicy(p), { code: 'POLICY_INVALID' }, JSON.stringify(p));
  assert.throws(() => formatTlogPolicy(base, { comments: ['two\nlines'] }), { code: 'POLICY_INVALID' });
  assert.throws(() => formatTlogPolicy(base, { comments: ['cr\r'] }), { code: 'POLICY_INVALID' });
});

// ---- properties ----

const LOGS = Array.from({ length: 6 }, (_, i) => logKey(100 + i));
const WITNESSES = Array.from({ length: 12 }, (_, i) => witnessKey(200 + i));

/** Policy names: opaque items without whitespace or control characters, never "none". */
const policyName = fc
  .oneof(fc.stringMatching(/^[A-Za-z0-9._:/-]{1,12}$/), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }))
  .filter((s) => /^[^\u0000-\u0020\u007f\p{Cs}]+$/u.test(s) && s !== 'none');
const url = fc.option(fc.stringMatching(/^https:\/\/[a-z0-9.]{1,10}\/[!-~]{0,10}$/), { nil: undefined });

const arbitraryPolicy: fc.Arbitrary<TlogPolicy> = fc
  .record({
    logs: fc
      .subarray(LOGS)
      .chain((ks) => fc.tuple(...ks.map((vkey) => url.map((u) => (u === undefined ? { vkey } : { vkey, url: u }))))),
    wCount: fc.nat({ max: 8 }),
    gCount: fc.nat({ max: 5 }),
  })
  .chain(({ logs, wCount, gCount }) =>
    fc.uniqueArray(policyName, { minLength: wCount + gCount, maxLength: wCount + gCount }).chain((names) => {
      const wNames = names.slice(0, wCount);
      const gNames = names.slice(wCount);
      const witnesses = fc.tuple(
        ...wNames.map((name, i) =>
          url.map((u) => (u === undefined ? { name, vkey: WITNESSES[i]! } : { name, vkey: WITNESSES[i]!, url: u })),
        ),
      );
      // Each group picks distinct members among the names defined before it.
      const groups = gNames.reduce<fc.Arbitrary<TlogPolicyGroup[]>>(
        (acc, name) =>
          acc.chain((prev) => {
            const defined = [...wNames, ...prev.map((g) => g.name)];
            if (defined.length === 0) return fc.constant(prev);
            return fc
              .shuffledSubarray(defined, { minLength: 1 })
              .chain((members) =>
                fc.integer({ min: 1, max: members.length }).map((threshold) => [...prev, { name, threshold, members }]),
              );
          }),
        fc.constant([]),
      );
      return fc.tuple(witnesses, groups).chain(([ws, gs]) => {
        const defined = [...ws.map((w) => w.name), ...gs.map((g) => g.name)];
        return fc
          .constantFrom('none', ...defined)
          .map((quorum): TlogPolicy => ({ logs, witnesses: ws, groups: gs, quorum }));
      });
    }),
  );

test('property: parse(format(p)) is p, and format is a fixpoint', () => {
  fc.assert(
    fc.property(arbitraryPolicy, (p) => {
      const text = formatTlogPolicy(p);
      assert.deepEqual(parseTlogPolicy(text), p);
      assert.equal(formatTlogPolicy(parseTlogPolicy(text)), text);
      // Evaluating with every witness cosigned meets any quorum; with none, only "none".
      assert.equal(
        evaluateTlogPolicy(
          p,
          p.witnesses.map((w) => w.name),
        ).met,
        true,
      );
      assert.equal(evaluateTlogPolicy(p, []).met, p.quorum === 'none');
    }),
    { numRuns: 300 },
  );
});

test('property: arbitrary and mutated texts never throw anything but POLICY_INVALID', () => {
  const valid = arbitraryPolicy.map((p) => formatTlogPolicy(p));
  const check = (s: string) => {
    try {
      const p = parseTlogPolicy(s);
      // Whatever parses, formats and parses back to the same thing.
      assert.deepEqual(parseTlogPolicy(formatTlogPolicy(p)), p);
    } catch (e) {
      assert.ok(e instanceof RemembrancerError, `threw ${String(e)}`);
      assert.equal(e.code, 'POLICY_INVALID', e.message);
      assert.match(e.message, /^(line \d+: |invalid tlog-policy: )/);
    }
  };
  fc.assert(fc.property(fc.oneof(nastyString, mutated(valid), mutated(fc.constant(EXAMPLE))), check), {
    numRuns: 1500,
  });
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      try {
        parseTlogPolicyBytes(b);
      } catch (e) {
        assert.ok(e instanceof RemembrancerError && e.code === 'POLICY_INVALID', String(e));
      }
    }),
  );
  for (const notText of [undefined, null, 3, {}, ['quorum none\n']]) {
    assert.throws(() => parseTlogPolicy(notText as string), { code: 'POLICY_INVALID' });
  }
});
