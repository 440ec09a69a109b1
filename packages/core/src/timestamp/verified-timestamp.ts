/** What a caller expects of a time-stamp token: the checks of verifyTimestampToken are against it. */
export interface TimestampExpectation {
  /** SHA-256 of the time-stamped data (32 bytes): the token's messageImprint must carry exactly this. */
  digest: Uint8Array;
  /** The nonce of the request; when given the token must carry the same value (RFC 3161 §2.4.2). */
  nonce?: bigint;
  /** PEM certificates (one or more per string): the TSA certificate must chain to one of them. */
  trustAnchorsPem: readonly string[];
  /** The TSA policy the token must have been issued under (dotted decimal), when given. */
  policyOid?: string;
  /** Bounds of genTime in milliseconds since the epoch (inclusive), when given. */
  genTimeWindow?: { notBeforeMs: number; notAfterMs: number };
}

/** A time-stamp token that passed every check, with the fields a federation receipt records. */
export interface VerifiedTimestamp {
  /** The token (a CMS ContentInfo of SignedData over TSTInfo), exactly as received. */
  tokenDer: Uint8Array;
  genTime: Date;
  /** genTime as an RFC 3339 UTC timestamp (`Z`; milliseconds only when the TSA gave them). */
  genTimeIso: string;
  /** TSTInfo serialNumber in decimal (unique per token of one TSA, RFC 3161 §2.4.2). */
  serialNumber: string;
  /** The TSA policy the token was issued under (dotted decimal). */
  policyOid: string;
  /** Subject of the TSA certificate that signed the token (RFC 4514 string form). */
  tsaSubject: string;
}
