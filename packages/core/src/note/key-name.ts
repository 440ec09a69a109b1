import { RemembrancerError, type ErrorCode } from '../errors.js';

// https://c2sp.org/signed-note#format: "Key names MUST be non-empty and MUST NOT contain any Unicode
// spaces or plus (U+002B) characters." Unicode spaces are the White_Space property (this includes
// U+0085 and the U+2000 block, which JavaScript's \s does not match exactly). Control characters
// below U+0020 and lone surrogates are excluded too: the first may not appear anywhere in a note,
// the second cannot be encoded as UTF-8, so a name holding either could never match a signature.
const KEY_NAME = /^[^\p{White_Space}+\u0000-\u001f\p{Cs}]+$/u;

export function isValidKeyName(name: string): boolean {
  return typeof name === 'string' && KEY_NAME.test(name);
}

export function assertKeyName(name: string, code: ErrorCode): void {
  if (!isValidKeyName(name)) {
    throw new RemembrancerError(
      code,
      `invalid key name ${JSON.stringify(name)}: must be non-empty, without spaces, "+" or control characters`,
    );
  }
}
