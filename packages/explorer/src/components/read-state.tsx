/** @jsxRuntime automatic @jsxImportSource preact */
import type { ComponentChildren } from 'preact';
import type { Live } from '../live.ts';
import { formatUtc } from '../model/format.ts';
import { StatusBadge } from './status-badge.tsx';

/**
 * What a live read shows around its content: "loading" before the first answer, the node's error
 * (code and message) when a read fails, with the last good figures kept below it.
 */
export function ReadState<T>({
  live,
  what,
  children,
  absent,
}: {
  live: Live<T>;
  what: string;
  children: (data: T) => ComponentChildren;
  /** Shown instead of an error for this code (e.g. NOT_FOUND: "anchoring is not configured"). */
  absent?: { code: string; text: ComponentChildren };
}) {
  if (live.error && absent && live.error.code === absent.code) return <p class="absent">{absent.text}</p>;
  return (
    <>
      {live.error && (
        <p class="read-error" role="alert">
          <StatusBadge health="bad" label="Cannot read" /> {what}: <code>{live.error.code}</code> {live.error.message}
          {live.data !== undefined && live.updatedAt !== undefined && <> — showing what was read before</>}
        </p>
      )}
      {live.data === undefined ? !live.error && <p aria-busy="true">Reading {what}…</p> : children(live.data)}
    </>
  );
}

/** When figures were last read, for the page footer and tests. */
export function UpdatedAt({ at }: { at: number | undefined }) {
  return (
    <p class="updated" aria-live="off">
      Refreshed every second; last read {at === undefined ? 'not yet' : formatUtc(new Date(at).toISOString())}
    </p>
  );
}
