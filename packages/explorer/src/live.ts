import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api/api-error.ts';

/**
 * Figures refresh every second: with reads timing out at 1.5 s, what the page shows is never more
 * than ~2.5 s old, and a node that stops answering shows as unreachable within that.
 */
export const LIVE_INTERVAL_MS = 1000;

export interface Live<T> {
  data: T | undefined;
  error: ApiError | undefined;
  /** When the last read finished (ms since the epoch), failed or not. */
  updatedAt: number | undefined;
}

function asApiError(e: unknown): ApiError {
  return e instanceof ApiError ? e : new ApiError('INTERNAL', e instanceof Error ? e.message : String(e));
}

/**
 * Reads `load` now and again `intervalMs` after each read ends (never two at once), until the
 * component goes away or `key` changes. A failed read keeps the last data and sets `error`, so a
 * page can show both "unreachable since …" and what it last knew. `intervalMs` 0 reads once.
 */
export function useLive<T>(load: () => Promise<T>, key: string, intervalMs = LIVE_INTERVAL_MS): Live<T> {
  const [state, setState] = useState<Live<T>>({ data: undefined, error: undefined, updatedAt: undefined });
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setState({ data: undefined, error: undefined, updatedAt: undefined });
    const tick = async () => {
      let next: Partial<Live<T>>;
      try {
        next = { data: await loadRef.current(), error: undefined };
      } catch (e) {
        next = { error: asApiError(e) };
      }
      if (stopped) return;
      setState((s) => ({ ...s, ...next, updatedAt: Date.now() }));
      if (intervalMs > 0) timer = setTimeout(() => void tick(), intervalMs);
    };
    void tick();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [key, intervalMs]);
  return state;
}

/** The clock the page renders ages against, ticking with the live refresh. */
export function useNow(intervalMs = LIVE_INTERVAL_MS): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now;
}
