import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toHex } from '@vaultmesh/core';
import { runOpenssl } from './openssl-cli.js';

export interface OpensslVerifyInput {
  /** A TimeStampToken (CMS ContentInfo), as stored. */
  tokenDer: Uint8Array;
  /** The SHA-256 digest it should time-stamp. */
  digest: Uint8Array;
  caCertPem: string;
  tsaCertPem: string;
  /** A directory for scratch files (a subdirectory is made and removed). */
  dir: string;
}

/**
 * Asks OpenSSL whether it accepts a token: `openssl ts -verify -digest <hex> -in token.der
 * -token_in -CAfile ca.pem -untrusted tsa.pem`. A second, independent implementation of the
 * checks (signature, ESS binding, critical timeStamping EKU, chain, imprint) for tests to hold
 * our stored tokens to. `ok` is true when openssl exits 0 and says `Verification: OK`.
 */
export async function opensslVerifyToken(input: OpensslVerifyInput): Promise<{ ok: boolean; output: string }> {
  const scratch = await mkdtemp(join(input.dir, 'ts-verify-'));
  try {
    await Promise.all([
      writeFile(join(scratch, 'token.der'), input.tokenDer),
      writeFile(join(scratch, 'ca.pem'), input.caCertPem),
      writeFile(join(scratch, 'tsa.pem'), input.tsaCertPem),
    ]);
    const r = await runOpenssl(
      [
        'ts',
        '-verify',
        '-digest',
        toHex(input.digest),
        '-in',
        'token.der',
        '-token_in',
        '-CAfile',
        'ca.pem',
        '-untrusted',
        'tsa.pem',
      ],
      scratch,
    );
    return { ok: r.code === 0 && /Verification: OK/.test(r.output), output: r.output };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
