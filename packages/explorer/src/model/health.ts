/**
 * A status as the page shows it: never by colour alone — each level has its own icon and word,
 * and the colour (a CSS class) only repeats them.
 */
export type Health = 'ok' | 'warn' | 'bad' | 'unknown';

export const HEALTH_ICON: Record<Health, string> = { ok: '✔', warn: '⚠', bad: '✖', unknown: '?' };
export const HEALTH_WORD: Record<Health, string> = { ok: 'OK', warn: 'Warning', bad: 'Failing', unknown: 'Unknown' };

/** The worst of several levels: one failing part makes the whole failing. */
export function worst(levels: readonly Health[]): Health {
  const order: Health[] = ['bad', 'warn', 'unknown', 'ok'];
  for (const l of order) if (levels.includes(l)) return l;
  return 'unknown';
}
