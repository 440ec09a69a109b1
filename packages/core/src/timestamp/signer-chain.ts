import { CertificateChainValidationEngine, type Certificate, type ICryptoEngine } from 'pkijs';
import { bytesEqual } from '../encoding/index.js';
import { failCheck } from './timestamp-check.js';
import type { TokenStructure } from './token-structure.js';

/**
 * Validates the path from the TSA certificate to one of the trust anchors with pkijs (RFC 5280
 * §6: signatures, name chaining, CA flags of the issuers), every certificate valid at genTime: a
 * token stays verifiable after its TSA certificate expires, but it must have been valid when the
 * TSA signed. The token's other certificates may serve as intermediates; they are not trusted.
 */
export async function checkSignerChain(
  token: TokenStructure,
  anchors: readonly Certificate[],
  engine: ICryptoEngine,
): Promise<void> {
  if (anchors.some((a) => bytesEqual(new Uint8Array(a.tbsView), new Uint8Array(token.signer.cert.tbsView)))) {
    // pkijs would drop the end entity as a duplicate of the anchor and validate another certificate.
    failCheck('TIMESTAMP_UNTRUSTED', 'chain', 'the TSA certificate is itself a trust anchor; trust its issuing CA');
  }
  const intermediates = token.certificates.filter((c) => !bytesEqual(c.der, token.signer.der)).map((c) => c.cert);
  // pkijs takes the last of `certs` (after removing duplicates of earlier entries) as the end entity.
  const chain = new CertificateChainValidationEngine({
    trustedCerts: [...anchors],
    certs: [...intermediates, token.signer.cert],
    checkDate: token.tstInfo.genTime,
  });
  let result;
  try {
    result = await chain.verify({}, engine);
  } catch (e) {
    const why = e instanceof Error ? e.message : String((e as { resultMessage?: unknown })?.resultMessage ?? e);
    failCheck('TIMESTAMP_UNTRUSTED', 'chain', `the TSA certificate does not chain to a trust anchor: ${why}`, e);
  }
  if (result.result !== true) {
    failCheck(
      'TIMESTAMP_UNTRUSTED',
      'chain',
      `the TSA certificate does not chain to a trust anchor at genTime: ${result.resultMessage || 'no valid path'}`,
    );
  }
  const endEntity = result.certificatePath?.[0];
  if (
    endEntity === undefined ||
    !bytesEqual(new Uint8Array(endEntity.tbsView), new Uint8Array(token.signer.cert.tbsView))
  ) {
    failCheck('TIMESTAMP_UNTRUSTED', 'chain', 'the validated path does not start at the TSA certificate');
  }
}
