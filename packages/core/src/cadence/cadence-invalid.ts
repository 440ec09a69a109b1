import { RemembrancerError } from '../errors.js';

/** Every cadence rejection is POLICY_INVALID with the pointer of the offending member. */
export function cadenceInvalid(pointer: string, why: string): never {
  throw new RemembrancerError('POLICY_INVALID', `cadence ${pointer === '' ? '(document root)' : pointer} ${why}`, {
    pointer,
  });
}
