import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RemembrancerError } from '@vaultmesh/core';
import { openssl } from './openssl-cli.js';

/**
 * The policy of dev TSA tokens: a test OID under 1.3.6.1.4.1.32473, the enterprise number RFC 5612
 * reserves for documentation and examples. It names no real policy and must never be trusted as one.
 */
export const DEV_TSA_POLICY_OID = '1.3.6.1.4.1.32473.3161.1';

/** Validity of a dev CA and TSA certificate: one run of a federation, with margin. */
const VALIDITY_DAYS = 30;

/** Files and PEMs of a dev TSA's CA and signing certificate, and its `openssl ts` configuration. */
export interface DevTsaCredentials {
  caCertPem: string;
  tsaCertPem: string;
  caCertFile: string;
  tsaCertFile: string;
  /** The `openssl ts -reply -config` file. */
  configFile: string;
}

// Extensions of RFC 5280 for the CA, and of RFC 3161 §2.3 for the TSA: "The corresponding
// certificate MUST contain only one instance of the extended key usage field extension ... with
// KeyPurposeID having value: id-kp-timeStamping. This extension MUST be critical."
const X509_CONFIG = `[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ ca_ext ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ tsa_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

/** Subject attribute values may not carry the characters of openssl's `-subj` syntax. */
function subjectValue(name: string): string {
  return name.replace(/[/\\=+,]/g, '-');
}

/**
 * Makes a fresh dev TSA in `dir` with the `openssl` command line: an EC P-256 CA (self-signed), a
 * TSA key and certificate signed by it with the critical timeStamping extended key usage, and an
 * `openssl ts` configuration (serial file, policy DEV_TSA_POLICY_OID, SHA-256 imprints only,
 * SHA-256 signatures, ESSCertIDv2 with SHA-256 per RFC 5816, accuracy 1 s, the TSA name in tokens).
 * Private keys stay in `dir` (mode 0700); nothing here is fit for production trust.
 */
export async function createDevTsaCredentials(dir: string, name: string): Promise<DevTsaCredentials> {
  // The directory is written into the openssl configuration, where these characters have meanings.
  if (/[$\\"#\n\r]/.test(dir)) {
    throw new RemembrancerError(
      'INVALID_ARGUMENT',
      `dev TSA directory ${JSON.stringify(dir)} has characters openssl configs interpret`,
    );
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = (f: string): string => join(dir, f);
  await writeFile(path('x509.cnf'), X509_CONFIG, { mode: 0o600 });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const cn = subjectValue(name);
  await openssl(
    [
      'req',
      '-x509',
      '-config',
      'x509.cnf',
      '-extensions',
      'ca_ext',
      ...ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      String(VALIDITY_DAYS),
      '-sha256',
      '-subj',
      `/CN=${cn} dev TSA CA`,
    ],
    dir,
    'make the dev TSA CA',
  );
  await openssl(
    [
      'req',
      '-new',
      '-config',
      'x509.cnf',
      ...ec,
      '-keyout',
      'tsa.key',
      '-out',
      'tsa.csr',
      '-subj',
      `/CN=${cn} dev TSA`,
    ],
    dir,
    'make the dev TSA key',
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      'tsa.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAserial',
      'ca.srl',
      '-CAcreateserial',
      '-days',
      String(VALIDITY_DAYS),
      '-sha256',
      '-extfile',
      'x509.cnf',
      '-extensions',
      'tsa_ext',
      '-out',
      'tsa.pem',
    ],
    dir,
    'sign the dev TSA certificate',
  );
  await writeFile(path('tsa.serial'), '01\n', { mode: 0o600 });
  const configFile = path('tsa.cnf');
  // https://docs.openssl.org/3.0/man1/openssl-ts/#configuration-file-options
  await writeFile(
    configFile,
    `[ tsa ]
default_tsa = dev_tsa
[ dev_tsa ]
serial = ${path('tsa.serial')}
crypto_device = builtin
signer_cert = ${path('tsa.pem')}
signer_key = ${path('tsa.key')}
signer_digest = sha256
default_policy = ${DEV_TSA_POLICY_OID}
digests = sha256
accuracy = secs:1
clock_precision_digits = 0
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
`,
    { mode: 0o600 },
  );
  return {
    caCertPem: await readFile(path('ca.pem'), 'utf8'),
    tsaCertPem: await readFile(path('tsa.pem'), 'utf8'),
    caCertFile: path('ca.pem'),
    tsaCertFile: path('tsa.pem'),
    configFile,
  };
}
