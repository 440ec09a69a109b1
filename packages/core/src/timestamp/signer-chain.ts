import { CertificateChainValidationEngine, type Certificate, type ICryptoEngine } from 'pkijs';
import { bytesEqual } from '../encoding/index.js';
import { BoundedCache, bytesKey } from './bounded-cache.js';
import { failCheck } from './timestamp-check.js';
import type { TokenStructure } from './token-structure.js';
import type { TrustAnchors } from './trust-anchors.js';

/**
 * Paths pkijs validated, by the exact bytes they were validated from: the TSA certificate, the
 * token's other certificates (in order) and the trust anchors. Path validation apart from dates
 * (signatures, name chaining, CA flags) depends on those bytes alone, so a path once found stays
 * valid for them; the dates are checked again for every token (validAt). Failures are not
 * remembered: a token that failed is validated again in full.
 */
const validatedPaths = new BoundedCache<readonly Certificate[]>(64);

/** pkijs's date test of a path (every certificate, the anchor included, valid at `date`). */
function validAt(path: readonly Certificate[], date: Date): boolean {
  return path.every((c) => c.notBefore.value <= date && c.notAfter.value >= date);
}

/**
 * Validates the path from the TSA certificate to one of the trust anchors with pkijs (RFC 5280
 * §6: signatures, name chaining, CA flags of the issuers), every certificate valid at genTime: a
 * token stays verifiable after its TSA certificate expires, but it must have been valid when the
 * TSA signed. The token's other certificates may serve as intermediates; they are not trusted.
 */
export async function checkSignerChain(
  token: TokenStructure,
  anchors: TrustAnchors,
  engine: ICryptoEngine,
): Promise<void> {
  const signer = token.signer;
  if (anchors.certificates.some((a) => bytesEqual(new Uint8Array(a.tbsView), new Uint8Array(signer.cert.tbsView)))) {
    // pkijs would drop the end entity as a duplicate of the anchor and validate another certificate.
    failCheck('TIMESTAMP_UNTRUSTED', 'chain', 'the TSA certificate is itself a trust anchor; trust its issuing CA');
  }
  const others = token.certificates.filter((c) => !bytesEqual(c.der, signer.der));
  const pathKey = `${bytesKey(signer.der, ...others.map((c) => c.der))}|anchors|${anchors.key}`;
  const genTime = token.tstInfo.genTime;
  const known = validatedPaths.get(pathKey);
  if (known !== undefined && validAt(known, genTime)) return;
  // pkijs takes the last of `certs` (after removing duplicates of earlier entries) as the end entity.
  const chain = new CertificateChainValidationEngine({
    trustedCerts: [...anchors.certificates],
    certs: [...others.map((c) => c.cert), signer.cert],
    checkDate: genTime,
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
  const path = result.certificatePath;
  const endEntity = path?.[0];
  if (endEntity === undefined || !bytesEqual(new Uint8Array(endEntity.tbsView), new Uint8Array(signer.cert.tbsView))) {
    failCheck('TIMESTAMP_UNTRUSTED', 'chain', 'the validated path does not start at the TSA certificate');
  }
  validatedPaths.set(pathKey, [...path!]);
}
