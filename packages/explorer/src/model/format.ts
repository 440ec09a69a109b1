// Plain-text renderings of figures: the same text is read by people, screen readers and tests.

/** A duration as people read it: "850 ms", "12 s", "4 min 5 s", "3 h 2 min", "2 d 4 h". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const neg = ms < 0 ? '−' : '';
  const a = Math.abs(ms);
  if (a < 1000) return `${neg}${Math.round(a)} ms`;
  const s = Math.floor(a / 1000);
  if (s < 60) return `${neg}${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${neg}${m} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${neg}${h} h${m % 60 ? ` ${m % 60} min` : ''}`;
  const d = Math.floor(h / 24);
  return `${neg}${d} d${h % 24 ? ` ${h % 24} h` : ''}`;
}

/** How long ago `iso` was, seen at `now`: "12 s ago", "in 3 s" for a time still to come. */
export function formatAge(iso: string | null | undefined, now: number): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'unknown';
  const d = now - t;
  return d >= 0 ? `${formatDuration(d)} ago` : `in ${formatDuration(-d)}`;
}

/** A count with thousands separators, fixed to English so the page reads the same everywhere. */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return Math.round(n).toLocaleString('en-US');
}

/** A rate per second with at most one decimal. */
export function formatRate(perSecond: number | null | undefined): string {
  if (perSecond === null || perSecond === undefined || !Number.isFinite(perSecond)) return '—';
  return `${perSecond >= 100 ? formatCount(perSecond) : perSecond.toFixed(1)}/s`;
}

/** The start of a hash or key, enough to tell two apart on screen; the full value goes in a title. */
export function shortHash(value: string, keep = 12): string {
  return value.length <= keep + 1 ? value : `${value.slice(0, keep)}…`;
}

/** An RFC 3339 time shown in UTC, to the second: "2026-12-06 00:07:10 UTC". */
export function formatUtc(iso: string | null | undefined): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return `${new Date(t).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
