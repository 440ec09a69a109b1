/**
 * The crypto primitives core needs. Two implementations exist and are picked by the `#crypto`
 * package import condition: node:crypto on the server (OpenSSL, fast Ed25519) and @noble in the
 * browser, so core itself never imports a Node built-in.
 */
export interface CryptoProvider {
  sha256(data: Uint8Array): Uint8Array;
  /** SHA-256 over the concatenation of the parts, without building the concatenation. */
  sha256Parts(parts: readonly Uint8Array[]): Uint8Array;
  /** Ed25519 public key (32 bytes) from a 32-byte private seed. */
  ed25519PublicKey(seed: Uint8Array): Uint8Array;
  /** Ed25519 signature (64 bytes) of message by the 32-byte private seed. */
  ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array;
  /** True iff signature is a valid Ed25519 signature of message by the 32-byte public key. */
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  randomBytes(length: number): Uint8Array;
}
