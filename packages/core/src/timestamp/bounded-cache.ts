import { base64Encode } from '../encoding/index.js';

/**
 * A memo of a pure function's results, holding at most `limit` entries (the least recently used
 * is dropped first). Only deterministic results go in: the decoding of given bytes, a key imported
 * from given bytes, a path validated between given certificates. Keys are built from the exact
 * input bytes (bytesKey), so a hit means the same input, never a similar one.
 */
export class BoundedCache<V> {
  readonly #entries = new Map<string, V>();

  constructor(readonly limit: number) {}

  get(key: string): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      // Re-inserting moves the entry to the end of the Map's order: the most recently used.
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.limit) this.#entries.delete(this.#entries.keys().next().value!);
  }

  clear(): void {
    this.#entries.clear();
  }
}

/** A cache key for a list of byte strings: exact, and unambiguous (each part is length-prefixed). */
export function bytesKey(...parts: readonly Uint8Array[]): string {
  return parts.map((p) => `${p.length}:${base64Encode(p)}`).join('|');
}
