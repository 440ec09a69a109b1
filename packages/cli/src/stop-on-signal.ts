import { errorMessage } from '@vaultmesh/core';
/**
 * Installs SIGINT/SIGTERM handlers at once — before a long-running command announces that it is
 * ready, so a signal sent right after that line still stops it cleanly — and resolves once `stop`
 * has run for the first signal.
 */
export function stopOnSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const handler = () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
      stop().then(resolve, (e: unknown) => {
        process.stderr.write(`error while stopping: ${errorMessage(e)}\n`);
        process.exitCode = 1;
        resolve();
      });
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}
