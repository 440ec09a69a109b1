/**
 * Waits for work under way to settle, at most `boundMs`; true if it all settled in time. For a
 * stop whose work chains several peer requests (each bounded by its own timeout, but not their
 * sum). The bound's timer is cleared either way, so a stop leaves no timer behind.
 */
export async function settleWithin(work: Iterable<Promise<unknown>>, boundMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), boundMs);
  });
  try {
    return await Promise.race([Promise.allSettled(work).then(() => true as const), bound]);
  } finally {
    clearTimeout(timer);
  }
}
