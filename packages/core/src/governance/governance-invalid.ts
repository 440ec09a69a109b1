import { RemembrancerError } from '../errors.js';

/**
 * Runs a parser whose errors point inside a sub-document (a spec, a cadence) and rethrows its
 * POLICY_INVALID as GOVERNANCE_INVALID, the pointer prefixed by `prefix` (the sub-document's
 * place in the governance document), so one error code and one pointer space cover the document.
 */
export function underPointer<T>(prefix: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (!(e instanceof RemembrancerError) || e.code !== 'POLICY_INVALID') throw e;
    const inner = e.pointer ?? '';
    const pointer = prefix + inner;
    // The inner messages start with (or name) the inner pointer: rewrite it rather than repeat it.
    const message =
      inner !== '' && e.message.includes(inner) ? e.message.replace(inner, pointer) : `${pointer || '/'}: ${e.message}`;
    throw new RemembrancerError('GOVERNANCE_INVALID', message, { pointer, cause: e });
  }
}
