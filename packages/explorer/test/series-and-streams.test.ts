import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seriesCharts } from '../src/model/series-charts.ts';
import { outgoingHealth, streamTotals } from '../src/model/message-streams.ts';

test('a node series becomes three charts with their newest values in words', () => {
  const charts = seriesCharts({
    interval_s: 10,
    t: [1000, 1010, 1020],
    append_rate: [0, 12.5, 30],
    checkpoint_latency_ms_p50: [null, 480, 510],
    checkpoint_latency_ms_max: [null, 900, null],
    anchoring_lag_s: { 'rfc3161:local': [3, 8, 2], 'btc:regtest': [null, null, null] },
  });
  assert.deepEqual(
    charts.map((c) => [c.id, c.lines.map((l) => l.label)]),
    [
      ['append-rate', ['entries/s']],
      ['checkpoint-latency', ['p50', 'max']],
      ['anchoring-lag', ['rfc3161:local', 'btc:regtest']],
    ],
  );
  assert.equal(charts[1]!.summary, 'p50: 510 ms; max: 900 ms');
  assert.equal(charts[2]!.summary, 'rfc3161:local: 2 s; btc:regtest: none');
  const empty = seriesCharts({
    interval_s: 10,
    t: [],
    append_rate: [],
    checkpoint_latency_ms_p50: [],
    checkpoint_latency_ms_max: [],
    anchoring_lag_s: {},
  });
  assert.equal(empty[0]!.summary, 'no samples yet (one is taken every interval)');
  assert.equal(empty[2]!.summary, 'no anchor targets on this node');
});

test('stream totals add every readable node and name the others', () => {
  const out = { source: { node: 'a', namespace: 'x:a' }, target: { node: 'b', namespace: 'x:b' }, last_seq: 9 };
  const t = streamTotals([
    {
      node: 'a',
      streams: {
        node: 'a',
        outgoing: [{ ...out, queued: 1, sealed: 2, delivered: 5, refused: 1, expired: 0 }],
        incoming: [],
      },
    },
    {
      node: 'b',
      streams: {
        node: 'b',
        outgoing: [],
        incoming: [{ ...out, accepted: 5, held: 2, refused: 1, expired: 0 }],
      },
    },
    { node: 'c', error: 'UNREACHABLE' },
  ]);
  assert.deepEqual(t, { streams: 1, queued: 3, delivered: 5, refused: 1, expired: 0, held: 2, unreadable: ['c'] });
  assert.equal(outgoingHealth({ queued: 4, sealed: 0, refused: 0, expired: 0 }), 'ok');
  assert.equal(outgoingHealth({ queued: 0, sealed: 0, refused: 0, expired: 1 }), 'warn');
});
