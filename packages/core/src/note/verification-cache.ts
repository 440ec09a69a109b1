import { base64Encode } from '../encoding/index.js';

/**
 * Remembers (text, signature) pairs that already verified under one key. Receipts of the same batch
 * cite the same checkpoint, and an Ed25519 verification costs far more than everything else in a
 * receipt check, so verifying that checkpoint once instead of per receipt is what makes bulk
 * verification fast. The key is the exact signature and the exact text, so a hit means the very
 * same verification succeeded before; failures are never stored.
 */
export class VerificationCache {
  readonly #hits = new Map<string, true>();
  readonly #limit: number;

  constructor(limit = 256) {
    this.#limit = limit;
  }

  static readonly MAX_TEXT_LENGTH = 4096;

  key(text: string, signature: Uint8Array): string | undefined {
    if (text.length > VerificationCache.MAX_TEXT_LENGTH) return undefined;
    // Base64 has no newline, so the split point is unambiguous.
    return base64Encode(signature) + '\n' + text;
  }

  has(key: string | undefined): boolean {
    return key !== undefined && this.#hits.has(key);
  }

  add(key: string | undefined): void {
    if (key === undefined) return;
    if (this.#hits.size >= this.#limit) {
      // Evict the oldest entry (Map iterates in insertion order).
      const first = this.#hits.keys().next();
      if (first.done !== true) this.#hits.delete(first.value);
    }
    this.#hits.set(key, true);
  }
}
