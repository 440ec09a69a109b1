import { test } from 'node:test';
import assert from 'node:assert/strict';
import { h } from 'preact';
import { renderToString } from 'preact-render-to-string';
import { StatusBadge } from '../src/components/status-badge.tsx';
import { KeyValues } from '../src/components/key-values.tsx';
import { ReadState } from '../src/components/read-state.tsx';
import { ApiError } from '../src/api/api-error.ts';
import type { Live } from '../src/live.ts';

test('a status is an icon and a word as well as a colour class', () => {
  const html = renderToString(h(StatusBadge, { health: 'bad', label: 'Unreachable' }));
  assert.equal(
    html,
    '<span class="status status-bad" data-health="bad"><span aria-hidden="true">✖</span> Unreachable</span>',
  );
  assert.match(renderToString(h(StatusBadge, { health: 'ok' })), /✔<\/span> OK/);
});

test('figures are a definition list', () => {
  assert.equal(
    renderToString(h(KeyValues, { items: [['Size', '3 entries']] })),
    '<dl class="kv"><div><dt>Size</dt><dd>3 entries</dd></div></dl>',
  );
});

test('a read shows loading, its data, its error with the last data kept, or the absent text', () => {
  const render = (live: Live<string>, absent?: { code: string; text: string }) =>
    renderToString(
      h(ReadState<string>, {
        live,
        what: 'the thing',
        children: (d: string) => h('p', null, `data ${d}`),
        ...(absent ? { absent } : {}),
      }),
    );
  const none = { data: undefined, error: undefined, updatedAt: undefined };
  assert.match(render(none), /aria-busy="true">Reading the thing…/);
  assert.equal(render({ ...none, data: 'x', updatedAt: 1 }), '<p>data x</p>');
  const failed = render({ data: 'old', error: new ApiError('UNREACHABLE', 'no answer'), updatedAt: 2 });
  assert.match(failed, /role="alert"/);
  assert.match(failed, /<code>UNREACHABLE<\/code> no answer — showing what was read before/);
  assert.match(failed, /<p>data old<\/p>/);
  const absent = render(
    { ...none, error: new ApiError('NOT_FOUND', 'nope') },
    { code: 'NOT_FOUND', text: 'Not configured here.' },
  );
  assert.equal(absent, '<p class="absent">Not configured here.</p>');
});
