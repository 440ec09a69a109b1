import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RemembrancerError } from '@vaultmesh/core';
import { EventStreamParser, type ServerSentEvent } from '../../src/client/event-stream-parser.js';

function parseAll(chunks: readonly string[], parser = new EventStreamParser()): ServerSentEvent[] {
  return chunks.flatMap((c) => parser.push(c));
}

/** Splits `text` at the given cut points (any positions, repeated or out of order). */
function cut(text: string, points: readonly number[]): string[] {
  const at = [...new Set(points.map((p) => p % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let start = 0;
  for (const p of at) {
    out.push(text.slice(start, p));
    start = p;
  }
  out.push(text.slice(start));
  return out;
}

describe('EventStreamParser: the HTML standard examples and rules', () => {
  test('data lines join with LF; event, id and comments as the standard says', () => {
    const events = parseAll([
      ': heartbeat\n',
      'id: 7\nevent: message\ndata: {"a":\ndata: 1}\n\n',
      'data:no space\n\n',
      'event: other\ndata\n\n',
    ]);
    assert.deepEqual(events, [
      { type: 'message', data: '{"a":\n1}', lastEventId: '7' },
      { type: 'message', data: 'no space', lastEventId: '7' },
      { type: 'other', data: '', lastEventId: '7' },
    ]);
  });

  test('a block without data dispatches nothing, but its id is kept', () => {
    const p = new EventStreamParser();
    assert.deepEqual(parseAll(['id: 3\n\n', 'event: x\n\n'], p), []);
    assert.equal(p.lastEventId, '3');
    assert.deepEqual(parseAll(['data: y\n\n'], p), [{ type: 'message', data: 'y', lastEventId: '3' }]);
  });

  test('CR, LF and CRLF all end lines, also when CRLF is split across chunks', () => {
    assert.deepEqual(parseAll(['data: a\r', '\ndata: b\r\r']), [{ type: 'message', data: 'a\nb', lastEventId: '' }]);
    assert.deepEqual(parseAll(['data: a\r\n\r\n']), [{ type: 'message', data: 'a', lastEventId: '' }]);
  });

  test('an id holding NUL is ignored; retry takes digits only; unknown fields are ignored', () => {
    const p = new EventStreamParser();
    parseAll(['id: 1\n', 'id: 2\0x\n', 'retry: 1500\n', 'retry: 15x\n', 'foo: bar\n', 'data: d\n\n'], p);
    assert.equal(p.lastEventId, '1');
    assert.equal(p.retryMs, 1500);
  });

  test('an unterminated event at the end is not dispatched', () => {
    assert.deepEqual(parseAll(['data: half\n']), []);
    assert.deepEqual(parseAll(['data: half']), []);
  });

  test('a line or an event beyond the bounds is refused with PAYLOAD_TOO_LARGE', () => {
    const limits = { maxLineLength: 16, maxDataLength: 20 };
    assert.throws(
      () => parseAll(['data: 0123456789', '0123456789'], new EventStreamParser(limits)),
      (e: unknown) => e instanceof RemembrancerError && e.code === 'PAYLOAD_TOO_LARGE',
    );
    assert.throws(
      () => parseAll(['data: 0123456789\ndata: 0123456789\n'], new EventStreamParser(limits)),
      (e: unknown) => e instanceof RemembrancerError && e.code === 'PAYLOAD_TOO_LARGE',
    );
  });
});

// Field values as a well-behaved server writes them: no line breaks, no NUL in ids.
const lineText = fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => s.replace(/[\r\n]/g, ''));
const eventArb = fc.record({
  type: fc.option(
    lineText.filter((s) => s !== ''),
    { nil: undefined },
  ),
  id: fc.option(
    lineText.map((s) => s.replace(/\0/g, '')),
    { nil: undefined },
  ),
  data: fc.array(lineText, { minLength: 1, maxLength: 4 }),
  comment: fc.option(lineText, { nil: undefined }),
});
const lineEnd = fc.constantFrom('\n', '\r', '\r\n');

describe('EventStreamParser: properties (the stream is network input)', () => {
  test('what a server writes is read back, whatever the line ends and however it is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(eventArb, { maxLength: 6 }),
        fc.array(lineEnd, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (events, ends, cuts) => {
          let n = 0;
          let previous = '';
          // After a lone CR, an LF would join it into one CRLF line end: the writer avoids that.
          const end = () => {
            const next = ends[n++ % ends.length]!;
            previous = previous === '\r' && next.startsWith('\n') ? '\r' : next;
            return previous;
          };
          let text = '';
          let lastId = '';
          const expected: ServerSentEvent[] = [];
          for (const e of events) {
            if (e.comment !== undefined) text += `:${e.comment}${end()}`;
            if (e.type !== undefined) text += `event: ${e.type}${end()}`;
            if (e.id !== undefined) {
              text += `id: ${e.id}${end()}`;
              lastId = e.id;
            }
            for (const d of e.data) text += `data: ${d}${end()}`;
            text += end();
            expected.push({ type: e.type ?? 'message', data: e.data.join('\n'), lastEventId: lastId });
          }
          assert.deepEqual(parseAll(cut(text, cuts)), parseAll([text]));
          assert.deepEqual(parseAll([text]), expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('any input: chunking never changes the events, and only PAYLOAD_TOO_LARGE is thrown', () => {
    const limits = { maxLineLength: 64, maxDataLength: 96 };
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom('a', ' ', ':', '\r', '\n', '\0', 'd', 'i', 'e', 't', 'v', 'n', 'é'),
          maxLength: 300,
        }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (text, cuts) => {
          const run = (chunks: string[]) => {
            try {
              return { events: parseAll(chunks, new EventStreamParser(limits)) };
            } catch (e) {
              assert.ok(e instanceof RemembrancerError && e.code === 'PAYLOAD_TOO_LARGE', String(e));
              return { refused: true };
            }
          };
          const whole = run([text]);
          const chunked = run(cut(text, cuts));
          assert.deepEqual(chunked, whole);
          for (const ev of whole.events ?? []) assert.ok(ev.data.length <= limits.maxDataLength);
        },
      ),
      { numRuns: 500 },
    );
  });
});
