import { CryptoEngine, type ICryptoEngine } from 'pkijs';
import { crypto } from '../crypto/index.js';
import { RemembrancerError } from '../errors.js';
import { BoundedCache, bytesKey } from './bounded-cache.js';

type WebCrypto = typeof globalThis.crypto;
type ImportKeyArgs = Parameters<CryptoEngine['importKey']>;

let engine: ICryptoEngine | undefined;

function webCrypto(): WebCrypto {
  const found = (globalThis as { crypto?: WebCrypto }).crypto;
  if (found?.subtle === undefined) {
    throw new RemembrancerError('INTERNAL', 'WebCrypto (globalThis.crypto.subtle) is not available');
  }
  return found;
}

/** The bytes of a BufferSource (ArrayBuffer or a view), without copying. */
function viewOf(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

/**
 * pkijs's engine, remembering the public keys it imported. pkijs imports the signer's key again
 * for every signature it checks (through a JWK conversion: about a third of a token's
 * verification); an imported key is a function of the SubjectPublicKeyInfo bytes and the import
 * parameters alone, so the same bytes and parameters give the same key. Keys that fail to import
 * are not remembered.
 */
class KeyCachingEngine extends CryptoEngine {
  readonly #keys = new BoundedCache<object>(256);

  // Keys are held as `object`: WebCrypto's CryptoKey is a DOM type core's libs do not declare.
  override async importKey(...args: ImportKeyArgs): ReturnType<CryptoEngine['importKey']> {
    // Read as unknown: the parameter types are the DOM's, which core's libs do not declare.
    const [format, keyData, algorithm, extractable, keyUsages] = args as unknown[];
    const bytes = format === 'spki' ? viewOf(keyData) : undefined;
    if (bytes === undefined) return super.importKey(...args);
    const usages = [...(keyUsages as Iterable<unknown>)];
    const key = `${JSON.stringify([algorithm, extractable, usages])}|${bytesKey(bytes)}`;
    const known = this.#keys.get(key);
    if (known !== undefined) return known as never;
    const imported = (await super.importKey(...args)) as unknown as object;
    this.#keys.set(key, imported);
    return imported as never;
  }
}

/**
 * The pkijs crypto engine over WebCrypto (`globalThis.crypto`, present in browsers and in Node 20+
 * without an import). It is handed to every pkijs call explicitly rather than installed with
 * pkijs's setEngine: that engine is process-global state another library may replace.
 */
export function pkiEngine(): ICryptoEngine {
  engine ??= new KeyCachingEngine({
    name: 'webcrypto',
    // pkijs types this with the DOM's `Crypto`, which core's libs (ES2023, no DOM) do not declare.
    crypto: webCrypto() as never,
  });
  return engine;
}

/**
 * Digest (`SHA-1`, `SHA-256`, `SHA-384`, `SHA-512`) of `data`. SHA-256, nearly every token's, is
 * core's synchronous one: a WebCrypto digest is a round trip through a worker thread that costs
 * more than hashing the few hundred bytes of a TSTInfo or certificate.
 */
export async function webDigest(name: string, data: Uint8Array): Promise<Uint8Array> {
  if (name === 'SHA-256') return crypto.sha256(data);
  return new Uint8Array(await webCrypto().subtle.digest(name, data));
}
