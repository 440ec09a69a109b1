/** @jsxRuntime automatic @jsxImportSource preact */
import { HEALTH_ICON, HEALTH_WORD, type Health } from '../model/health.ts';

/** A status by icon and word, coloured by class: readable without colour and by screen readers. */
export function StatusBadge({ health, label }: { health: Health; label?: string }) {
  return (
    <span class={`status status-${health}`} data-health={health}>
      <span aria-hidden="true">{HEALTH_ICON[health]}</span> {label ?? HEALTH_WORD[health]}
    </span>
  );
}
