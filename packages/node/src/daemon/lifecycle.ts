import { errorMessage } from '@vaultmesh/core';
import type { LogEngineLogger } from '../log/logger.js';

/** One thing the daemon starts: how to stop it again. */
interface Started {
  readonly name: string;
  stop(): void | Promise<void>;
}

/**
 * The daemon's components, started in order and stopped in reverse. Each step that opens or
 * starts something registers how to undo it at once, so a failure at any step stops exactly what
 * had started, and `stop()` leaves nothing running: no timer, no subscription, no open file or
 * socket. Stopping goes on past a component that fails to stop (the rest still closes), and the
 * first such failure is rethrown at the end.
 */
export class Lifecycle {
  readonly #started: Started[] = [];
  #stopping: Promise<void> | undefined;

  constructor(
    private readonly logger?: LogEngineLogger,
    /** Observes each step before it runs (start-up progress; tests inject failures here). */
    private readonly onStep?: (name: string) => void,
  ) {}

  /** Runs `open` (which opens or starts something) and remembers how to stop what it returned. */
  async open<T>(name: string, open: () => T | Promise<T>, stop: (value: T) => void | Promise<void>): Promise<T> {
    if (this.#stopping) throw new Error(`cannot start ${name}: the node is stopping`);
    this.onStep?.(name);
    const value = await open();
    this.#started.push({ name, stop: () => stop(value) });
    return value;
  }

  /** Names the steps started so far, in order (for diagnostics and tests). */
  started(): string[] {
    return this.#started.map((s) => s.name);
  }

  /** Stops every started component in reverse order, once; later calls wait for the same stop. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stopAll();
    return this.#stopping;
  }

  async #stopAll(): Promise<void> {
    let first: Error | undefined;
    for (const component of this.#started.reverse()) {
      try {
        await component.stop();
      } catch (e) {
        this.logger?.error({ component: component.name, err: errorMessage(e) }, 'stopping a component failed');
        first ??= e instanceof Error ? e : new Error(errorMessage(e));
      }
    }
    this.#started.length = 0;
    if (first !== undefined) throw first;
  }
}
