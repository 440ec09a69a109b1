import { CryptoEngine, type ICryptoEngine } from 'pkijs';
import { RemembrancerError } from '../errors.js';

type WebCrypto = typeof globalThis.crypto;

let engine: ICryptoEngine | undefined;

function webCrypto(): WebCrypto {
  const found = (globalThis as { crypto?: WebCrypto }).crypto;
  if (found?.subtle === undefined) {
    throw new RemembrancerError('INTERNAL', 'WebCrypto (globalThis.crypto.subtle) is not available');
  }
  return found;
}

/**
 * The pkijs crypto engine over WebCrypto (`globalThis.crypto`, present in browsers and in Node 20+
 * without an import). It is handed to every pkijs call explicitly rather than installed with
 * pkijs's setEngine: that engine is process-global state another library may replace.
 */
export function pkiEngine(): ICryptoEngine {
  engine ??= new CryptoEngine({
    name: 'webcrypto',
    // pkijs types this with the DOM's `Crypto`, which core's libs (ES2023, no DOM) do not declare.
    crypto: webCrypto() as never,
  });
  return engine;
}

/** WebCrypto digest (`SHA-1`, `SHA-256`, `SHA-384`, `SHA-512`) of `data`. */
export async function webDigest(name: string, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await webCrypto().subtle.digest(name, data));
}
